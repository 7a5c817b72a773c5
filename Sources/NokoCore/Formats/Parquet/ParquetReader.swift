import Foundation
import NokoPlatform

/// Reads flat Parquet files into ``LogTable``s: the files noko's Parquet output writes, and
/// flat files from other writers (pyarrow, DuckDB, polars) with the same kinds of columns.
///
/// Supported: BOOLEAN, INT32 and INT64 (read as `.int`), FLOAT and DOUBLE (`.double`),
/// BYTE_ARRAY (`.string`, decoded as UTF-8); required or nullable columns; PLAIN, dictionary
/// (RLE_DICTIONARY, PLAIN_DICTIONARY) and RLE boolean encodings; data pages v1 and v2;
/// uncompressed or Snappy. Nested columns, other codecs and other encodings are reported
/// with an error naming the column.
///
/// The reader is tolerant of a torn tail: if the file's last bytes are not a valid footer (a
/// crash interrupted an append), it uses the last valid footer before them, which describes
/// every row group written completely. ``ParquetFileInfo/ignoredTailBytes`` says how much
/// was skipped.
package enum ParquetReader {
    /// The table in the file at `url`; only `columns` when given (in that order; names the
    /// file doesn't have are ignored, as the other loaders ignore unknown keys).
    package static func readTable(at url: URL, columns: [String]? = nil) throws -> LogTable {
        try read(at: url, columns: columns).table
    }

    /// The table and what the footer says about it.
    package static func read(at url: URL, columns: [String]? = nil) throws -> ParquetReadResult {
        let file = try FileDescriptor.open(url.path, .read)
        defer { file.closeIgnoringErrors() }
        do {
            let footer = try footer(of: file)
            let info = try ParquetFileInfo(footer: footer, fileSize: Int64(try file.size()))
            let descriptors = try leafDescriptors(footer.metadata)
            let wanted =
                columns.map { names in names.compactMap { name in descriptors.firstIndex { $0.name == name } } }
                ?? Array(descriptors.indices)
            var values = [[Scalar]](repeating: [], count: wanted.count)
            for rowGroup in footer.metadata.rowGroups {
                for (slot, index) in wanted.enumerated() {
                    let data = try readColumn(index, of: rowGroup, descriptor: descriptors[index], from: file)
                    values[slot].append(contentsOf: data.scalars())
                }
            }
            let table = LogTable(columns: wanted.enumerated().map { (descriptors[$0.element].name, values[$0.offset]) })
            return ParquetReadResult(table: table, info: info)
        } catch let error as ParquetError {
            throw error.naming(url.path)
        }
    }

    /// What the footer says, without reading any column.
    package static func info(at url: URL) throws -> ParquetFileInfo {
        let file = try FileDescriptor.open(url.path, .read)
        defer { file.closeIgnoringErrors() }
        do {
            return try ParquetFileInfo(footer: try footer(of: file), fileSize: Int64(try file.size()))
        } catch let error as ParquetError {
            throw error.naming(url.path)
        }
    }

    static func footer(of file: FileDescriptor) throws -> ParquetFooter {
        guard let footer = try ParquetFooterLocator.locate(in: file, size: Int64(try file.size())) else {
            throw ParquetError(file: nil, "not a Parquet file, or no complete footer in it")
        }
        return footer
    }

    static func leafDescriptors(_ metadata: ParquetFileMetaData) throws -> [ParquetColumnDescriptor] {
        let leaves = Array(metadata.schema.dropFirst())
        guard leaves.count == Int(metadata.schema.first?.numChildren ?? 0) else {
            throw ParquetError(file: nil, "the schema is nested; noko reads flat tables only")
        }
        return try leaves.map { try ParquetColumnDescriptor($0) }
    }

    /// Decodes column `index` of `rowGroup`.
    static func readColumn(
        _ index: Int, of rowGroup: ParquetRowGroup, descriptor: ParquetColumnDescriptor, from file: FileDescriptor
    ) throws -> ParquetColumnData {
        guard let meta = rowGroup.columns[index].metaData else {
            throw ParquetError(file: nil, "column '\(descriptor.name)' has no metadata")
        }
        let bytes = try file.readExactly(count: Int(meta.totalCompressedSize), at: meta.chunkStart)
        let data = try bytes.withUnsafeBytes {
            try ParquetColumnDecoder.decode(chunk: $0, column: descriptor, codec: meta.codec, numValues: meta.numValues)
        }
        guard Int64(data.rowCount) == rowGroup.numRows else {
            throw ParquetError(
                file: nil, "column '\(descriptor.name)' has \(data.rowCount) values in a row group of \(rowGroup.numRows) rows")
        }
        return data
    }
}

/// A table read from a Parquet file, with the file's description.
package struct ParquetReadResult: Sendable {
    /// The rows.
    package var table: LogTable
    /// What the footer says.
    package var info: ParquetFileInfo
}

/// What a Parquet file's footer says.
package struct ParquetFileInfo: Sendable {
    /// One column of the file.
    package struct Column: Sendable, Hashable {
        /// The column's name.
        package var name: String
        /// How its values read back.
        package var type: ParquetColumnType
    }

    /// The number of rows.
    package var rowCount: Int64
    /// The number of row groups.
    package var rowGroupCount: Int
    /// The columns, in file order.
    package var columns: [Column]
    /// The file's key/value metadata (noko writes `noko.table`).
    package var keyValueMetadata: [String: String]
    /// The writer, as it names itself.
    package var createdBy: String?
    /// Bytes after the last valid footer, left by an interrupted append; 0 for an intact file.
    package var ignoredTailBytes: Int64

    init(footer: ParquetFooter, fileSize: Int64) throws {
        let metadata = footer.metadata
        rowCount = metadata.numRows
        rowGroupCount = metadata.rowGroups.count
        columns = try ParquetReader.leafDescriptors(metadata).map { Column(name: $0.name, type: $0.valueType) }
        var pairs: [String: String] = [:]
        for pair in metadata.keyValueMetadata { pairs[pair.key] = pair.value ?? "" }
        keyValueMetadata = pairs
        createdBy = metadata.createdBy
        ignoredTailBytes = fileSize - footer.end
    }
}
