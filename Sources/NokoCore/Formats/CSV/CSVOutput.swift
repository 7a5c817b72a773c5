import Foundation
import NokoPlatform
import Logging
import Synchronization

/// One CSV file per table, `<table>.csv`, with a header of sorted keys (the `$` columns
/// first). Compatible with Python noko's files and readable by pandas as is.
///
/// `write` only keeps the row; formatting and file I/O happen in ``flush()``, on the
/// logger's background thread, at most one flush interval later. When rows bring keys the
/// header lacks, the flush rewrites the file once (streamed to a temporary file, then
/// renamed over the old one) with the new header: one rewrite per interval however many
/// keys appear, never the whole-file-per-key rewrite of Python noko. While keys keep
/// appearing in a large file, rewrites are spaced so that they take at most a tenth of the
/// time (the file then trails the journal by more than one interval; `close()` and
/// `noko-run export` always bring it up to date).
///
/// A file that cannot be written (a full disk) keeps its rows for the next flush, so the file
/// catches up when space is back; past ``maxPendingRows`` rows held for all tables, later rows
/// are dropped from the CSV files (counted in ``rowsLost``; the journal has them).
package final class CSVOutput: JournalView {
    package let name = "csv"
    package let level: LogLevel
    /// The directory the files are written into.
    package let directory: URL

    /// Rows waiting for the next flush.
    private let pending = Mutex<[SummarizedRow]>([])
    /// File state; held for the whole of a flush, so flushes never overlap.
    private let files: Mutex<[String: TableFile]>
    private let messages: Logging.Logger
    /// Above this many pending rows, `write` flushes inline, bounding memory (the logger
    /// wakes its flusher long before, so this only happens when flushing falls behind).
    private let maxPendingRows: Int
    /// Rows dropped from a file for good, per file name (under the `files` lock's owner).
    private let lost = Mutex<[String: Int]>([:])

    /// How long a rewrite waits after the previous one, in multiples of that one's duration.
    private let rewriteSpacing: Double

    /// A CSV output writing into `directory`; `rewriteSpacing` (tests) spaces rewrites of a
    /// growing header by that many times the previous rewrite's duration.
    package init(
        directory: URL, level: LogLevel = .trace, maxPendingRows: Int = 131_072, rewriteSpacing: Double = 10,
        messages: Logging.Logger = NokoMessages.logger()
    ) {
        self.directory = directory
        self.level = level
        self.maxPendingRows = maxPendingRows
        self.rewriteSpacing = rewriteSpacing
        self.messages = messages
        files = Mutex([:])
    }

    package func write(_ row: SummarizedRow) throws {
        let count = pending.withLock { rows in
            rows.append(row)
            return rows.count
        }
        // The row is kept either way; a flush that fails here is reported by the next
        // regular one (the row is not lost, so this write did not fail).
        if count >= maxPendingRows { try? flush() }
    }

    package func flush() throws { try flush(force: false) }

    /// Writes every buffered row, held-back rewrites included.
    package func flushCompletely() throws { try flush(force: true) }

    package var rowsLost: [String: Int] { lost.withLock { $0 } }

    private func flush(force: Bool) throws {
        try files.withLock { files in
            let rows = pending.withLock { rows in
                defer { rows.removeAll(keepingCapacity: true) }
                return rows
            }
            guard !rows.isEmpty || files.values.contains(where: { $0.holdsRows || $0.directoryUnsynced }) else { return }
            var order: [String] = files.keys.filter { files[$0]!.holdsRows }
            var byTable: [String: [SummarizedRow]] = Dictionary(uniqueKeysWithValues: order.map { ($0, []) })
            for row in rows {
                if byTable[row.table] == nil { order.append(row.table) }
                byTable[row.table, default: []].append(row)
            }
            var firstError: (any Error)?
            for table in order {
                let tableRows = byTable[table]!
                // Taken out of the dictionary while it is written, so its buffers are not
                // copied on write.
                var file = files.removeValue(forKey: table) ?? TableFile(url: RunLayout(directory).csv(stem: tableRows[0].fileStem))
                if tableRows.isEmpty && !file.holdsRows {
                    files[table] = file
                    continue
                }
                do {
                    if !file.isLoaded { try file.load() }
                    try file.write(tableRows, force: force, maxDeferred: maxPendingRows, spacing: rewriteSpacing, messages: messages)
                } catch {
                    // The rows wait for the next flush (`write` kept them, or `load` failed).
                    if !file.isLoaded { file.deferred += tableRows }
                    firstError = firstError ?? error
                }
                files[table] = file
            }
            // A file renamed into place whose directory could not be synced is not durable
            // yet: the sync is tried again at each flush, which fails until it works.
            if files.values.contains(where: \.directoryUnsynced) {
                do throws(NokoSystemError) {
                    try FileSystem.syncDirectory(directory.path)
                    for table in files.keys { files[table]!.directoryUnsynced = false }
                } catch {
                    firstError = firstError ?? error
                }
            }
            guard let firstError else { return }
            dropBeyondBound(order: order, in: &files)
            throw firstError
        }
    }

    /// While files cannot be written, keeps at most ``maxPendingRows`` held rows across tables
    /// (the oldest, in the order the tables were flushed) and counts the others as lost.
    private func dropBeyondBound(order: [String], in files: inout [String: TableFile]) {
        var budget = maxPendingRows
        for table in order {
            guard var file = files[table] else { continue }
            let keep = min(file.deferred.count, budget)
            budget -= keep
            guard keep < file.deferred.count else { continue }
            let dropped = file.deferred.count - keep
            file.deferred.removeLast(dropped)
            files[table] = file
            lost.withLock { $0[file.url.lastPathComponent, default: 0] += dropped }
        }
    }

    /// A table's file lacks the journal's rows after the ones it holds: rows a killed process
    /// was keeping for its next flush.
    package func rowsMissingFromFiles() throws -> (SummarizedRow) throws -> Bool {
        var onDisk: [String: Int] = [:]
        var seen: [String: Int] = [:]
        return { [directory] row in
            let held = try onDisk[row.table] ?? {
                let path = RunLayout(directory).csv(stem: row.fileStem).path
                var records = 0
                if FileSystem.exists(path) {
                    // A torn last line is left out: it is cut off when the file is reopened.
                    _ = try CSVRecordScanner.forEachRecord(inFile: path) { _ in
                        records += 1
                        return true
                    }
                }
                onDisk[row.table] = max(records - 1, 0)  // the header
                return max(records - 1, 0)
            }()
            let index = seen[row.table, default: 0]
            seen[row.table] = index + 1
            return index >= held
        }
    }

    package func close() throws {
        var firstError: (any Error)?
        do {
            try flush(force: true)
        } catch {
            firstError = error
        }
        files.withLock { files in
            for table in files.keys.sorted() {
                var file = files[table]!
                // Rows still held now are never written: the CSV lacks them, the journal has them.
                if file.holdsRows {
                    lost.withLock { $0[file.url.lastPathComponent, default: 0] += file.deferred.count + file.heldRowCount }
                    file.deferred = []
                    file.held = nil
                    files[table] = file
                }
                // A file never created (its disk was full from the start) is not created empty.
                guard file.exists else { continue }
                do throws(NokoSystemError) {
                    let fd = try FileDescriptor.open(file.url.path, .append)
                    defer { fd.closeIgnoringErrors() }
                    try fd.sync()
                } catch {
                    firstError = firstError ?? error
                }
            }
        }
        if let firstError { throw firstError }
    }
}

/// One table's CSV file: its header and how each row schema maps onto it.
private struct TableFile {
    let url: URL
    /// The header of the file on disk.
    var header: [String] = []
    var position: [String: Int] = [:]
    /// Header positions of the bookkeeping columns, in `SummarizedRow.bookkeepingKeys` order.
    var bookkeepingPositions: [Int] = []
    /// True when the file on disk has a header (and possibly rows).
    var exists = false
    /// Formats rows as records of the header being written.
    var formatter = CSVRowFormatter()
    var out = RowText(capacity: 1 << 16)
    /// Rows not yet formatted that the next flush writes first: rows a failed write kept.
    var deferred: [SummarizedRow] = []
    /// Rows held back while a rewrite would come too soon after the last one, already
    /// formatted (on the flusher's thread, while rows are still being logged) as records of
    /// a header that has every key they have, so the rewrite that finally writes them
    /// (often `close()`'s) only inserts empty cells into their bytes.
    var held: HeldRecords?
    var lastRewriteEnd = 0.0
    var lastRewriteDuration = 0.0
    /// True once the file on disk has been looked at (``load()``).
    var isLoaded = false
    /// The file's length after its last whole record, when known: bytes after it are what a
    /// failed append could not cut off, cut before the next append.
    var validSize: UInt64?
    /// True after a failed write: the next flush tries again without spacing rewrites, so a
    /// flush that succeeds means the file caught up.
    var failing = false
    /// True when the file was replaced but the directory's `fsync` failed: the output syncs
    /// the directory again (``CSVOutput``), and fails its flushes until that works.
    var directoryUnsynced = false

    /// Formatted records waiting for a rewrite, in runs of records of one header each (a
    /// header with every key of its rows, so each run is converted to the rewrite's header
    /// once, when it is written).
    struct HeldRecords {
        var table: String
        var runs: [(header: [String], records: RowText)]
        var rows: Int
        /// The header of the latest run: what the file's header grows from next.
        var header: [String] { runs.last!.header }
    }

    init(url: URL) {
        self.url = url
    }

    /// True when rows wait for the next flush.
    var holdsRows: Bool { !deferred.isEmpty || held != nil }

    var heldRowCount: Int { held?.rows ?? 0 }

    /// Picks up an existing file's header (a resumed run), or prepares a new file.
    mutating func load() throws {
        // A process that died mid-append leaves half a line; later rows must not join it.
        try FileSystem.dropTornLine(url.path)
        if let header = try TableFile.readHeader(url), !header.isEmpty {
            setHeader(header)
            exists = true
        }
        isLoaded = true
    }

    private static func readHeader(_ url: URL) throws -> [String]? {
        guard FileSystem.exists(url.path) else { return nil }
        var header: [String]?
        _ = try CSVRecordScanner.forEachRecord(inFile: url.path) { record in
            header = record.cells.indices.map(record.text)
            return false
        }
        return header
    }

    private mutating func setHeader(_ newHeader: [String]) {
        header = newHeader
        position = Dictionary(newHeader.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        bookkeepingPositions = SummarizedRow.bookkeepingKeys.map { position[$0] ?? -1 }
    }

    mutating func write(_ newRows: [SummarizedRow], force: Bool, maxDeferred: Int, spacing: Double, messages: Logging.Logger) throws {
        do {
            try writeRows(newRows, force: force, maxDeferred: maxDeferred, spacing: spacing, messages: messages)
            failing = false
        } catch {
            failing = true
            throw error
        }
    }

    private mutating func writeRows(_ newRows: [SummarizedRow], force: Bool, maxDeferred: Int, spacing: Double, messages: Logging.Logger) throws {
        let rows = deferred.isEmpty ? newRows : deferred + newRows
        deferred.removeAll()
        // The keys rows have beyond those of the header their records will have.
        let known = held.map { held in Set(held.header) }
        var newKeys: Set<String> = []
        var checked: Set<Int> = []
        for row in rows where checked.insert(row.schema.id).inserted {
            for key in row.keys where known.map({ !$0.contains(key) }) ?? (position[key] == nil) { newKeys.insert(key) }
        }
        if !exists || !newKeys.isEmpty || held != nil || bookkeepingPositions.contains(-1) {
            let grown = Set(held?.header ?? header).union(newKeys).union(SummarizedRow.bookkeepingKeys).sorted()
            if exists {
                let now = RowClock.system.now()
                if !force, !failing, now - lastRewriteEnd < spacing * lastRewriteDuration, heldRowCount + rows.count < maxDeferred {
                    hold(rows, as: grown)
                    return
                }
                let allKeys = held.map { held in newKeys.union(Set(held.header).subtracting(header)) } ?? newKeys
                messages.info(
                    "table '\(rows.first?.table ?? held?.table ?? "")': \(allKeys.count) new column(s) \(allKeys.sorted().prefix(5).joined(separator: ", "))\(allKeys.count > 5 ? ", …" : ""); rewriting \(url.lastPathComponent)")
                let oldHeader = header
                let notDurable: NokoSystemError?
                do {
                    notDurable = try rewrite(with: grown, appending: rows)
                } catch {
                    // The file still has the old header: keep it, and keep the rows for the
                    // next flush (the held records stay as they were).
                    setHeader(oldHeader)
                    deferred = rows
                    throw error
                }
                held = nil
                // A whole new file: its length is read at the next append.
                validSize = nil
                lastRewriteEnd = RowClock.system.now()
                lastRewriteDuration = lastRewriteEnd - now
                // Rewritten all the same; the directory is synced again at the next flush.
                if notDurable != nil { directoryUnsynced = true }
            } else {
                setHeader(grown)
                out.removeAll()
                appendHeader()
                formatter.use(header)
                for row in rows { formatter.append(row, to: &out) }
                let notDurable: NokoSystemError?
                do {
                    notDurable = try AtomicFile.write(to: url.path) { [out] in try $0.writeAll(out.bytes) }
                } catch {
                    deferred = rows
                    throw error
                }
                exists = true
                validSize = UInt64(out.count)
                // Written all the same; the directory is synced again at the next flush.
                if notDurable != nil { directoryUnsynced = true }
            }
            return
        }
        out.removeAll()
        formatter.use(header)
        for row in rows { formatter.append(row, to: &out) }
        do {
            let fd = try FileDescriptor.open(url.path, .append)
            defer { fd.closeIgnoringErrors() }
            var file = AppendOnlyFile(fd, size: try validSize ?? fd.size())
            defer { validSize = file.size }
            try file.append(out.bytes)
        } catch {
            deferred = rows
            throw error
        }
    }

    /// Keeps `rows` for a later rewrite, formatted now as records of `grown`.
    private mutating func hold(_ rows: [SummarizedRow], as grown: [String]) {
        guard let table = rows.first?.table ?? held?.table else { return }
        var runs = held?.runs ?? []
        let count = heldRowCount + rows.count
        held = nil  // the last run's buffer is appended to in place
        if runs.last?.header != grown { runs.append((grown, RowText(capacity: 1 << 16))) }
        formatter.use(grown)
        for row in rows { formatter.append(row, to: &runs[runs.count - 1].records) }
        held = HeldRecords(table: table, runs: runs, rows: count)
    }

    /// Streams the old file into a new one with the grown header, then the held records
    /// and `rows`, and renames it over the old file.
    /// Returns the error of the atomic writer's final directory `fsync`, if it failed (the
    /// file is rewritten all the same).
    private mutating func rewrite(with grown: [String], appending rows: [SummarizedRow]) throws -> NokoSystemError? {
        let oldHeader = header
        let old = try FileDescriptor.open(url.path, .read)
        defer { old.closeIgnoringErrors() }
        setHeader(grown)
        return try AtomicFile.write(to: url.path) { target in
            out.removeAll()
            appendHeader()
            try target.writeAll(out.bytes)
            var inserter = CSVColumnInserter(from: oldHeader, to: grown, headerFirst: true)
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let n = try chunk.withUnsafeMutableBytes { try old.read(into: $0) }
                if n == 0 { break }
                chunk.withUnsafeBytes { inserter.process(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                if inserter.completeCount >= 1 << 20 { try inserter.writeComplete { try target.writeAll($0) } }
            }
            // A torn final line (the process died mid-write) is dropped: it never was a row.
            try inserter.writeComplete { try target.writeAll($0) }
            for run in held?.runs ?? [] {
                if run.header == grown {
                    try target.writeAll(run.records.bytes)
                } else {
                    var runInserter = CSVColumnInserter(from: run.header, to: grown, headerFirst: false)
                    runInserter.process(run.records.bytes)
                    try runInserter.writeComplete { try target.writeAll($0) }
                }
            }
            out.removeAll()
            formatter.use(grown)
            for row in rows { formatter.append(row, to: &out) }
            try target.writeAll(out.bytes)
        }
    }

    private mutating func appendHeader() {
        for (i, key) in header.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.appendCSVString(key)
        }
        out.append(UInt8(ascii: "\n"))
    }
}

/// Formats rows as CSV records of one header: per row schema, where each of its values goes,
/// worked out once, so a record is its cells in column order with commas between.
struct CSVRowFormatter {
    private var header: [String] = []
    private var position: [String: Int] = [:]
    /// Per schema id: its cells in column order.
    private var layouts: [Int: [Cell]] = [:]

    /// One non-empty cell: its column, and the row value it holds (`source >= 0`) or the
    /// bookkeeping column (a negative code from ``bookkeeping``).
    private struct Cell {
        var column: Int32
        var source: Int32
    }

    /// The bookkeeping columns, each with the code its cells carry as their source.
    private static let bookkeeping: [(key: String, source: Int32)] = [
        (SummarizedRow.levelKey, -1), (SummarizedRow.localTimeKey, -2), (SummarizedRow.stepKey, -3),
        (SummarizedRow.tableKey, -4), (SummarizedRow.utcTimestampKey, -5),
    ]

    /// Formats later rows as records of `header` (which has every key of those rows).
    mutating func use(_ header: [String]) {
        guard header != self.header else { return }
        self.header = header
        position = Dictionary(header.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        layouts.removeAll()
    }

    private mutating func layout(of row: SummarizedRow) -> [Cell] {
        if let cells = layouts[row.schema.id] { return cells }
        var cells = row.keys.enumerated().map { Cell(column: Int32(position[$1]!), source: Int32($0)) }
        for (key, source) in CSVRowFormatter.bookkeeping {
            if let p = position[key] { cells.append(Cell(column: Int32(p), source: source)) }
        }
        cells.sort { $0.column < $1.column }
        if layouts.count > 256 { layouts.removeAll() }
        layouts[row.schema.id] = cells
        return cells
    }

    /// Appends `row`'s record.
    mutating func append(_ row: SummarizedRow, to out: inout RowText) {
        let cells = layout(of: row)
        guard let text = row.takeValueText() else {
            CSVRowFormatter.append(row, cells: cells, columns: header.count, to: &out) { _, value, out in out.appendCSV(value) }
            return
        }
        // A finite double's CSV text is its journal text: copied, not formatted again.
        text.withValues { valueText in
            CSVRowFormatter.append(row, cells: cells, columns: header.count, to: &out) { i, value, out in
                if case .double(let v) = value, v.isFinite {
                    out.append(valueText(i))
                } else {
                    out.appendCSV(value)
                }
            }
        }
    }

    @inline(__always)
    private static func append(
        _ row: SummarizedRow, cells: [Cell], columns: Int, to out: inout RowText, value: (Int, Scalar, inout RowText) -> Void
    ) {
        var previous = 0
        row.values.withUnsafeBufferPointer { values in
            for cell in cells {
                let column = Int(cell.column)
                out.append(repeating: UInt8(ascii: ","), count: column - previous)
                previous = column
                if cell.source >= 0 {
                    value(Int(cell.source), values[Int(cell.source)], &out)
                } else {
                    switch cell.source {
                    case -1: out.appendInt(Int64(row.level.value))
                    case -2: out.appendCSVString(row.time.localTime)
                    case -3: out.appendInt(Int64(row.step))
                    case -4: out.appendCSVString(row.table)
                    default: out.appendCSV(.double(row.time.utcTimestamp))
                    }
                }
            }
        }
        out.append(repeating: UInt8(ascii: ","), count: columns - 1 - previous)
        out.append(UInt8(ascii: "\n"))
    }
}
