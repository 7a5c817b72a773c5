import Dispatch
import Foundation
import NokoPlatform
import Logging
import Synchronization

/// Writes each table to `<table>.parquet` in a directory, for pandas, polars, DuckDB and Spark.
///
/// Off by default: pass one to the logger, or set `NOKO_PARQUET=1` (see ``isEnabled(environment:)``).
/// Pure Swift, no Arrow or C library: a small Thrift compact encoder for the footer, PLAIN
/// and dictionary encodings, and a built-in Snappy codec.
///
/// **Columns.** `$step` (INT64), `$level` (INT64), `$utc_timestamp` (DOUBLE) and `$localtime`
/// (UTF8) come first, then the user's keys in the order they first appear, all nullable:
/// `.int` → INT64, `.double` → DOUBLE, `.bool` → BOOLEAN, `.string` → UTF8. A key that
/// appears mid-run becomes a new column, null in earlier rows. A key whose values change type
/// widens its column (boolean < int64 < double < string; see ``ParquetColumnType``), with
/// one warning; the rows already written are rewritten so the file keeps one type per column.
///
/// **When rows reach the file.** Rows are kept per table and written as one row group when
/// a table has ``rowGroupRows`` rows waiting (on a background queue, so ``write(_:)`` stays
/// cheap), at the first flush after its oldest waiting row is ``rowGroupInterval`` old, and
/// at ``close()``. The file is therefore a view that trails the journal by up to the
/// interval (plus one flush interval); `noko-run export --format parquet` rebuilds it from
/// the journal at any time.
///
/// **Readable while the run goes, and after a crash.** Each row group is appended together
/// with a fresh footer listing every row group so far, in one `pwrite`, so after each append
/// the file is a complete Parquet file with every row written, and a `kill -9` finds it
/// complete. An append cut short (power loss, a full disk, a write split by the kernel)
/// leaves a torn tail: ``ParquetReader`` (and `Noko.loadLogFile`) use the last valid footer
/// and get every complete row group; reopening the file (a resumed run) cuts the torn tail
/// off (see ``repair(file:)``). Superseded footers and small row groups are cleaned up by a
/// compaction (a rewrite to a hidden file, renamed over the old one) when the dead footers
/// outweigh the data or the file has doubled since the last compaction, and at ``close()``
/// when its row groups are small.
///
/// **When the disk is full.** A row group that cannot be written (or a file that cannot be
/// opened) keeps its rows, and they go into the next row group of that table, written at the
/// next flush, so the file catches up when space is back; past ``maxHeldRows`` rows of a table,
/// later rows are left out of its file (counted in ``rowsLost``; the journal has them).
package final class ParquetOutput: JournalView {
    package let name = "parquet"
    package let level: LogLevel
    /// Where the `<table>.parquet` files go.
    package let directory: URL
    /// Rows per row group while logging. 10,000 rows of 20 columns keep about 6 MB of rows in
    /// memory per table, and make row groups large enough that the footer (rewritten at each
    /// append) stays small next to the data.
    package let rowGroupRows: Int
    /// The longest a row waits before its row group is written (checked at each flush).
    /// Every append rewrites the footer, which grows with the number of row groups, so a
    /// shorter interval makes the file fresher at the price of more rewriting; 10 s keeps a
    /// slowly logged table's overhead negligible.
    package let rowGroupInterval: Duration
    /// The codec of every page.
    package let compression: ParquetCompression
    /// Row groups are merged up to this many rows when the file is compacted.
    package let compactedRowGroupRows: Int

    /// Rows of one table kept while its file cannot be written; later rows are left out.
    package static let maxHeldRows = 131_072

    private let messages: Logger
    /// Rows left out of a file for good, per file name.
    private let lost = Mutex<[String: Int]>([:])
    /// File stems of the tables seen, as the logger assigned them (``SummarizedRow/fileStem``).
    private let stems = Mutex<[String: String]>([:])
    private let buffers: Mutex<Buffers>
    private let files: Mutex<Files>
    private let worker = DispatchQueue(label: "noko.parquet", qos: .utility)

    private struct Buffers {
        var waiting: [String: WaitingRows] = [:]
        var ready: [(table: String, rows: [SummarizedRow])] = []
        var workerScheduled = false
        var closed = false
    }

    private struct WaitingRows {
        var rows: [SummarizedRow] = []
        var since: ContinuousClock.Instant

        /// Appends `row`; returns how many rows now wait.
        mutating func append(_ row: SummarizedRow) -> Int {
            rows.append(row)
            return rows.count
        }
    }

    /// What only one writer at a time may touch (under the `files` lock).
    private struct Files {
        var tables: [String: TableFile] = [:]
        /// Per table, rows whose row group could not be written, oldest first: they go
        /// before the table's next rows.
        var held: [String: [SummarizedRow]] = [:]
    }

    private enum TableFile {
        case open(ParquetFileWriter)
        /// The file is not one noko can extend; its rows are left out (one warning was given).
        case failed
    }

    /// An output writing into `directory` (created if needed).
    ///
    /// - Parameters:
    ///   - level: The lowest level written (TRACE by default, like the journal and CSV).
    ///   - rowGroupRows: Rows per row group while logging.
    ///   - rowGroupInterval: The longest a row waits before it is written.
    ///   - compression: The page codec; Snappy by default.
    ///   - compactedRowGroupRows: The row-group size compaction merges up to.
    ///   - messages: noko's own logger, for warnings (type changes, repairs, failures).
    package init(
        directory: URL, level: LogLevel = .trace, rowGroupRows: Int = 10_000, rowGroupInterval: Duration = .seconds(10),
        compression: ParquetCompression = .snappy, compactedRowGroupRows: Int = 131_072,
        messages: Logger = NokoMessages.logger()
    ) {
        precondition(rowGroupRows > 0 && compactedRowGroupRows > 0, "row group sizes must be positive")
        self.directory = directory
        self.level = level
        self.rowGroupRows = rowGroupRows
        self.rowGroupInterval = rowGroupInterval
        self.compression = compression
        self.compactedRowGroupRows = max(compactedRowGroupRows, rowGroupRows)
        self.messages = messages
        buffers = Mutex(Buffers())
        files = Mutex(Files())
    }

    /// Whether the environment asks for Parquet output: `NOKO_PARQUET` set to `1`, `true`,
    /// `yes` or `on` (any case).
    package static func isEnabled(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let value = environment["NOKO_PARQUET"] else { return false }
        return ["1", "true", "yes", "on"].contains(value.lowercased())
    }

    /// Makes a Parquet file valid again after a crash: cuts it back to the end of its last
    /// valid footer. A file with no valid footer is left as it is.
    package static func repair(file: URL) throws -> ParquetRepairResult {
        try ParquetRepair.repair(file: file)
    }

    /// The file a table is written to: `<stem>.parquet`, with the stem the logger gave the
    /// table's rows (``TableFileName`` unless two names collide on a case-insensitive disk).
    package func fileURL(forTable table: String) -> URL {
        let stem = stems.withLock { $0[table] } ?? TableFileName.encode(table)
        return RunLayout(directory).parquet(stem: stem)
    }

    // MARK: - LogOutput

    package func write(_ row: SummarizedRow) {
        let wakeWorker = buffers.withLock { buffers -> Bool in
            guard !buffers.closed else { return false }
            let waiting = buffers.waiting[row.table, default: WaitingRows(since: .now)].append(row)
            guard waiting >= rowGroupRows else { return false }
            let full = buffers.waiting.removeValue(forKey: row.table)!
            buffers.ready.append((row.table, full.rows))
            guard !buffers.workerScheduled else { return false }
            buffers.workerScheduled = true
            return true
        }
        if wakeWorker {
            worker.async { [self] in
                buffers.withLock { $0.workerScheduled = false }
                // A failed row group keeps its rows; the next flush tries again and reports
                // the failure once, through the logger.
                try? writeReadyRows()
            }
        }
    }

    /// Writes the row groups that are due: full ones, and those whose oldest row has waited
    /// ``rowGroupInterval``.
    package func flush() throws {
        let now = ContinuousClock.now
        buffers.withLock { buffers in
            for (table, waiting) in buffers.waiting where now - waiting.since >= rowGroupInterval {
                buffers.ready.append((table, waiting.rows))
                buffers.waiting[table] = nil
            }
        }
        try writeReadyRows()
    }

    /// A table's file lacks the journal's rows after its last complete row group: rows a
    /// killed process was gathering into the next one.
    package func rowsMissingFromFiles() throws -> (SummarizedRow) throws -> Bool {
        var onDisk: [String: Int64] = [:]
        var seen: [String: Int64] = [:]
        return { [directory] row in
            let held = onDisk[row.table] ?? {
                let url = RunLayout(directory).parquet(stem: row.fileStem)
                // No file, or none with a valid footer (started anew when reopened): no rows.
                let rows = FileSystem.exists(url.path) ? (try? ParquetReader.info(at: url).rowCount) ?? 0 : 0
                onDisk[row.table] = rows
                return rows
            }()
            let index = seen[row.table, default: 0]
            seen[row.table] = index + 1
            return index >= held
        }
    }

    /// Writes every waiting row, compacts files where worthwhile, syncs and closes them.
    package func close() throws {
        buffers.withLock { buffers in
            buffers.closed = true
            for (table, waiting) in buffers.waiting.sorted(by: { $0.key < $1.key }) {
                buffers.ready.append((table, waiting.rows))
            }
            buffers.waiting = [:]
        }
        var failures: [String] = []
        do {
            try writeReadyRows()
        } catch {
            failures.append("\(error)")
        }
        files.withLock { files in
            // Rows still held now are never written: the file lacks them, the journal has them.
            for (table, rows) in files.held { countLost(rows.count, of: table) }
            files.held = [:]
            for (_, file) in files.tables.sorted(by: { $0.key < $1.key }) {
                guard case .open(let writer) = file else { continue }
                do {
                    try writer.finish()
                } catch {
                    failures.append("\(error)")
                }
            }
            files.tables = [:]
        }
        if !failures.isEmpty { throw ParquetError(file: nil, failures.joined(separator: "; ")) }
    }

    package var rowsLost: [String: Int] { lost.withLock { $0 } }

    private func countLost(_ rows: Int, of table: String) {
        guard rows > 0 else { return }
        let file = fileURL(forTable: table).lastPathComponent
        lost.withLock { $0[file, default: 0] += rows }
    }

    // MARK: - Writing

    /// Writes every ready batch in order. File work is serialized by the `files` lock; the
    /// `buffers` lock is only taken briefly inside it, so `write(_:)` never waits on I/O.
    private func writeReadyRows() throws {
        let failures = files.withLock { files -> [String] in
            var failures: [String] = []
            // Tables that failed in this call: their later rows join the held ones untried.
            var failed: Set<String> = []
            var tried: Set<String> = []
            func write(_ table: String, _ newRows: [SummarizedRow]) {
                tried.insert(table)
                let rows = (files.held.removeValue(forKey: table) ?? []) + newRows
                guard !rows.isEmpty else { return }
                if failed.contains(table) {
                    hold(rows, of: table, in: &files)
                    return
                }
                let writer: ParquetFileWriter
                do {
                    guard let opened = try self.writer(for: table, stem: rows[0].fileStem, in: &files.tables) else {
                        countLost(rows.count, of: table)
                        return
                    }
                    writer = opened
                } catch {
                    failed.insert(table)
                    hold(rows, of: table, in: &files)
                    failures.append("table '\(table)': \(error)")
                    return
                }
                do {
                    try writer.append(ParquetBatchBuilder.build(rows: rows))
                } catch {
                    failed.insert(table)
                    hold(rows, of: table, in: &files)
                    failures.append("table '\(table)': \(error)")
                    return
                }
                do {
                    if writer.compactionIsDue { try writer.compact() }
                } catch {
                    failures.append("table '\(table)': compacting \(fileURL(forTable: table).lastPathComponent): \(error)")
                }
            }
            while let (table, rows) = buffers.withLock({ $0.ready.isEmpty ? nil : $0.ready.removeFirst() }) {
                write(table, rows)
            }
            // Held rows of tables with nothing new are tried again too: the file catches up at
            // the first flush after space is back.
            for table in files.held.keys.sorted() where !tried.contains(table) { write(table, []) }
            return failures
        }
        if !failures.isEmpty { throw ParquetError(file: nil, failures.joined(separator: "; ")) }
    }

    /// Keeps `rows` of `table` for the next attempt, at most ``maxHeldRows`` of them (the
    /// oldest); the others are counted as lost.
    private func hold(_ rows: [SummarizedRow], of table: String, in files: inout Files) {
        if rows.count > Self.maxHeldRows {
            countLost(rows.count - Self.maxHeldRows, of: table)
            files.held[table] = Array(rows.prefix(Self.maxHeldRows))
        } else {
            files.held[table] = rows
        }
    }

    /// The open file of `table`, opening (or resuming) it on first use; nil when the file
    /// cannot be used (not one noko can extend, a directory in its place: one warning). A
    /// failure that can go away (a full disk, ``NokoSystemError/isTransient``) is thrown, and
    /// the next call tries again.
    private func writer(for table: String, stem: String, in files: inout [String: TableFile]) throws(NokoSystemError) -> ParquetFileWriter? {
        switch files[table] {
        case .open(let writer): return writer
        case .failed: return nil
        case nil: break
        }
        stems.withLock { $0[table] = stem }
        let path = fileURL(forTable: table).path
        let messages = messages
        let options = ParquetFileWriter.Options(
            compression: compression, footerAfterEveryRowGroup: true, compactedRowGroupRows: compactedRowGroupRows,
            table: table, warn: { messages.warning("\($0)") })
        do {
            try FileSystem.makeDirectories(directory.path)
            let writer =
                FileSystem.exists(path)
                ? try ParquetFileWriter(resuming: path, options: options)
                : try ParquetFileWriter(creating: path, options: options)
            files[table] = .open(writer)
            return writer
        } catch let error as NokoSystemError where error.isTransient {
            throw error
        } catch {
            files[table] = .failed
            messages.warning("parquet: cannot write table '\(table)' to \(path): \(error); its rows go to the other outputs only")
            return nil
        }
    }
}
