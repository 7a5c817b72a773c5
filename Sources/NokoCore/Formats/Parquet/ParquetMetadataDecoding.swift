/// Decoding of Parquet's metadata structs from Thrift compact bytes. Unknown fields (newer
/// format versions, statistics, page indexes, encryption) are skipped.

extension ParquetFileMetaData {
    /// Decodes a footer; throws on truncated or malformed data and on missing required fields.
    init(decoding bytes: UnsafeRawBufferPointer) throws(ThriftDecodingError) {
        var reader = ThriftCompactReader(bytes)
        var version: Int32?
        var schema: [ParquetSchemaElement]?
        var numRows: Int64?
        var rowGroups: [ParquetRowGroup]?
        var keyValueMetadata: [ParquetKeyValue] = []
        var createdBy: String?
        while let (id, type) = try reader.readFieldHeader() {
            switch id {
            case 1: version = try reader.readI32(type)
            case 2:
                schema = try reader.readStructList(type) { r throws(ThriftDecodingError) in
                    try ParquetSchemaElement(reading: &r)
                }
            case 3: numRows = try reader.readI64(type)
            case 4:
                rowGroups = try reader.readStructList(type) { r throws(ThriftDecodingError) in
                    try ParquetRowGroup(reading: &r)
                }
            case 5:
                keyValueMetadata = try reader.readStructList(type) { r throws(ThriftDecodingError) in
                    var key: String?
                    var value: String?
                    try r.readStruct { r, id, type throws(ThriftDecodingError) in
                        switch id {
                        case 1: key = try r.readString(type)
                        case 2: value = try r.readString(type)
                        default: try r.skip(type)
                        }
                    }
                    guard let key else { throw ThriftDecodingError("KeyValue without a key") }
                    return ParquetKeyValue(key: key, value: value)
                }
            case 6: createdBy = try reader.readString(type)
            default: try reader.skip(type)
            }
        }
        guard let version, let schema, let numRows, let rowGroups else {
            throw ThriftDecodingError("FileMetaData lacks a required field")
        }
        self.init(
            version: version, schema: schema, numRows: numRows, rowGroups: rowGroups,
            keyValueMetadata: keyValueMetadata, createdBy: createdBy)
    }
}

extension ParquetSchemaElement {
    init(reading reader: inout ThriftCompactReader) throws(ThriftDecodingError) {
        var element = ParquetSchemaElement(name: "")
        var hasName = false
        try reader.readStruct { r, id, type throws(ThriftDecodingError) in
            switch id {
            case 1: element.type = try r.readI32(type)
            case 2: element.typeLength = try r.readI32(type)
            case 3: element.repetition = try r.readI32(type)
            case 4:
                element.name = try r.readString(type)
                hasName = true
            case 5: element.numChildren = try r.readI32(type)
            case 6: element.convertedType = try r.readI32(type)
            case 7: element.scale = try r.readI32(type)
            case 8: element.precision = try r.readI32(type)
            case 10:
                // A union: remember which member is set, skip its contents.
                try r.readStruct { r, member, memberType throws(ThriftDecodingError) in
                    element.logicalType = member
                    try r.skip(memberType)
                }
            default: try r.skip(type)
            }
        }
        guard hasName else { throw ThriftDecodingError("SchemaElement without a name") }
        self = element
    }
}

extension ParquetRowGroup {
    init(reading reader: inout ThriftCompactReader) throws(ThriftDecodingError) {
        var columns: [ParquetColumnChunk]?
        var totalByteSize: Int64?
        var numRows: Int64?
        try reader.readStruct { r, id, type throws(ThriftDecodingError) in
            switch id {
            case 1:
                columns = try r.readStructList(type) { r throws(ThriftDecodingError) in
                    try ParquetColumnChunk(reading: &r)
                }
            case 2: totalByteSize = try r.readI64(type)
            case 3: numRows = try r.readI64(type)
            default: try r.skip(type)
            }
        }
        guard let columns, let totalByteSize, let numRows else {
            throw ThriftDecodingError("RowGroup lacks a required field")
        }
        self.init(columns: columns, totalByteSize: totalByteSize, numRows: numRows)
    }
}

extension ParquetColumnChunk {
    init(reading reader: inout ThriftCompactReader) throws(ThriftDecodingError) {
        var chunk = ParquetColumnChunk()
        try reader.readStruct { r, id, type throws(ThriftDecodingError) in
            switch id {
            case 1: chunk.filePath = try r.readString(type)
            case 2: chunk.fileOffset = try r.readI64(type)
            case 3: chunk.metaData = try ParquetColumnMetaData(reading: &r)
            default: try r.skip(type)
            }
        }
        self = chunk
    }
}

extension ParquetColumnMetaData {
    init(reading reader: inout ThriftCompactReader) throws(ThriftDecodingError) {
        var type: Int32?
        var encodings: [Int32] = []
        var path: [String] = []
        var codec: Int32?
        var numValues: Int64?
        var uncompressed: Int64?
        var compressed: Int64?
        var dataPageOffset: Int64?
        var dictionaryPageOffset: Int64?
        try reader.readStruct { r, id, fieldType throws(ThriftDecodingError) in
            switch id {
            case 1: type = try r.readI32(fieldType)
            case 2:
                let (elementType, count) = try r.readListHeader(fieldType)
                for _ in 0..<count { encodings.append(try r.readI32(elementType)) }
            case 3:
                let (elementType, count) = try r.readListHeader(fieldType)
                for _ in 0..<count { path.append(try r.readString(elementType)) }
            case 4: codec = try r.readI32(fieldType)
            case 5: numValues = try r.readI64(fieldType)
            case 6: uncompressed = try r.readI64(fieldType)
            case 7: compressed = try r.readI64(fieldType)
            case 9: dataPageOffset = try r.readI64(fieldType)
            case 11: dictionaryPageOffset = try r.readI64(fieldType)
            default: try r.skip(fieldType)
            }
        }
        guard let type, let codec, let numValues, let uncompressed, let compressed, let dataPageOffset else {
            throw ThriftDecodingError("ColumnMetaData lacks a required field")
        }
        self.init(
            type: type, encodings: encodings, pathInSchema: path, codec: codec, numValues: numValues,
            totalUncompressedSize: uncompressed, totalCompressedSize: compressed, dataPageOffset: dataPageOffset,
            dictionaryPageOffset: dictionaryPageOffset)
    }
}

extension ParquetPageHeader {
    /// Decodes the page header at `reader`'s position, leaving it just after the header.
    init(reading reader: inout ThriftCompactReader) throws(ThriftDecodingError) {
        var type: Int32?
        var uncompressed: Int32?
        var compressed: Int32?
        var dataPage: ParquetDataPageHeader?
        var dictionaryPage: ParquetDictionaryPageHeader?
        var dataPageV2: ParquetDataPageHeaderV2?
        while let (id, fieldType) = try reader.readFieldHeader() {
            switch id {
            case 1: type = try reader.readI32(fieldType)
            case 2: uncompressed = try reader.readI32(fieldType)
            case 3: compressed = try reader.readI32(fieldType)
            case 5:
                var fields = [Int32?](repeating: nil, count: 5)
                try reader.readStruct { r, id, t throws(ThriftDecodingError) in
                    if (1...4).contains(id) { fields[Int(id)] = try r.readI32(t) } else { try r.skip(t) }
                }
                guard let n = fields[1], let e = fields[2] else { throw ThriftDecodingError("DataPageHeader lacks a field") }
                dataPage = ParquetDataPageHeader(
                    numValues: n, encoding: e, definitionLevelEncoding: fields[3] ?? ParquetEncoding.rle.rawValue,
                    repetitionLevelEncoding: fields[4] ?? ParquetEncoding.rle.rawValue)
            case 7:
                var fields = [Int32?](repeating: nil, count: 3)
                try reader.readStruct { r, id, t throws(ThriftDecodingError) in
                    if (1...2).contains(id) { fields[Int(id)] = try r.readI32(t) } else { try r.skip(t) }
                }
                guard let n = fields[1] else { throw ThriftDecodingError("DictionaryPageHeader lacks a field") }
                dictionaryPage = ParquetDictionaryPageHeader(numValues: n, encoding: fields[2] ?? ParquetEncoding.plain.rawValue)
            case 8:
                var fields = [Int32?](repeating: nil, count: 7)
                var isCompressed = true
                try reader.readStruct { r, id, t throws(ThriftDecodingError) in
                    if (1...6).contains(id) {
                        fields[Int(id)] = try r.readI32(t)
                    } else if id == 7 {
                        isCompressed = try r.readBool(t)
                    } else {
                        try r.skip(t)
                    }
                }
                guard let n = fields[1], let nulls = fields[2], let rows = fields[3], let e = fields[4],
                    let defLength = fields[5], let repLength = fields[6]
                else { throw ThriftDecodingError("DataPageHeaderV2 lacks a field") }
                dataPageV2 = ParquetDataPageHeaderV2(
                    numValues: n, numNulls: nulls, numRows: rows, encoding: e, definitionLevelsByteLength: defLength,
                    repetitionLevelsByteLength: repLength, isCompressed: isCompressed)
            default: try reader.skip(fieldType)
            }
        }
        guard let type, let uncompressed, let compressed else { throw ThriftDecodingError("PageHeader lacks a field") }
        self.init(
            type: type, uncompressedPageSize: uncompressed, compressedPageSize: compressed, dataPage: dataPage,
            dictionaryPage: dictionaryPage, dataPageV2: dataPageV2)
    }
}

extension ThriftCompactReader {
    /// Reads a list of structs with `element`, which reads one struct (fields and end).
    mutating func readStructList<T>(
        _ type: ThriftCompactType, _ element: (inout ThriftCompactReader) throws(ThriftDecodingError) -> T
    ) throws(ThriftDecodingError) -> [T] {
        let (elementType, count) = try readListHeader(type)
        guard elementType == .structure else { throw ThriftDecodingError("expected a list of structs") }
        var result: [T] = []
        result.reserveCapacity(count)
        for _ in 0..<count { result.append(try element(&self)) }
        return result
    }
}
