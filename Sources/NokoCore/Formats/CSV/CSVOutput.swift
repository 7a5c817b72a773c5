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

    /// A CSV output writing into `directory`.
    package init(
        directory: URL, level: LogLevel = .trace, maxPendingRows: Int = 131_072,
        messages: Logging.Logger = NokoMessages.logger()
    ) {
        self.directory = directory
        self.level = level
        self.maxPendingRows = maxPendingRows
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
            guard !rows.isEmpty || files.values.contains(where: { !$0.deferred.isEmpty || $0.directoryUnsynced }) else { return }
            var order: [String] = files.keys.filter { !files[$0]!.deferred.isEmpty }
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
                if tableRows.isEmpty && file.deferred.isEmpty {
                    files[table] = file
                    continue
                }
                do {
                    if !file.isLoaded { try file.load() }
                    try file.write(tableRows, force: force, maxDeferred: maxPendingRows, messages: messages)
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
                if !file.deferred.isEmpty {
                    lost.withLock { $0[file.url.lastPathComponent, default: 0] += file.deferred.count }
                    file.deferred = []
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
    var header: [String] = []
    var position: [String: Int] = [:]
    /// For each schema id, the header position of each key.
    var schemaPositions: [Int: [Int]] = [:]
    /// Header positions of the bookkeeping columns, in `SummarizedRow.bookkeepingKeys` order.
    var bookkeepingPositions: [Int] = []
    /// True when the file on disk has a header (and possibly rows).
    var exists = false
    var slots: [Int] = []
    var out: [UInt8] = []
    /// Rows held back while a rewrite would come too soon after the last one.
    var deferred: [SummarizedRow] = []
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

    init(url: URL) {
        self.url = url
    }

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
        schemaPositions.removeAll()
        bookkeepingPositions = SummarizedRow.bookkeepingKeys.map { position[$0] ?? -1 }
    }

    mutating func write(_ newRows: [SummarizedRow], force: Bool, maxDeferred: Int, messages: Logging.Logger) throws {
        do {
            try writeRows(newRows, force: force, maxDeferred: maxDeferred, messages: messages)
            failing = false
        } catch {
            failing = true
            throw error
        }
    }

    private mutating func writeRows(_ newRows: [SummarizedRow], force: Bool, maxDeferred: Int, messages: Logging.Logger) throws {
        let rows = deferred.isEmpty ? newRows : deferred + newRows
        deferred.removeAll()
        var newKeys: Set<String> = []
        var checked: Set<Int> = []
        for row in rows where checked.insert(row.schema.id).inserted && schemaPositions[row.schema.id] == nil {
            for key in row.keys where position[key] == nil { newKeys.insert(key) }
        }
        if !exists || !newKeys.isEmpty || bookkeepingPositions.contains(-1) {
            let grown = Set(header).union(newKeys).union(SummarizedRow.bookkeepingKeys).sorted()
            if exists {
                let now = RowClock.system.now()
                if !force, !failing, now - lastRewriteEnd < 10 * lastRewriteDuration, rows.count < maxDeferred {
                    deferred = rows
                    return
                }
                messages.info(
                    "table '\(rows[0].table)': \(newKeys.count) new column(s) \(newKeys.sorted().prefix(5).joined(separator: ", "))\(newKeys.count > 5 ? ", …" : ""); rewriting \(url.lastPathComponent)")
                let oldHeader = header
                let notDurable: NokoSystemError?
                do {
                    notDurable = try rewrite(with: grown, appending: rows)
                } catch {
                    // The file still has the old header: keep it, and keep the rows for the
                    // next flush.
                    setHeader(oldHeader)
                    deferred = rows
                    throw error
                }
                // A whole new file: its length is read at the next append.
                validSize = nil
                lastRewriteEnd = RowClock.system.now()
                lastRewriteDuration = lastRewriteEnd - now
                // Rewritten all the same; the directory is synced again at the next flush.
                if notDurable != nil { directoryUnsynced = true }
            } else {
                setHeader(grown)
                out.removeAll(keepingCapacity: true)
                appendHeader()
                for row in rows { append(row) }
                let notDurable: NokoSystemError?
                do {
                    notDurable = try AtomicFile.write(out, to: url.path)
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
        out.removeAll(keepingCapacity: true)
        for row in rows { append(row) }
        do {
            let fd = try FileDescriptor.open(url.path, .append)
            defer { fd.closeIgnoringErrors() }
            var file = AppendOnlyFile(fd, size: try validSize ?? fd.size())
            defer { validSize = file.size }
            try file.append(out)
        } catch {
            deferred = rows
            throw error
        }
    }

    /// Streams the old file into a new one with the grown header, appends `rows`, and
    /// renames it over the old file.
    /// Returns the error of the atomic writer's final directory `fsync`, if it failed (the
    /// file is rewritten all the same).
    private mutating func rewrite(with grown: [String], appending rows: [SummarizedRow]) throws -> NokoSystemError? {
        let oldPosition = position
        let mapping = grown.map { oldPosition[$0] ?? -1 }
        let old = try FileDescriptor.open(url.path, .read)
        defer { old.closeIgnoringErrors() }
        setHeader(grown)
        return try AtomicFile.write(to: url.path) { target in
            out.removeAll(keepingCapacity: true)
            appendHeader()
            try target.writeAll(out)
            var inserter = CSVColumnInserter(mapping: mapping, oldCount: oldPosition.count)
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let n = try chunk.withUnsafeMutableBytes { try old.read(into: $0) }
                if n == 0 { break }
                chunk.withUnsafeBytes { inserter.process(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                if inserter.completeCount >= 1 << 20 { try target.writeAll(inserter.takeComplete()) }
            }
            // A torn final line (the process died mid-write) is dropped: it never was a row.
            try target.writeAll(inserter.takeComplete())
            out.removeAll(keepingCapacity: true)
            for row in rows { append(row) }
            try target.writeAll(out)
        }
    }

    private mutating func appendHeader() {
        for (i, key) in header.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            CSVFormat.appendString(key, to: &out)
        }
        out.append(UInt8(ascii: "\n"))
    }

    private mutating func append(_ row: SummarizedRow) {
        let positions = schemaPositions[row.schema.id] ?? {
            let p = row.keys.map { position[$0]! }
            if schemaPositions.count > 256 { schemaPositions.removeAll() }
            schemaPositions[row.schema.id] = p
            return p
        }()
        // slots[column] = index into row.values, or -2 - k for bookkeeping key k, or -1.
        if slots.count != header.count { slots = Array(repeating: -1, count: header.count) }
        for (k, p) in bookkeepingPositions.enumerated() where p >= 0 { slots[p] = -2 - k }
        for (i, p) in positions.enumerated() { slots[p] = i }
        for column in 0..<header.count {
            if column > 0 { out.append(UInt8(ascii: ",")) }
            let slot = slots[column]
            if slot >= 0 {
                CSVFormat.append(row.values[slot], to: &out)
                slots[column] = -1
            } else if slot <= -2 {
                CSVFormat.append(row.bookkeepingValue(SummarizedRow.bookkeepingKeys[-2 - slot])!, to: &out)
            }
        }
        out.append(UInt8(ascii: "\n"))
    }
}
