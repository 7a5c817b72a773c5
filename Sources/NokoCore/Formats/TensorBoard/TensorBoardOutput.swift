import Foundation
import NokoPlatform
import Logging
import Synchronization

/// TensorBoard scalars, written without Python or TensorFlow.
///
/// Every row at ``level`` (INFO by default) and above becomes one `Event` in
/// `events.out.tfevents.<unix time>.<host>.<pid>.<n>` in the run directory: the row's
/// Unix time as `wall_time`, its step, and one scalar per numeric key, tagged
/// `<table>/<key>` with `:` replaced by `_` (TensorBoard's tag rules). Booleans become 0
/// and 1; strings and nulls are skipped; NaN and ±infinity are written as they are
/// (TensorBoard shows them). Scalars are 32-bit floats, as in every TensorBoard writer.
///
/// The file is a view of the journal (`noko.ndjson`): ``write(_:)`` only keeps the row, and
/// ``flush()`` (every flush interval, from the logger's flusher) encodes the rows and
/// appends them as whole TFRecords. So a `kill -9` leaves a readable file that trails the
/// journal by at most one interval. When more than ``maxPendingRows`` rows or
/// ``maxPendingValues`` values are waiting, ``write(_:)`` flushes itself, which bounds memory.
///
/// A flush that cannot write (a full disk) keeps the encoded records, up to ``maxHeldBytes``,
/// and appends them first at the next flush, so the file catches up; rows beyond that bound
/// are left out of the file (counted in ``rowsLost``; the journal has them).
///
/// ``writeHyperparameters(_:metricTags:startTime:)`` adds the run's config for TensorBoard's
/// HParams dashboard, and ``writeSessionEnd(status:endTime:)`` how the run ended.
package final class TensorBoardOutput: JournalView {
    /// `"tensorboard"`.
    package let name = "tensorboard"
    /// The lowest level written.
    package let level: LogLevel
    /// The event file.
    package let fileURL: URL

    /// Rows waiting for ``flush()`` beyond which ``write(_:)`` flushes by itself.
    package static let maxPendingRows = 65_536
    /// Values (across waiting rows) beyond which ``write(_:)`` flushes by itself: about
    /// 24 MiB of retained cells.
    package static let maxPendingValues = 1 << 20

    /// Encoded bytes written to the file at a time during a flush.
    private static let writeChunkSize = 1 << 20
    /// Encoded records kept while the file cannot be written; rows beyond are left out.
    package static let maxHeldBytes = 32 << 20

    private let messages: Logging.Logger
    private let clock: @Sendable () -> Double
    private let pending = Mutex(PendingRows())
    private let sink: Mutex<EventSink>

    private struct PendingRows {
        var rows: [SummarizedRow] = []
        var valueCount = 0
        var isClosed = false
    }

    /// What only one flush at a time may touch: the file, the encoder and its buffer.
    private struct EventSink {
        /// Created exclusively (`O_EXCL`, so two writers never share an event file) and
        /// append-only: a failed append is cut back off, so the file stays whole records.
        var file: AppendOnlyFile
        var encoder = ScalarEventEncoder()
        /// Records encoded and not yet in the file: kept when an append fails.
        var records = TFRecordWriter(capacity: 1 << 16)
        /// The rows among ``records``.
        var heldRows = 0
        /// Rows left out of the file for good.
        var rowsLost = 0
        var isClosed = false

        mutating func writeRecords() throws(NokoSystemError) {
            try file.append(records.bytes)
            records.removeAll()
            heldRows = 0
        }
    }

    /// Creates the event file in `directory` (made if missing) and writes its first record.
    ///
    /// - Parameters:
    ///   - directory: The run directory.
    ///   - level: The lowest level written; INFO, as in Python noko.
    ///   - messages: Where warnings go (noko's own logger, label `noko`).
    ///   - hostName: The host in the file name; the machine's host name by default.
    ///   - processID: The pid in the file name; this process's by default.
    ///   - clock: Unix time in seconds, for the file name and the first event; tests inject one.
    package init(
        directory: URL, level: LogLevel = .info, messages: Logging.Logger = NokoMessages.logger(), hostName: String? = nil,
        processID: Int32? = nil, clock: (@Sendable () -> Double)? = nil
    ) throws {
        let clock = clock ?? { Date().timeIntervalSince1970 }
        self.level = level
        self.messages = messages
        self.clock = clock
        try FileSystem.makeDirectories(directory.path)

        let now = clock()
        let host = (hostName ?? Self.machineHostName()).replacingOccurrences(of: "/", with: "_")
        let prefix = RunLayout.tensorBoardEventsPrefix + "\(Int64(now.rounded(.down))).\(host).\(processID ?? CurrentProcess.id)."
        // The counter makes names unique within the process; O_EXCL settles races with others.
        var created: (file: FileDescriptor, url: URL)?
        while created == nil {
            let url = directory.appendingPathComponent(prefix + String(Self.fileCounter.add(1)))
            created = try Self.createExclusively(url.path).map { ($0, url) }
        }
        let (file, url) = created!
        fileURL = url

        var header = TFRecordWriter(capacity: 64)
        header.appendRecord { TensorBoardEvents.writeFileVersionEvent(wallTime: now, to: &$0) }
        var events = AppendOnlyFile(file, size: 0)
        do {
            try events.append(header.bytes)
        } catch {
            file.closeIgnoringErrors()
            throw error
        }
        sink = Mutex(EventSink(file: events))
    }

    private static let fileCounter = AtomicCounter()

    /// The new event file at `path`, or nil when another writer has one of that name.
    private static func createExclusively(_ path: String) throws(NokoSystemError) -> FileDescriptor? {
        do {
            return try FileDescriptor.open(path, .createNewAppending)
        } catch {
            if error.code == NokoSystemError.fileExists { return nil }
            throw error
        }
    }

    deinit {
        sink.withLock { if !$0.isClosed { $0.file.descriptor.closeIgnoringErrors() } }
    }

    package var rowsLost: [String: Int] {
        let lost = sink.withLock { $0.rowsLost }
        return lost > 0 ? [fileURL.lastPathComponent: lost] : [:]
    }

    /// Keeps the row for the next ``flush()``.
    package func write(_ row: SummarizedRow) throws {
        let overBound = try pending.withLock { pending in
            guard !pending.isClosed else {
                throw TensorBoardOutputError(
                    "tensorboard: row of table '\(row.table)' at step \(row.step) arrived after close(); not written")
            }
            pending.rows.append(row)
            pending.valueCount += row.values.count
            return pending.rows.count >= Self.maxPendingRows || pending.valueCount >= Self.maxPendingValues
        }
        // The row is kept either way; a flush that fails here is reported by the next
        // regular one (the row is not lost, so this write did not fail).
        if overBound { try? flush() }
    }

    /// Encodes the waiting rows and appends them to the file as whole records.
    package func flush() throws {
        try drain(appending: nil)
    }

    /// The event files of the run's earlier processes lack the journal's rows after those
    /// they hold as scalar events: rows a killed process was keeping for its next flush.
    package func rowsMissingFromFiles() throws -> (SummarizedRow) throws -> Bool {
        let directory = fileURL.deletingLastPathComponent().path
        var held = 0
        for name in try FileSystem.contentsOfDirectory(directory) where name.hasPrefix(RunLayout.tensorBoardEventsPrefix) {
            held += try TensorBoardEventCount.scalarEvents(inFile: directory + "/" + name)
        }
        var seen = 0
        return { row in
            // A row without a number makes no event (``ScalarEventEncoder``).
            guard row.values.contains(where: { !$0.isNull && $0.stringValue == nil }) else { return false }
            seen += 1
            return seen > held
        }
    }

    /// Flushes, then `fsync`s and closes the file. Closing twice does nothing. Rows that
    /// still cannot be written are left out of the file (``rowsLost``).
    package func close() throws {
        pending.withLock { $0.isClosed = true }
        var failure: (any Error)?
        do {
            try drain(appending: nil)
        } catch {
            failure = error
        }
        let closing: NokoSystemError? = sink.withLock { sink in
            guard !sink.isClosed else { return nil }
            sink.isClosed = true
            sink.rowsLost += sink.heldRows
            sink.heldRows = 0
            sink.records.removeAll()
            // Closed even when the sync fails: the descriptor is released either way.
            var problem: NokoSystemError?
            do throws(NokoSystemError) { try sink.file.descriptor.sync() } catch { problem = error }
            do throws(NokoSystemError) { try sink.file.descriptor.close() } catch { problem = problem ?? error }
            return problem
        }
        if let failure = failure ?? closing { throw failure }
    }

    /// Writes the run's config for TensorBoard's HParams dashboard (the hparams plugin's
    /// `session_start_info` summary), after every row written so far.
    ///
    /// TensorBoard then lists the run with these values next to its metrics (the last value
    /// of each scalar tag). Ints and doubles become numbers, booleans booleans, strings
    /// strings; null values have no hparams type and are left out.
    ///
    /// - Parameters:
    ///   - hyperparameters: The flattened config, for example `[("opt/lr", 0.1), ("seed", 1)]`.
    ///   - metricTags: When given, also writes the plugin's `experiment` summary, which fixes
    ///     the dashboard's columns to these hyperparameters and these scalar tags. TensorBoard
    ///     uses the first experiment summary it finds for a whole log directory, so pass this
    ///     only when this run is the only one there or every run declares the same columns;
    ///     without it TensorBoard derives the columns from all runs' configs and scalar tags.
    ///   - startTime: Unix time of the start of the run; now by default.
    package func writeHyperparameters(
        _ hyperparameters: [(key: String, value: Scalar)], metricTags: [String]? = nil, startTime: Double? = nil
    ) throws {
        let time = startTime ?? clock()
        let experiment = metricTags.map {
            TensorBoardEvents.experimentContent(hyperparameters: hyperparameters, metricTags: $0, timeCreated: time)
        }
        let start = TensorBoardEvents.sessionStartContent(hyperparameters: hyperparameters, startTime: time)
        try drain { records in
            if let experiment {
                records.appendRecord {
                    TensorBoardEvents.writeHParamsEvent(
                        tag: TensorBoardEvents.experimentTag, pluginContent: experiment, wallTime: time, to: &$0)
                }
            }
            records.appendRecord {
                TensorBoardEvents.writeHParamsEvent(
                    tag: TensorBoardEvents.sessionStartInfoTag, pluginContent: start, wallTime: time, to: &$0)
            }
        }
    }

    /// Writes how the run ended (the hparams plugin's `session_end_info` summary), after every
    /// row written so far; the HParams dashboard shows it as the run's status.
    package func writeSessionEnd(status: TensorBoardSessionStatus, endTime: Double? = nil) throws {
        let time = endTime ?? clock()
        let end = TensorBoardEvents.sessionEndContent(status: status, endTime: time)
        try drain { records in
            records.appendRecord {
                TensorBoardEvents.writeHParamsEvent(
                    tag: TensorBoardEvents.sessionEndInfoTag, pluginContent: end, wallTime: time, to: &$0)
            }
        }
    }

    /// Encodes the waiting rows, then whatever `extra` appends, and writes it all; one
    /// drain at a time, so records reach the file in the order rows were written.
    private func drain(appending extra: ((inout TFRecordWriter) -> Void)?) throws {
        let (warnings, failure) = sink.withLock { sink -> ([String], (any Error)?) in
            let rows = pending.withLock { pending in
                defer {
                    pending.rows = []
                    pending.valueCount = 0
                }
                return pending.rows
            }
            guard !sink.isClosed else {
                let what = extra == nil ? "\(rows.count) rows" : "hyperparameters"
                return rows.isEmpty && extra == nil
                    ? ([], nil) : ([], TensorBoardOutputError("tensorboard: \(what) arrived after close(); not written"))
            }
            // After a failed append, the rest is encoded and kept (what an earlier failure kept
            // goes first), so the next drain appends it in order.
            var failure: NokoSystemError?
            for row in rows {
                if failure != nil && sink.records.bytes.count >= Self.maxHeldBytes {
                    sink.rowsLost += 1
                    continue
                }
                let records = sink.records.recordCount
                sink.encoder.appendEvent(for: row, to: &sink.records)
                // A row without a number (only strings) has no event: nothing of it is held.
                if sink.records.recordCount > records { sink.heldRows += 1 }
                if failure == nil && sink.records.bytes.count >= Self.writeChunkSize {
                    do throws(NokoSystemError) { try sink.writeRecords() } catch { failure = error }
                }
            }
            extra?(&sink.records)
            if failure == nil && sink.records.recordCount > 0 {
                do throws(NokoSystemError) { try sink.writeRecords() } catch { failure = error }
            }
            return (sink.encoder.takeWarnings(), failure)
        }
        for warning in warnings { messages.warning("\(warning)") }
        if let failure { throw failure }
    }

    private static func machineHostName() -> String {
        let name = CurrentProcess.hostName
        return name.isEmpty ? "localhost" : name
    }
}

/// A TensorBoard output problem, with a message naming what was lost and why.
package struct TensorBoardOutputError: Error, CustomStringConvertible {
    /// What went wrong.
    package let description: String

    init(_ description: String) {
        self.description = description
    }
}
