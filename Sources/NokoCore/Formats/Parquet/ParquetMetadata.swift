/// Parquet's metadata structs (parquet.thrift), holding the fields noko writes and reads,
/// with their Thrift compact encoding. Decoding lives next to the reader
/// (`ParquetMetadataDecoding.swift`); fields a decoder doesn't know are skipped.

/// One node of the schema tree, flattened depth-first; the first element is the root.
struct ParquetSchemaElement: Equatable {
    var type: Int32?
    var typeLength: Int32?
    var repetition: Int32?
    var name: String
    var numChildren: Int32?
    var convertedType: Int32?
    var scale: Int32?
    var precision: Int32?
    /// Which field of the `LogicalType` union is set (its id), if any.
    var logicalType: Int16?

    func encode(to writer: inout ThriftCompactWriter) {
        if let type { writer.writeI32(field: 1, type) }
        if let typeLength { writer.writeI32(field: 2, typeLength) }
        if let repetition { writer.writeI32(field: 3, repetition) }
        writer.writeString(field: 4, name)
        if let numChildren { writer.writeI32(field: 5, numChildren) }
        if let convertedType { writer.writeI32(field: 6, convertedType) }
        if let scale { writer.writeI32(field: 7, scale) }
        if let precision { writer.writeI32(field: 8, precision) }
        if let logicalType {
            // A union is a struct with one field set; every logical type noko writes is an
            // empty struct (STRING).
            writer.writeStruct(field: 10) { union in
                union.writeStruct(field: logicalType) { _ in }
            }
        }
    }
}

struct ParquetColumnMetaData: Equatable {
    var type: Int32
    var encodings: [Int32]
    var pathInSchema: [String]
    var codec: Int32
    var numValues: Int64
    var totalUncompressedSize: Int64
    var totalCompressedSize: Int64
    var dataPageOffset: Int64
    var dictionaryPageOffset: Int64?

    /// Where the chunk's bytes start: its dictionary page if it has one, else its first data page.
    var chunkStart: Int64 {
        // Some writers leave `data_page_offset` at 0 in a chunk with no data page (pyarrow,
        // for empty row groups), so 0 doesn't count as an offset.
        if let dictionaryPageOffset, dictionaryPageOffset > 0, dataPageOffset <= 0 || dictionaryPageOffset < dataPageOffset {
            return dictionaryPageOffset
        }
        return dataPageOffset
    }

    /// The byte range of the chunk in the file.
    var chunkRange: Range<Int64> { chunkStart..<(chunkStart + totalCompressedSize) }

    func encode(to writer: inout ThriftCompactWriter) {
        writer.writeI32(field: 1, type)
        writer.writeListHeader(field: 2, elementType: .i32, count: encodings.count)
        for encoding in encodings { writer.writeListElementI32(encoding) }
        writer.writeListHeader(field: 3, elementType: .binary, count: pathInSchema.count)
        for part in pathInSchema { writer.writeListElementString(part) }
        writer.writeI32(field: 4, codec)
        writer.writeI64(field: 5, numValues)
        writer.writeI64(field: 6, totalUncompressedSize)
        writer.writeI64(field: 7, totalCompressedSize)
        writer.writeI64(field: 9, dataPageOffset)
        if let dictionaryPageOffset { writer.writeI64(field: 11, dictionaryPageOffset) }
    }
}

struct ParquetColumnChunk: Equatable {
    var filePath: String?
    /// Deprecated by the format; writers set it to 0.
    var fileOffset: Int64 = 0
    var metaData: ParquetColumnMetaData?

    func encode(to writer: inout ThriftCompactWriter) {
        if let filePath { writer.writeString(field: 1, filePath) }
        writer.writeI64(field: 2, fileOffset)
        if let metaData {
            writer.writeStruct(field: 3) { metaData.encode(to: &$0) }
        }
    }
}

struct ParquetRowGroup: Equatable {
    var columns: [ParquetColumnChunk]
    var totalByteSize: Int64
    var numRows: Int64

    func encode(to writer: inout ThriftCompactWriter) {
        writer.writeListHeader(field: 1, elementType: .structure, count: columns.count)
        for column in columns {
            writer.writeListElementStruct { column.encode(to: &$0) }
        }
        writer.writeI64(field: 2, totalByteSize)
        writer.writeI64(field: 3, numRows)
    }

    /// The struct's encoding as one list element, for footers that cache it.
    var encodedAsListElement: [UInt8] {
        var writer = ThriftCompactWriter(capacity: 64 + 48 * columns.count)
        writer.writeListElementStruct { encode(to: &$0) }
        return writer.bytes
    }
}

struct ParquetKeyValue: Equatable {
    var key: String
    var value: String?
}

struct ParquetFileMetaData: Equatable {
    var version: Int32 = 1
    var schema: [ParquetSchemaElement]
    var numRows: Int64
    var rowGroups: [ParquetRowGroup]
    var keyValueMetadata: [ParquetKeyValue] = []
    var createdBy: String?

    /// The Thrift encoding of the footer. `encodedRowGroups`, when given, holds each row
    /// group's cached ``ParquetRowGroup/encodedAsListElement`` (same count and order), which
    /// spares re-encoding every row group at every append.
    func encoded(encodedRowGroups: [[UInt8]]? = nil) -> [UInt8] {
        var writer = ThriftCompactWriter(capacity: 256 + 64 * schema.count)
        writer.writeI32(field: 1, version)
        writer.writeListHeader(field: 2, elementType: .structure, count: schema.count)
        for element in schema {
            writer.writeListElementStruct { element.encode(to: &$0) }
        }
        writer.writeI64(field: 3, numRows)
        writer.writeListHeader(field: 4, elementType: .structure, count: rowGroups.count)
        if let encodedRowGroups {
            precondition(encodedRowGroups.count == rowGroups.count, "one cached encoding per row group")
            for encoded in encodedRowGroups { writer.writeListElementEncoded(encoded) }
        } else {
            for rowGroup in rowGroups {
                writer.writeListElementStruct { rowGroup.encode(to: &$0) }
            }
        }
        if !keyValueMetadata.isEmpty {
            writer.writeListHeader(field: 5, elementType: .structure, count: keyValueMetadata.count)
            for pair in keyValueMetadata {
                writer.writeListElementStruct { kv in
                    kv.writeString(field: 1, pair.key)
                    if let value = pair.value { kv.writeString(field: 2, value) }
                }
            }
        }
        if let createdBy { writer.writeString(field: 6, createdBy) }
        writer.writeStop()
        return writer.bytes
    }
}

struct ParquetDataPageHeader: Equatable {
    var numValues: Int32
    var encoding: Int32
    var definitionLevelEncoding: Int32
    var repetitionLevelEncoding: Int32
}

struct ParquetDictionaryPageHeader: Equatable {
    var numValues: Int32
    var encoding: Int32
}

struct ParquetDataPageHeaderV2: Equatable {
    var numValues: Int32
    var numNulls: Int32
    var numRows: Int32
    var encoding: Int32
    var definitionLevelsByteLength: Int32
    var repetitionLevelsByteLength: Int32
    var isCompressed: Bool = true
}

struct ParquetPageHeader: Equatable {
    var type: Int32
    var uncompressedPageSize: Int32
    var compressedPageSize: Int32
    var dataPage: ParquetDataPageHeader?
    var dictionaryPage: ParquetDictionaryPageHeader?
    var dataPageV2: ParquetDataPageHeaderV2?

    func encoded() -> [UInt8] {
        var writer = ThriftCompactWriter(capacity: 32)
        writer.writeI32(field: 1, type)
        writer.writeI32(field: 2, uncompressedPageSize)
        writer.writeI32(field: 3, compressedPageSize)
        if let dataPage {
            writer.writeStruct(field: 5) { w in
                w.writeI32(field: 1, dataPage.numValues)
                w.writeI32(field: 2, dataPage.encoding)
                w.writeI32(field: 3, dataPage.definitionLevelEncoding)
                w.writeI32(field: 4, dataPage.repetitionLevelEncoding)
            }
        }
        if let dictionaryPage {
            writer.writeStruct(field: 7) { w in
                w.writeI32(field: 1, dictionaryPage.numValues)
                w.writeI32(field: 2, dictionaryPage.encoding)
            }
        }
        if let dataPageV2 {
            writer.writeStruct(field: 8) { w in
                w.writeI32(field: 1, dataPageV2.numValues)
                w.writeI32(field: 2, dataPageV2.numNulls)
                w.writeI32(field: 3, dataPageV2.numRows)
                w.writeI32(field: 4, dataPageV2.encoding)
                w.writeI32(field: 5, dataPageV2.definitionLevelsByteLength)
                w.writeI32(field: 6, dataPageV2.repetitionLevelsByteLength)
                w.writeBool(field: 7, dataPageV2.isCompressed)
            }
        }
        writer.writeStop()
        return writer.bytes
    }
}
