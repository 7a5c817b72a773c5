import Foundation
import NokoPlatform

/// One Parquet file that noko appends row groups to, keeping it a valid Parquet file after
/// every append.
///
/// Layout: `PAR1`, then for each append the new row group's column chunks followed by a fresh
/// footer (`FileMetaData`, its length, `PAR1`) that lists *every* row group so far. The
/// previous footer stays behind as dead bytes that readers never look at, because the
/// footer's offsets point around it. A crash in the middle of an append therefore leaves
/// the previous footer intact, and ``ParquetFooterLocator`` finds it.
///
/// - Schema growth: a column that appears in a later batch is added to the schema; each
///   earlier row group gets a small all-null chunk for it, written with the new row group,
///   so nothing already written is rewritten.
/// - Type changes follow ``ParquetColumnType``: when a column must widen and already holds
///   values, the file is rewritten (temp file + rename) with the column converted.
/// - Compaction rewrites the file with adjacent row groups merged up to
///   ``Options/compactedRowGroupRows`` rows and no dead bytes. Appends leave dead footers
///   (each the size of the footer, which grows with the number of row groups), and fast
///   logging leaves many row groups. A compaction runs when the dead bytes outweigh the live
///   ones (at least ``Options/minimumDeadBytes``): slow logging with many tiny appends; or
///   when the file has doubled since the last compaction (at least
///   ``Options/minimumGrowthBytes``): fast logging, where merging keeps the row-group count,
///   hence the footer, small. Both triggers are geometric, so the total rewriting stays
///   proportional to the data written.
///
/// Not thread-safe: its owner serializes calls.
final class ParquetFileWriter {
    struct Options {
        var compression: ParquetCompression = .snappy
        /// Write a footer after each row group (a live file), or only in ``finish(compact:)`` (an export).
        var footerAfterEveryRowGroup = true
        /// Row groups are merged up to this many rows when the file is compacted.
        var compactedRowGroupRows = 131_072
        /// The table, for messages and the file's `noko.table` metadata.
        var table: String
        /// Receives warnings (type changes, reserved keys).
        var warn: (String) -> Void = { _ in }
        /// Dead bytes never trigger a compaction below this.
        var minimumDeadBytes: Int64 = 1 << 20
        /// Growth never triggers a compaction below this.
        var minimumGrowthBytes: Int64 = 64 << 20
    }

    /// A column of the file.
    struct Column {
        var name: String
        var type: ParquetColumnType
        /// The types of the non-null values written so far; empty while the column is all null.
        var observed: ParquetColumnTypeSet
    }

    /// The `created_by` string of files noko writes.
    static let createdBy = "noko-swift"

    let path: String
    let options: Options
    /// The open file; nil for a new file until its first row group, which puts it in place
    /// whole (see ``appendRowGroup(_:adding:)``).
    private var openFile: FileDescriptor?
    /// False for a file the atomic writer owns (an export), which it syncs and closes.
    private let ownsFile: Bool
    private var isClosed = false
    private(set) var columns: [Column] = []
    private var columnIndex: [String: Int] = [:]
    private(set) var rowGroups: [ParquetRowGroup] = []
    /// Each row group's footer encoding, cached until its metadata changes.
    private var encodedRowGroups: [[UInt8]?] = []
    /// The length of the valid file: everything after it is scratch.
    private(set) var end: Int64 = 0
    /// ``end`` right after the last compaction (or when the file was opened).
    private var endAtLastCompaction: Int64 = 0
    /// The bytes of every live column chunk.
    private var chunkBytes: Int64 = 0
    /// The bytes of the last footer written, with its length and magic.
    private var footerBytesWritten: Int64 = 0
    /// True while bytes of a failed append that could not be cut off lie after ``end``: cut
    /// before the next append, since readers find the footer at the very end of the file.
    private var hasTornTail = false
    private var warnedTypeChanges: Set<String> = []
    private var warnedReservedKeys: Set<String> = []

    var rowCount: Int64 { rowGroups.reduce(0) { $0 + $1.numRows } }

    /// The open file, for what only runs once a row group exists (a rewrite, an export's footer).
    private var file: FileDescriptor {
        get throws(ParquetError) {
            guard let openFile else { throw ParquetError(file: path, "the file has no row group yet") }
            return openFile
        }
    }

    /// Starts a new file at `path`, replacing any file there with the first row group.
    init(creating path: String, options: Options) throws {
        self.path = path
        self.options = options
        AtomicFile.removeLeftovers(beside: path)
        ownsFile = true
    }

    /// Writes a new file into `file`, an empty file the caller owns (the atomic writer's
    /// temporary file); ``finish(compactIfWorthwhile:)`` neither syncs nor closes it.
    init(writingTo file: FileDescriptor, path: String, options: Options) {
        self.path = path
        self.options = options
        openFile = file
        ownsFile = false
    }

    deinit {
        if ownsFile && !isClosed { openFile?.closeIgnoringErrors() }
    }

    /// Continues the file at `path` (a resumed run): repairs a torn tail, then appends after
    /// the last valid footer. A file with no valid footer at all is started anew, and a file
    /// whose schema noko can't extend is an error (the caller leaves it alone).
    init(resuming path: String, options: Options) throws {
        self.path = path
        self.options = options
        AtomicFile.removeLeftovers(beside: path)
        let file = try FileDescriptor.open(path, .update)
        ownsFile = true
        let size = Int64(try file.size())
        guard let footer = try ParquetFooterLocator.locate(in: file, size: size) else {
            if size > 0 {
                options.warn(
                    "parquet: \(path) has no complete footer (a crash before its first row group was written); "
                        + "starting it anew. `noko-run export` rebuilds it from the journal")
            }
            // Replaced whole by the first row group, as a new file is.
            file.closeIgnoringErrors()
            return
        }
        openFile = file
        let metadata = footer.metadata
        var loaded: [Column] = []
        for element in metadata.schema.dropFirst() {
            guard let type = ParquetColumnType(writtenBy: element) else {
                throw ParquetError(
                    file: path,
                    "column '\(element.name)' is not a column noko writes (nullable BOOLEAN, INT64, DOUBLE or UTF8); "
                        + "move the file away to log into a new one")
            }
            // Whether a resumed column held values is unknown without reading it; assume it did,
            // so a later type change rewrites it rather than reinterpreting it.
            var observed = ParquetColumnTypeSet()
            observed.insert(type)
            loaded.append(Column(name: element.name, type: type, observed: observed))
        }
        guard metadata.schema.count - 1 == Int(metadata.schema.first?.numChildren ?? 0) else {
            throw ParquetError(file: path, "the schema is nested; noko appends to flat files only")
        }
        if footer.end < size {
            try file.truncate(to: UInt64(footer.end))
            options.warn(
                "parquet: repaired \(path): removed \(size - footer.end) bytes of an interrupted append; "
                    + "it keeps \(metadata.numRows) rows in \(metadata.rowGroups.count) row groups "
                    + "(`noko-run export` rebuilds the rest from the journal)")
        }
        columns = loaded
        for (i, column) in columns.enumerated() { columnIndex[column.name] = i }
        rowGroups = metadata.rowGroups
        encodedRowGroups = Array(repeating: nil, count: rowGroups.count)
        end = footer.end
        endAtLastCompaction = end
        chunkBytes = ParquetFileWriter.chunkBytes(of: rowGroups)
        footerBytesWritten = footer.end - footer.start
    }

    private static func chunkBytes(of rowGroups: [ParquetRowGroup]) -> Int64 {
        rowGroups.reduce(0) { $0 + $1.columns.reduce(0) { $0 + ($1.metaData?.totalCompressedSize ?? 0) } }
    }


    // MARK: - Appending

    /// Appends `batch` as one row group (then a footer, for a live file). On a write error the
    /// file is cut back to its previous valid end and the batch is not recorded.
    func append(_ batch: ParquetBatch) throws {
        guard batch.rowCount > 0 else { return }
        for key in batch.reservedKeys.sorted() where warnedReservedKeys.insert(key).inserted {
            options.warn(
                "parquet: table '\(options.table)' has a key '\(key)', which is a bookkeeping column; "
                    + "its values are left out of \(URL(fileURLWithPath: path).lastPathComponent)")
        }
        var targetTypes = columns.map(\.type)
        var newObserved = columns.map(\.observed)
        var added: [Column] = []
        var addedIndex: [String: Int] = [:]
        for column in batch.columns {
            if let i = columnIndex[column.name] {
                let union = unionWarning(column.name, old: newObserved[i], new: column.observed)
                newObserved[i] = union
                targetTypes[i] = union.joined ?? targetTypes[i]
            } else if let j = addedIndex[column.name] {
                added[j].observed.formUnion(column.observed)
            } else {
                let union = unionWarning(column.name, old: ParquetColumnTypeSet(), new: column.observed)
                addedIndex[column.name] = added.count
                added.append(
                    Column(name: column.name, type: union.joined ?? ParquetBatchBuilder.untypedColumnType, observed: union))
            }
        }
        // Columns that held no value yet change type for free; others need a rewrite.
        var needsRewrite = false
        for i in columns.indices where targetTypes[i] != columns[i].type {
            if columns[i].observed.isEmpty {
                retype(column: i, to: targetTypes[i])
            } else {
                needsRewrite = true
            }
        }
        if needsRewrite { try rewrite(types: targetTypes) }
        for i in columns.indices { columns[i].observed = newObserved[i] }

        if hasTornTail {
            try file.truncate(to: UInt64(end))
            hasTornTail = false
        }
        let saved = (columns, columnIndex, rowGroups, encodedRowGroups)
        do {
            try appendRowGroup(batch, adding: added)
        } catch {
            (columns, columnIndex, rowGroups, encodedRowGroups) = saved
            if let file = openFile, (try? file.truncate(to: UInt64(end))) == nil { hasTornTail = true }
            throw error
        }
    }

    /// Bytes no footer refers to any more: superseded footers and replaced chunks.
    var deadBytes: Int64 { end == 0 ? 0 : end - 4 - chunkBytes - footerBytesWritten }

    /// Whether a compaction would pay for itself (see the type's description).
    var compactionIsDue: Bool {
        guard rowGroups.count > 1 else { return false }
        let live = end - deadBytes
        let grown = end - endAtLastCompaction
        return deadBytes >= max(live, options.minimumDeadBytes) || grown >= max(endAtLastCompaction, options.minimumGrowthBytes)
    }

    /// Rewrites the file without dead bytes and with small row groups merged.
    func compact() throws {
        try rewrite(types: columns.map(\.type))
    }

    /// Whether the file is worth compacting when it is closed: more than a sixteenth of it is
    /// dead, or its row groups average under a sixteenth of the compacted size (slow logging
    /// leaves many small ones). Row groups of ``ParquetOutput/rowGroupRows`` rows with a few
    /// dead footers between them are left alone: readers don't mind, and rewriting a large
    /// file at close would make closing slow.
    var isUntidy: Bool {
        guard !rowGroups.isEmpty else { return false }
        let averageRows = rowCount / Int64(rowGroups.count)
        return deadBytes * 16 > end || (rowGroups.count > 1 && averageRows * 16 < Int64(options.compactedRowGroupRows))
    }

    /// Completes the file: writes the footer (an export), or compacts a live file that
    /// ``isUntidy``; then syncs and closes it.
    func finish(compactIfWorthwhile: Bool = true) throws {
        if !options.footerAfterEveryRowGroup {
            try writeFooter()
        } else if compactIfWorthwhile && isUntidy {
            try compact()
        }
        guard ownsFile, let file = openFile else { return }
        try file.sync()
        isClosed = true
        try file.close()
    }

    /// Gives an export with no rows its columns, so that ``finish(compactIfWorthwhile:)``
    /// writes a footer-only file with the table's schema.
    func declareColumns(_ batchColumns: [ParquetBatchColumn]) {
        precondition(rowGroups.isEmpty && !options.footerAfterEveryRowGroup, "only an empty export declares columns")
        for column in batchColumns where columnIndex[column.name] == nil {
            columnIndex[column.name] = columns.count
            columns.append(Column(name: column.name, type: column.data.type, observed: column.observed))
        }
    }

    // MARK: - Internals

    private func unionWarning(_ name: String, old: ParquetColumnTypeSet, new: ParquetColumnTypeSet) -> ParquetColumnTypeSet {
        var union = old
        union.formUnion(new)
        guard union != old, union.members.count > 1 else { return union }
        let key = "\(name)\u{0}\(union.bits)"
        if warnedTypeChanges.insert(key).inserted, let widest = union.joined {
            let types = union.members.map(\.description).joined(separator: ", ")
            options.warn(
                "parquet: key '\(name)' of table '\(options.table)' has values of types \(types); its column in "
                    + "\(URL(fileURLWithPath: path).lastPathComponent) is \(widest), and other values are converted "
                    + (widest == .string ? "to their text" : "to \(widest)"))
        }
        return union
    }

    /// Changes the type of a column that holds no values: its chunks are definition levels
    /// only, the same bytes for every type, so only the metadata changes.
    private func retype(column i: Int, to type: ParquetColumnType) {
        columns[i].type = type
        for g in rowGroups.indices {
            rowGroups[g].columns[i].metaData?.type = type.physicalType.rawValue
            encodedRowGroups[g] = nil
        }
    }

    private func appendRowGroup(_ batch: ParquetBatch, adding added: [Column]) throws {
        let base = end
        var buffer: [UInt8] = end == 0 ? parquetMagic : []
        var addedChunkBytes: Int64 = 0
        func offset() -> Int64 { base + Int64(buffer.count) }

        for column in added {
            let index = columns.count
            columns.append(column)
            columnIndex[column.name] = index
            for g in rowGroups.indices {
                let chunk = ParquetColumnEncoder.encode(
                    .allNull(rowCount: Int(rowGroups[g].numRows), type: column.type), compression: options.compression)
                rowGroups[g].columns.append(ParquetColumnChunk(metaData: chunk.metaData(path: column.name, at: offset())))
                rowGroups[g].totalByteSize += chunk.uncompressedSize
                encodedRowGroups[g] = nil
                addedChunkBytes += Int64(chunk.bytes.count)
                buffer.append(contentsOf: chunk.bytes)
            }
        }

        var batchColumns: [String: Int] = [:]
        for (i, column) in batch.columns.enumerated() { batchColumns[column.name] = i }
        var chunks: [ParquetColumnChunk] = []
        var totalByteSize: Int64 = 0
        for column in columns {
            let data: ParquetColumnData
            if let i = batchColumns[column.name] {
                let given = batch.columns[i].data
                data = given.type == column.type ? given : given.converted(to: column.type)
            } else {
                data = .allNull(rowCount: batch.rowCount, type: column.type)
            }
            let chunk = ParquetColumnEncoder.encode(data, compression: options.compression)
            chunks.append(ParquetColumnChunk(metaData: chunk.metaData(path: column.name, at: offset())))
            totalByteSize += chunk.uncompressedSize
            addedChunkBytes += Int64(chunk.bytes.count)
            buffer.append(contentsOf: chunk.bytes)
        }
        rowGroups.append(ParquetRowGroup(columns: chunks, totalByteSize: totalByteSize, numRows: Int64(batch.rowCount)))
        encodedRowGroups.append(nil)
        var footerLength = footerBytesWritten
        if options.footerAfterEveryRowGroup {
            let footer = footerBytes()
            footerLength = Int64(footer.count)
            buffer.append(contentsOf: footer)
        }
        if let file = openFile {
            try file.writeAll(buffer, at: UInt64(base))
        } else {
            // A new file appears with its first row group and footer, by rename, or not at
            // all: created first and written after, a kill in between would leave an empty
            // file that pyarrow, pandas and DuckDB refuse.
            try AtomicFile.write(buffer, to: path)
            openFile = try FileDescriptor.open(path, .update)
        }
        end = base + Int64(buffer.count)
        chunkBytes += addedChunkBytes
        footerBytesWritten = footerLength
    }

    /// The footer for the current state, with its length and closing magic.
    private func footerBytes() -> [UInt8] {
        for g in rowGroups.indices where encodedRowGroups[g] == nil {
            encodedRowGroups[g] = rowGroups[g].encodedAsListElement
        }
        let root = ParquetSchemaElement(name: "schema", numChildren: Int32(columns.count))
        let metadata = ParquetFileMetaData(
            schema: [root] + columns.map { $0.type.schemaElement(name: $0.name) }, numRows: rowCount,
            rowGroups: rowGroups, keyValueMetadata: [ParquetKeyValue(key: "noko.table", value: options.table)],
            createdBy: ParquetFileWriter.createdBy)
        var bytes = metadata.encoded(encodedRowGroups: encodedRowGroups.map { $0! })
        let length = UInt32(bytes.count)
        for b in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: length >> (8 * UInt32(b)))) }
        bytes.append(contentsOf: parquetMagic)
        return bytes
    }

    private func writeFooter() throws {
        if end == 0 {
            try file.writeAll(parquetMagic, at: 0)
            end = 4
        }
        let bytes = footerBytes()
        try file.writeAll(bytes, at: UInt64(end))
        end += Int64(bytes.count)
        footerBytesWritten = Int64(bytes.count)
    }

    /// Rewrites the file with columns converted to `types` and adjacent row groups merged.
    ///
    /// A file of its own goes through the atomic writer: a crash leaves the original intact
    /// (and a temporary file, removed at the next open). An export's file already is the
    /// atomic writer's temporary file, which nobody reads until it is complete, so the
    /// rewrite goes to a scratch file and is copied back over it.
    private func rewrite(types: [ParquetColumnType]) throws {
        let previous = (columns, rowGroups, encodedRowGroups)
        var written: (end: Int64, footerLength: Int64) = (0, 0)
        var notDurable: NokoSystemError?
        do {
            if ownsFile {
                // The new file is opened for the later row groups before it is renamed into
                // place: once it has replaced the old one, no open is left that could fail and
                // leave the writer appending to the old, unlinked file.
                var rewritten: FileDescriptor?
                do {
                    notDurable = try AtomicFile.write(to: path) { scratch in
                        written = try writeRewritten(types: types, into: scratch)
                        rewritten = try FileDescriptor.open(scratch.path, .update)
                    }
                } catch {
                    rewritten?.closeIgnoringErrors()
                    throw error
                }
                openFile?.closeIgnoringErrors()
                openFile = rewritten
            } else {
                let scratchPath = try file.path + ".rewrite"
                let scratch = try FileDescriptor.open(scratchPath, .readWrite)
                defer {
                    scratch.closeIgnoringErrors()
                    _ = try? FileSystem.remove(scratchPath)
                }
                try scratch.truncate(to: 0)
                written = try writeRewritten(types: types, into: scratch)
                try copy(written.end, bytesFrom: scratch, into: file)
                try file.truncate(to: UInt64(written.end))
            }
        } catch {
            (columns, rowGroups, encodedRowGroups) = previous
            throw error
        }
        end = written.end
        endAtLastCompaction = end
        chunkBytes = ParquetFileWriter.chunkBytes(of: rowGroups)
        footerBytesWritten = written.footerLength
        hasTornTail = false
        // Rewritten all the same; said after the new file is adopted.
        if let notDurable { throw notDurable }
    }

    /// Writes the rewritten file into `output` from offset 0 and adopts its metadata;
    /// returns its length and the length of its footer.
    private func writeRewritten(types: [ParquetColumnType], into scratch: FileDescriptor) throws -> (end: Int64, footerLength: Int64) {
        var output = ParquetRewriteOutput(file: scratch)
        output.append(parquetMagic)
        var merged: [ParquetRowGroup] = []
        for run in mergeRuns() {
            var chunks: [ParquetColumnChunk] = []
            var totalByteSize: Int64 = 0
            for (i, column) in columns.enumerated() {
                let sources = run.map { rowGroups[$0].columns[i].metaData! }
                let chunk = try rewrittenChunk(column, to: types[i], from: sources, at: output.offset)
                totalByteSize += chunk.meta.totalUncompressedSize
                chunks.append(ParquetColumnChunk(metaData: chunk.meta))
                output.append(chunk.bytes)
                try output.spill()
            }
            let rows = run.reduce(Int64(0)) { $0 + rowGroups[$1].numRows }
            merged.append(ParquetRowGroup(columns: chunks, totalByteSize: totalByteSize, numRows: rows))
        }
        for i in columns.indices { columns[i].type = types[i] }
        rowGroups = merged
        encodedRowGroups = Array(repeating: nil, count: merged.count)
        var footerLength: Int64 = 0
        if options.footerAfterEveryRowGroup {
            let footer = footerBytes()
            footerLength = Int64(footer.count)
            output.append(footer)
        }
        let end = output.offset
        try output.spill(all: true)
        return (end, footerLength)
    }

    /// Copies the first `count` bytes of `source` over the start of `target`.
    private func copy(_ count: Int64, bytesFrom source: FileDescriptor, into target: FileDescriptor) throws {
        var offset: Int64 = 0
        while offset < count {
            let chunk = try source.readExactly(count: Int(min(8 << 20, count - offset)), at: offset)
            try target.writeAll(chunk, at: UInt64(offset))
            offset += Int64(chunk.count)
        }
    }

    /// Groups of adjacent row groups to merge: as many as fit in the compacted size.
    private func mergeRuns() -> [[Int]] {
        var runs: [[Int]] = []
        var current: [Int] = []
        var rows: Int64 = 0
        for (g, rowGroup) in rowGroups.enumerated() {
            if !current.isEmpty && rows + rowGroup.numRows > Int64(options.compactedRowGroupRows) {
                runs.append(current)
                current = []
                rows = 0
            }
            current.append(g)
            rows += rowGroup.numRows
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }

    /// The merged chunk of `column` over `sources`, converted to `type`: the source bytes
    /// themselves when they can simply be concatenated (same type and codec, no dictionary
    /// page but for a lone source), else decoded and re-encoded.
    private func rewrittenChunk(
        _ column: Column, to type: ParquetColumnType, from sources: [ParquetColumnMetaData], at offset: Int64
    ) throws -> (meta: ParquetColumnMetaData, bytes: [UInt8]) {
        let sameForm = sources.allSatisfy {
            $0.type == type.physicalType.rawValue && $0.codec == options.compression.codec
        }
        if sameForm && (sources.count == 1 || sources.allSatisfy { $0.dictionaryPageOffset == nil }) {
            var bytes: [UInt8] = []
            var encodings: [Int32] = []
            var meta = sources[0]
            meta.numValues = 0
            meta.totalUncompressedSize = 0
            meta.totalCompressedSize = 0
            for source in sources {
                bytes.append(contentsOf: try file.readExactly(count: Int(source.totalCompressedSize), at: source.chunkStart))
                meta.numValues += source.numValues
                meta.totalUncompressedSize += source.totalUncompressedSize
                meta.totalCompressedSize += source.totalCompressedSize
                for encoding in source.encodings where !encodings.contains(encoding) { encodings.append(encoding) }
            }
            meta.encodings = encodings
            meta.dataPageOffset = offset + (sources[0].dataPageOffset - sources[0].chunkStart)
            meta.dictionaryPageOffset = sources[0].dictionaryPageOffset == nil ? nil : offset
            meta.pathInSchema = [column.name]
            return (meta, bytes)
        }
        let descriptor = try ParquetColumnDescriptor(column.type.schemaElement(name: column.name))
        if type == .string && column.type == .string && sources.allSatisfy({ $0.dictionaryPageOffset != nil }),
            let merged = try mergedDictionaries(sources, descriptor: descriptor)
        {
            let chunk = ParquetColumnEncoder.encode(
                present: merged.present, dictionary: merged.dictionary, compression: options.compression)
            return (chunk.metaData(path: column.name, at: offset), chunk.bytes)
        }
        var data: ParquetColumnData?
        for source in sources {
            let bytes = try file.readExactly(count: Int(source.totalCompressedSize), at: source.chunkStart)
            var decoded = try bytes.withUnsafeBytes {
                try ParquetColumnDecoder.decode(
                    chunk: $0, column: descriptor, codec: source.codec, numValues: source.numValues)
            }
            if decoded.type != type { decoded = decoded.converted(to: type) }
            if data == nil { data = decoded } else { data!.append(decoded) }
        }
        let chunk = ParquetColumnEncoder.encode(data!, compression: options.compression)
        return (chunk.metaData(path: column.name, at: offset), chunk.bytes)
    }
}

extension ParquetFileWriter {
    /// Dictionary-encoded string chunks merged at the dictionary level: each source's
    /// dictionary is folded into one and its indices remapped, so a compaction hashes a few
    /// distinct strings rather than every row's (`$localtime` is in every table). Nil when a
    /// source is not entirely dictionary-encoded or the merged dictionary no longer pays.
    fileprivate func mergedDictionaries(
        _ sources: [ParquetColumnMetaData], descriptor: ParquetColumnDescriptor
    ) throws -> (present: [Bool], dictionary: StringDictionary)? {
        var present: [Bool] = []
        var merged = StringDictionary(entries: [], indices: [])
        var positions: [String: UInt32] = [:]
        var bytes = 0
        for source in sources {
            let chunk = try file.readExactly(count: Int(source.totalCompressedSize), at: source.chunkStart)
            guard
                let coded = try chunk.withUnsafeBytes({
                    try ParquetColumnDecoder.decodeDictionaryCoded(
                        chunk: $0, column: descriptor, codec: source.codec, numValues: source.numValues)
                })
            else { return nil }
            let remap = coded.dictionary.entries.map { entry -> UInt32 in
                if let known = positions[entry] { return known }
                let index = UInt32(merged.entries.count)
                positions[entry] = index
                merged.entries.append(entry)
                bytes += entry.utf8.count + 4
                return index
            }
            merged.indices.append(contentsOf: coded.dictionary.indices.lazy.map { remap[Int($0)] })
            present.append(contentsOf: coded.present)
        }
        guard StringDictionary.pays(entries: merged.entries.count, bytes: bytes, values: merged.indices.count) else {
            return nil
        }
        return (present, merged)
    }
}

/// Buffered sequential output of a rewrite, written out in large pieces.
private struct ParquetRewriteOutput {
    let file: FileDescriptor
    private var buffer: [UInt8] = []
    private var written: Int64 = 0

    init(file: FileDescriptor) { self.file = file }

    /// The file offset the next appended byte will have.
    var offset: Int64 { written + Int64(buffer.count) }

    mutating func append(_ bytes: [UInt8]) { buffer.append(contentsOf: bytes) }

    /// Writes the buffer out once it is large (or always, with `all`).
    mutating func spill(all: Bool = false) throws {
        guard all || buffer.count >= 8 << 20 else { return }
        try file.writeAll(buffer, at: UInt64(written))
        written += Int64(buffer.count)
        buffer.removeAll(keepingCapacity: true)
    }
}
