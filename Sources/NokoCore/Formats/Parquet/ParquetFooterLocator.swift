import NokoPlatform

/// A footer found in a Parquet file, and where it sits.
struct ParquetFooter {
    var metadata: ParquetFileMetaData
    /// Offset of the footer's Thrift bytes.
    var start: Int64
    /// Offset just after the closing `PAR1`: where a valid file with this footer ends.
    var end: Int64
}

/// Finds the footer a reader should use: normally the one at the end of the file; after an
/// interrupted append (a crash in the middle of writing a row group), the last earlier footer
/// that parses and whose row groups lie inside the file before it.
///
/// noko's writer appends each row group followed by a fresh footer, so earlier footers remain
/// in the file as dead bytes; the last complete one describes every row group written before
/// the crash.
enum ParquetFooterLocator {
    private static let scanBlock = 1 << 20

    /// The last valid footer, or nil when the file has none (empty, not Parquet, or torn
    /// before its first footer).
    static func locate(in file: FileDescriptor, size: Int64) throws -> ParquetFooter? {
        guard size >= 12, try file.readExactly(count: 4, at: 0) == parquetMagic else { return nil }
        if let footer = try candidate(endingAt: size, in: file) { return footer }
        var blockEnd = size
        while blockEnd > 4 {
            let blockStart = max(0, blockEnd - Int64(scanBlock))
            let readEnd = min(size, blockEnd + 3)
            let bytes = try file.readExactly(count: Int(readEnd - blockStart), at: blockStart)
            // Candidate ends e with bytes [e-4, e) == "PAR1", blockStart+4 <= e <= readEnd, latest first.
            var i = bytes.count - 4
            while i >= 0 {
                if bytes[i] == 0x50 && bytes[i + 1] == 0x41 && bytes[i + 2] == 0x52 && bytes[i + 3] == 0x31 {
                    let end = blockStart + Int64(i) + 4
                    if end < size, let footer = try candidate(endingAt: end, in: file) { return footer }
                }
                i -= 1
            }
            blockEnd = blockStart
        }
        return nil
    }

    /// The footer whose closing magic ends at `end`, if the bytes there are a valid footer.
    private static func candidate(endingAt end: Int64, in file: FileDescriptor) throws -> ParquetFooter? {
        guard end >= 12 else { return nil }
        let tail = try file.readExactly(count: 8, at: end - 8)
        guard Array(tail[4..<8]) == parquetMagic else { return nil }
        let length = Int64(tail[0]) | Int64(tail[1]) << 8 | Int64(tail[2]) << 16 | Int64(tail[3]) << 24
        let start = end - 8 - length
        guard length > 0, start >= 4 else { return nil }
        let bytes = try file.readExactly(count: Int(length), at: start)
        guard let metadata = try? bytes.withUnsafeBytes({ try ParquetFileMetaData(decoding: $0) }),
            isConsistent(metadata, before: start)
        else { return nil }
        return ParquetFooter(metadata: metadata, start: start, end: end)
    }

    /// Whether a decoded footer describes data that exists: every column chunk lies between
    /// the leading magic and the footer, and the counts agree with the schema.
    static func isConsistent(_ metadata: ParquetFileMetaData, before footerStart: Int64) -> Bool {
        guard let root = metadata.schema.first, metadata.numRows >= 0 else { return false }
        let leaves = metadata.schema.dropFirst().filter { ($0.numChildren ?? 0) == 0 }.count
        if metadata.schema.count > 1 && (root.numChildren ?? 0) <= 0 { return false }
        var rows: Int64 = 0
        for rowGroup in metadata.rowGroups {
            guard rowGroup.numRows >= 0, rowGroup.columns.count == leaves else { return false }
            for chunk in rowGroup.columns {
                guard chunk.filePath == nil, let meta = chunk.metaData, meta.numValues >= 0,
                    meta.totalCompressedSize >= 0,
                    meta.totalCompressedSize == 0
                        || (meta.chunkStart >= 4 && meta.chunkStart <= footerStart - meta.totalCompressedSize)
                else { return false }
            }
            rows += rowGroup.numRows
        }
        return rows == metadata.numRows
    }
}
