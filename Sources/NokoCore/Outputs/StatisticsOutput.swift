import Foundation
import NokoPlatform
import Logging
import Synchronization

/// The `summary.json` sidecar: per table, the row count and step range, and per column the
/// last value, min, max, NaN count and a downsampled series, so `noko-run show`, `list` and
/// `report` answer in O(columns) instead of reading every row.
///
/// `write` only keeps the row; the rows are summarized at the next flush, on the logger's
/// background thread. Each value costs O(1): the series has at most ``maxBuckets`` buckets of min/max/last;
/// when they are full, neighbouring buckets merge pairwise and each bucket covers twice as
/// many rows. The file is rewritten atomically at each flush; when it has grown large, at
/// most as often as keeps writing it under 5 % of the time. A rewrite that fails (a full disk)
/// leaves the previous file and is tried again at the next flush: the statistics are in
/// memory, so the file catches up whole.
package final class StatisticsOutput: JournalView {
    package let name = "summary"
    package let level: LogLevel
    /// Where the sidecar is written.
    package let url: URL
    /// The most buckets a series keeps.
    package static let maxBuckets = 1024

    private struct State {
        var statistics = StatisticsAccumulator()
        var dirty = false
        var lastWrite = 0.0
        var lastWriteDuration = 0.0
        /// Rows summarized, and how many of them the file on disk covers.
        var rowsAbsorbed = 0
        var rowsInFile = 0
        /// Rows the file will never cover: those it lacked when closing failed.
        var rowsLost = 0
        /// True after a failed write: the next flush tries again, however recent the last
        /// write, so a flush that succeeds means the file caught up.
        var failing = false
        /// True when the file was replaced but the directory's `fsync` failed: each flush
        /// syncs the directory again, and fails until that works.
        var directoryUnsynced = false
    }
    private let state = Mutex(State())
    private let writing = Mutex(())
    /// Rows not yet summarized; kept apart so `write` never waits for a summary being built.
    private let pending = Mutex<[SummarizedRow]>([])
    /// Above this many pending rows, `write` summarizes them inline, bounding memory.
    private static let maxPendingRows = 65_536

    /// A sidecar written to `url`, summarizing rows at `level` and above.
    package init(url: URL, level: LogLevel = .trace) {
        self.url = url
        self.level = level
        journalPath = url.deletingLastPathComponent().appendingPathComponent(RunLayout.journalName).path
    }

    /// The journal beside the file, whose size the file records.
    private let journalPath: String

    package func write(_ row: SummarizedRow) throws {
        let count = pending.withLock { rows in
            rows.append(row)
            return rows.count
        }
        if count >= StatisticsOutput.maxPendingRows { absorbPending() }
    }

    /// Summarizes the pending rows, in order (`StatisticsRebuild` calls it to keep few rows
    /// pending while it reads a whole journal).
    func absorbPending() {
        state.withLock { s in
            let rows = pending.withLock { rows in
                defer { rows.removeAll(keepingCapacity: true) }
                return rows
            }
            guard !rows.isEmpty else { return }
            for row in rows { s.statistics.add(row) }
            s.rowsAbsorbed += rows.count
            s.dirty = true
        }
    }

    package func flush() throws { try writeFile(force: false) }

    /// Rewrites the file now, however recently it was written.
    package func flushCompletely() throws { try writeFile(force: true) }

    /// Summarizes the rows of an existing journal (a resumed run), so the sidecar covers the
    /// whole run, not only what this process logs.
    ///
    /// - Returns: every table of the journal, in the order it first appeared, with the step
    ///   it continues from (one past its last), rows below this output's level included.
    @discardableResult
    package func replay(
        journal path: String, messages: Logging.Logger = NokoMessages.logger()
    ) throws -> [(table: String, nextStep: Int)] {
        try JournalReplay.resume(journal: path, outputs: [self], messages: messages)
    }

    package func close() throws {
        do {
            try writeFile(force: true)
        } catch {
            state.withLock { $0.rowsLost = $0.rowsAbsorbed - $0.rowsInFile }
            throw error
        }
    }

    /// None: a resumed run summarizes every row of the journal into the summary, which starts
    /// empty (``JournalReplay``), so the summary is never completed row by row.
    package func rowsMissingFromFiles() throws -> (SummarizedRow) throws -> Bool {
        { _ in false }
    }

    package var rowsLost: [String: Int] {
        let lost = state.withLock { $0.rowsLost }
        return lost > 0 ? [url.lastPathComponent: lost] : [:]
    }

    private func writeFile(force: Bool) throws {
        absorbPending()
        try writing.withLock { _ in
            let now = RowClock.system.now()
            // The journal holds every row summarized (it is written first), and at the end,
            // when nothing is logged any more, exactly them: what a reader checks.
            let journalBytes = FileSystem.info(journalPath).map { Int64($0.size) }
            let encoded: (bytes: [UInt8], rows: Int)? = state.withLock { s in
                guard s.dirty else { return nil }
                guard force || s.failing || now - s.lastWrite >= 20 * s.lastWriteDuration else { return nil }
                s.dirty = false
                var statistics = s.statistics.statistics
                statistics.journalBytes = journalBytes
                return (statistics.encoded(), s.rowsAbsorbed)
            }
            guard let (bytes, rows) = encoded else { return try syncDirectoryIfNeeded() }
            let notDurable: NokoSystemError?
            do {
                notDurable = try AtomicFile.write(bytes, to: url.path)
            } catch {
                state.withLock { s in
                    s.dirty = true  // try again at the next flush
                    s.failing = true
                }
                throw error
            }
            let duration = RowClock.system.now() - now
            state.withLock { s in
                s.lastWrite = now
                s.lastWriteDuration = duration
                s.rowsInFile = rows
                s.failing = false
            }
            // Written all the same; the directory is synced again below, and at each flush.
            if notDurable != nil { state.withLock { $0.directoryUnsynced = true } }
            try syncDirectoryIfNeeded()
        }
    }

    /// Syncs the directory after a replacement whose own directory `fsync` failed; throws
    /// while it still fails (a flush that succeeds means the file is durable).
    private func syncDirectoryIfNeeded() throws(NokoSystemError) {
        guard state.withLock({ $0.directoryUnsynced }) else { return }
        try FileSystem.syncDirectory(FileSystem.parentDirectory(of: url.path))
        state.withLock { $0.directoryUnsynced = false }
    }

    /// The statistics of the rows so far (what the file holds after the next flush).
    package var currentStatistics: RunStatistics {
        absorbPending()
        return state.withLock { $0.statistics.statistics }
    }
}

/// The statistics of rows as they come, each value in O(1): what ``StatisticsOutput`` keeps and
/// writes to `summary.json`, and what a rebuild from the rows produces (``StatisticsRebuild``).
package struct StatisticsAccumulator {
    private var tables: [String: TableSummary] = [:]

    /// Nothing yet.
    package init() {}

    /// Adds `row` to its table's statistics.
    package mutating func add(_ row: SummarizedRow) {
        tables[row.table, default: TableSummary(fileStem: row.fileStem)].add(row)
    }

    /// The statistics of every row added.
    package var statistics: RunStatistics {
        RunStatistics(tables: tables.map { $0.value.statistics(name: $0.key) })
    }
}

/// One table's running summary.
private struct TableSummary {
    let fileStem: String
    var rows = 0
    var firstStep = 0
    var lastStep = 0
    var firstTime = 0.0
    var lastTime = 0.0
    /// Rows per bucket (a power of two).
    var width = 1
    /// The step of the last row in each bucket.
    var bucketSteps: [Int] = []
    var columns: [ColumnSummary] = []
    var index: [String: Int] = [:]
    var schemaColumns: [Int: [Int]] = [:]

    init(fileStem: String) {
        self.fileStem = fileStem
    }

    mutating func add(_ row: SummarizedRow) {
        if rows == 0 {
            firstStep = row.step
            firstTime = row.time.utcTimestamp
        }
        var bucket = rows / width
        if bucket == StatisticsOutput.maxBuckets {
            halve()
            bucket = rows / width
        }
        if bucket == bucketSteps.count {
            bucketSteps.append(row.step)
            for c in columns.indices { columns[c].openBucket() }
        }
        bucketSteps[bucket] = row.step
        rows += 1
        lastStep = row.step
        lastTime = row.time.utcTimestamp
        let positions = schemaColumns[row.schema.id] ?? columnsOf(row)
        for (i, c) in positions.enumerated() {
            columns[c].add(row.values[i], bucket: bucket)
        }
    }

    private mutating func columnsOf(_ row: SummarizedRow) -> [Int] {
        let positions = row.keys.map { key -> Int in
            if let c = index[key] { return c }
            index[key] = columns.count
            columns.append(ColumnSummary(name: key, buckets: bucketSteps.count))
            return columns.count - 1
        }
        if schemaColumns.count > 256 { schemaColumns.removeAll() }
        schemaColumns[row.schema.id] = positions
        return positions
    }

    /// Merges neighbouring buckets: the series keeps its shape at half the resolution.
    private mutating func halve() {
        bucketSteps = stride(from: 1, to: bucketSteps.count, by: 2).map { bucketSteps[$0] }
        for c in columns.indices { columns[c].halve() }
        width *= 2
    }

    func statistics(name: String) -> TableStatistics {
        TableStatistics(
            name: name, fileStem: fileStem, rows: rows, firstStep: firstStep, lastStep: lastStep, firstTime: firstTime,
            lastTime: lastTime, seriesWidth: width, seriesSteps: bucketSteps, columns: columns.map(\.statistics))
    }
}

/// One column's running summary and series.
private struct ColumnSummary {
    let name: String
    var count = 0
    var nullCount = 0
    var nanCount = 0
    var sawInt = false, sawDouble = false, sawBool = false, sawString = false
    var last: Scalar = .null
    var minimum = Double.infinity
    var maximum = -Double.infinity
    /// Per bucket; NaN where the bucket had no non-NaN number.
    var seriesMin: [Double]
    var seriesMax: [Double]
    /// Per bucket, the last number (NaN included); nil where the bucket had none.
    var seriesLast: [Double?]

    init(name: String, buckets: Int) {
        self.name = name
        seriesMin = Array(repeating: .nan, count: buckets)
        seriesMax = Array(repeating: .nan, count: buckets)
        seriesLast = Array(repeating: nil, count: buckets)
    }

    mutating func openBucket() {
        seriesMin.append(.nan)
        seriesMax.append(.nan)
        seriesLast.append(nil)
    }

    mutating func add(_ value: Scalar, bucket: Int) {
        count += 1
        last = value
        let number: Double
        switch value {
        case .null:
            nullCount += 1
            return
        case .string:
            sawString = true
            return
        case .bool(let b):
            sawBool = true
            number = b ? 1 : 0
        case .int(let v):
            sawInt = true
            number = Double(v)
        case .double(let v):
            sawDouble = true
            number = v
        }
        seriesLast[bucket] = number
        if number.isNaN {
            nanCount += 1
            return
        }
        if number < minimum { minimum = number }
        if number > maximum { maximum = number }
        // NaN in the series means "no number yet", so compare against it explicitly.
        if !(seriesMin[bucket] <= number) { seriesMin[bucket] = number }
        if !(seriesMax[bucket] >= number) { seriesMax[bucket] = number }
    }

    mutating func halve() {
        var mins: [Double] = [], maxs: [Double] = [], lasts: [Double?] = []
        let pairs = seriesMin.count / 2
        mins.reserveCapacity(pairs)
        maxs.reserveCapacity(pairs)
        lasts.reserveCapacity(pairs)
        for p in 0..<pairs {
            let a = 2 * p, b = 2 * p + 1
            mins.append(seriesMin[a].isNaN ? seriesMin[b] : seriesMin[b].isNaN ? seriesMin[a] : Swift.min(seriesMin[a], seriesMin[b]))
            maxs.append(seriesMax[a].isNaN ? seriesMax[b] : seriesMax[b].isNaN ? seriesMax[a] : Swift.max(seriesMax[a], seriesMax[b]))
            lasts.append(seriesLast[b] ?? seriesLast[a])
        }
        seriesMin = mins
        seriesMax = maxs
        seriesLast = lasts
    }

    var typeName: String {
        switch (sawInt, sawDouble, sawBool, sawString) {
        case (_, _, _, true) where sawInt || sawDouble || sawBool: return "mixed"
        case (_, _, _, true): return "string"
        case (_, true, _, _): return "double"
        case (true, false, _, _): return "int"
        case (false, false, true, _): return "bool"
        default: return "null"
        }
    }

    var isNumeric: Bool { sawInt || sawDouble || sawBool }

    var statistics: ColumnStatistics {
        let numeric = isNumeric
        let hasRange = minimum <= maximum
        return ColumnStatistics(
            name: name, type: typeName, count: count, nullCount: nullCount, nanCount: nanCount, last: last,
            min: numeric && hasRange ? minimum : nil, max: numeric && hasRange ? maximum : nil,
            series: numeric
                ? BucketSeries(min: seriesMin.map { $0.isNaN ? nil : $0 }, max: seriesMax.map { $0.isNaN ? nil : $0 }, last: seriesLast)
                : nil)
    }
}
