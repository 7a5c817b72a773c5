/// What the decoder needs to know about a flat column.
struct ParquetColumnDescriptor {
    var name: String
    var physicalType: ParquetPhysicalType
    /// 1 for a nullable column, 0 for a required one.
    var maximumDefinitionLevel: Int
    /// How values read back: INT32 widens to int64, FLOAT to double.
    var valueType: ParquetColumnType

    /// The descriptor of a leaf of a flat schema, or an error naming what noko can't read.
    init(_ element: ParquetSchemaElement) throws {
        name = element.name
        guard (element.numChildren ?? 0) == 0 else {
            throw ParquetError(file: nil, "column '\(element.name)' is nested; noko reads flat tables only")
        }
        guard let raw = element.type, let physical = ParquetPhysicalType(rawValue: raw) else {
            throw ParquetError(file: nil, "column '\(element.name)' has no physical type")
        }
        physicalType = physical
        switch element.repetition ?? ParquetRepetition.required.rawValue {
        case ParquetRepetition.required.rawValue: maximumDefinitionLevel = 0
        case ParquetRepetition.optional.rawValue: maximumDefinitionLevel = 1
        default: throw ParquetError(file: nil, "column '\(element.name)' is repeated; noko reads flat tables only")
        }
        if element.convertedType == parquetConvertedTypeDecimal || element.logicalType == parquetLogicalTypeDecimalField {
            throw ParquetError(file: nil, "column '\(element.name)' holds decimals, which noko doesn't read")
        }
        switch physical {
        case .boolean: valueType = .boolean
        case .int32, .int64: valueType = .int64
        case .float, .double: valueType = .double
        case .byteArray: valueType = .string
        case .int96, .fixedLengthByteArray:
            throw ParquetError(
                file: nil, "column '\(element.name)' has type \(parquetTypeName(raw)), which noko doesn't read")
        }
    }
}

/// Decodes a column chunk's pages into values: dictionary pages, data pages v1 and v2, PLAIN,
/// dictionary (RLE_DICTIONARY / PLAIN_DICTIONARY) and RLE boolean values, RLE definition
/// levels, uncompressed or Snappy. Anything else throws an error naming the column.
enum ParquetColumnDecoder {
    static func decode(
        chunk: UnsafeRawBufferPointer, column: ParquetColumnDescriptor, codec: Int32, numValues: Int64
    ) throws -> ParquetColumnData {
        var noIndices: [UInt32]? = nil
        do {
            return try decodePages(chunk: chunk, column: column, codec: codec, numValues: numValues, indices: &noIndices).data
        } catch let error as ParquetError {
            throw ParquetError(file: nil, "column '\(column.name)': \(error.message)")
        }
    }

    /// A string chunk whose data pages are all dictionary-encoded, as its dictionary and one
    /// index per present row (without materializing a string per row); nil when some page
    /// is not dictionary-encoded.
    static func decodeDictionaryCoded(
        chunk: UnsafeRawBufferPointer, column: ParquetColumnDescriptor, codec: Int32, numValues: Int64
    ) throws -> (present: [Bool], dictionary: StringDictionary)? {
        var indices: [UInt32]? = []
        do {
            let (data, dictionary) = try decodePages(
                chunk: chunk, column: column, codec: codec, numValues: numValues, indices: &indices)
            guard case .strings(let entries)? = dictionary, let indices else { return nil }
            return (data.present, StringDictionary(entries: entries, indices: indices))
        } catch is NotDictionaryCoded {
            return nil
        } catch let error as ParquetError {
            throw ParquetError(file: nil, "column '\(column.name)': \(error.message)")
        }
    }

    /// Thrown inside ``decodeDictionaryCoded(chunk:column:codec:numValues:)`` at a page that
    /// is not dictionary-encoded.
    private struct NotDictionaryCoded: Error {}

    /// Decodes the pages; with `indices` non-nil, dictionary indices are collected there
    /// instead of being expanded into values.
    private static func decodePages(
        chunk: UnsafeRawBufferPointer, column: ParquetColumnDescriptor, codec: Int32, numValues: Int64,
        indices: inout [UInt32]?
    ) throws -> (data: ParquetColumnData, dictionary: ParquetValues?) {
        guard codec == 0 || codec == 1 else {
            throw ParquetError(
                file: nil, "compression \(parquetCodecName(codec)) is not supported (noko reads uncompressed and SNAPPY)")
        }
        var result = ParquetColumnData(present: [], values: .empty(column.valueType))
        // Not more: a corrupt footer may claim any count.
        result.present.reserveCapacity(Int(clamping: min(numValues, 1 << 20)))
        var dictionary: ParquetValues?
        var position = 0
        while Int64(result.rowCount) < numValues {
            guard position < chunk.count else {
                throw ParquetError(file: nil, "chunk ends after \(result.rowCount) of \(numValues) values")
            }
            var reader = ThriftCompactReader(chunk, position: position)
            let header: ParquetPageHeader
            do {
                header = try ParquetPageHeader(reading: &reader)
            } catch {
                throw ParquetError(file: nil, "bad page header at chunk byte \(position): \(error)")
            }
            let bodyStart = reader.position
            let stored = Int(header.compressedPageSize)
            guard stored >= 0, header.uncompressedPageSize >= 0, chunk.count - bodyStart >= stored else {
                throw ParquetError(file: nil, "page at chunk byte \(position) overruns the chunk")
            }
            let body = UnsafeRawBufferPointer(rebasing: chunk[bodyStart..<(bodyStart + stored)])
            position = bodyStart + stored
            switch ParquetPageType(rawValue: header.type) {
            case .dictionaryPage:
                guard let info = header.dictionaryPage else { throw ParquetError(file: nil, "dictionary page without its header") }
                let data = try decompress(body, codec: codec, uncompressedSize: Int(header.uncompressedPageSize))
                dictionary = try data.withUnsafeBytes { bytes throws in
                    var cursor = 0
                    var values = ParquetValues.empty(column.valueType)
                    try appendPlain(bytes, &cursor, count: Int(info.numValues), column: column, into: &values)
                    return values
                }
            case .dataPage:
                guard let info = header.dataPage else { throw ParquetError(file: nil, "data page without its header") }
                let data = try decompress(body, codec: codec, uncompressedSize: Int(header.uncompressedPageSize))
                try data.withUnsafeBytes { bytes throws in
                    var cursor = 0
                    let rows = try pageValueCount(info.numValues)
                    if column.maximumDefinitionLevel > 0 {
                        guard info.definitionLevelEncoding == ParquetEncoding.rle.rawValue else {
                            throw ParquetError(
                                file: nil,
                                "definition levels in \(parquetEncodingName(info.definitionLevelEncoding)) are not supported")
                        }
                        let length = try readLengthPrefix(bytes, &cursor)
                        try appendLevels(UnsafeRawBufferPointer(rebasing: bytes[cursor..<(cursor + length)]), rows, &result)
                        cursor += length
                    } else {
                        result.present.append(contentsOf: repeatElement(true, count: rows))
                    }
                    let present = result.present[(result.rowCount - rows)...].reduce(0) { $1 ? $0 + 1 : $0 }
                    try appendValues(
                        bytes, &cursor, count: present, encoding: info.encoding, column: column, dictionary: dictionary,
                        into: &result.values, indices: &indices)
                }
            case .dataPageV2:
                guard let info = header.dataPageV2 else { throw ParquetError(file: nil, "data page v2 without its header") }
                let levels = Int(info.definitionLevelsByteLength) + Int(info.repetitionLevelsByteLength)
                guard info.definitionLevelsByteLength >= 0, info.repetitionLevelsByteLength >= 0, levels <= body.count
                else { throw ParquetError(file: nil, "data page v2 levels overrun the page") }
                let rows = try pageValueCount(info.numValues)
                if column.maximumDefinitionLevel > 0 {
                    let start = Int(info.repetitionLevelsByteLength)
                    try appendLevels(UnsafeRawBufferPointer(rebasing: body[start..<levels]), rows, &result)
                } else {
                    result.present.append(contentsOf: repeatElement(true, count: rows))
                }
                let valuesPart = UnsafeRawBufferPointer(rebasing: body[levels...])
                let data =
                    info.isCompressed
                    ? try decompress(valuesPart, codec: codec, uncompressedSize: Int(header.uncompressedPageSize) - levels)
                    : Array(valuesPart)
                let present = rows - (try pageValueCount(info.numNulls))
                try data.withUnsafeBytes { bytes throws in
                    var cursor = 0
                    try appendValues(
                        bytes, &cursor, count: present, encoding: info.encoding, column: column, dictionary: dictionary,
                        into: &result.values, indices: &indices)
                }
            case .indexPage:
                continue
            case nil:
                throw ParquetError(file: nil, "unknown page type \(header.type)")
            }
        }
        let valueCount = indices?.count ?? result.values.count
        guard valueCount == result.present.reduce(0, { $1 ? $0 + 1 : $0 }) else {
            throw ParquetError(file: nil, "value count does not match the definition levels")
        }
        return (result, dictionary)
    }

    /// A page header's value count, which a corrupt file can make negative.
    private static func pageValueCount(_ count: Int32) throws -> Int {
        guard count >= 0 else { throw ParquetError(file: nil, "page header claims \(count) values") }
        return Int(count)
    }

    private static func decompress(
        _ body: UnsafeRawBufferPointer, codec: Int32, uncompressedSize: Int
    ) throws -> [UInt8] {
        guard codec == 1 else { return Array(body) }
        do {
            let data = try SnappyDecompressor.decompress(body)
            guard data.count == uncompressedSize else {
                throw ParquetError(
                    file: nil, "page decompressed to \(data.count) bytes, its header says \(uncompressedSize)")
            }
            return data
        } catch let error as SnappyError {
            throw ParquetError(file: nil, error.description)
        }
    }

    private static func appendLevels(_ bytes: UnsafeRawBufferPointer, _ rows: Int, _ result: inout ParquetColumnData) throws {
        var decoded = 0
        try RLEHybridDecoder.decode(bytes, count: rows, bitWidth: 1) { level in
            result.present.append(level == 1)
            decoded += 1
        }
        guard decoded == rows else { throw ParquetError(file: nil, "definition levels end early") }
    }

    private static func readLengthPrefix(_ bytes: UnsafeRawBufferPointer, _ cursor: inout Int) throws -> Int {
        guard bytes.count - cursor >= 4 else { throw ParquetError(file: nil, "page is truncated") }
        let length = Int(bytes.loadUnaligned(fromByteOffset: cursor, as: UInt32.self).littleEndian)
        cursor += 4
        guard bytes.count - cursor >= length else { throw ParquetError(file: nil, "RLE length overruns the page") }
        return length
    }

    private static func appendValues(
        _ bytes: UnsafeRawBufferPointer, _ cursor: inout Int, count: Int, encoding rawEncoding: Int32,
        column: ParquetColumnDescriptor, dictionary: ParquetValues?, into values: inout ParquetValues,
        indices collected: inout [UInt32]?
    ) throws {
        guard count >= 0 else { throw ParquetError(file: nil, "page header claims \(count) values") }
        let encoding = ParquetEncoding(rawValue: rawEncoding)
        if collected != nil && encoding != .plainDictionary && encoding != .rleDictionary && count > 0 {
            throw NotDictionaryCoded()
        }
        switch encoding {
        case .plain:
            try appendPlain(bytes, &cursor, count: count, column: column, into: &values)
        case .plainDictionary, .rleDictionary:
            guard let dictionary else { throw ParquetError(file: nil, "dictionary-encoded page without a dictionary") }
            guard count > 0 else { return }
            guard cursor < bytes.count else { throw ParquetError(file: nil, "page is truncated") }
            let bitWidth = Int(bytes[cursor])
            cursor += 1
            var indices: [Int] = []
            indices.reserveCapacity(count)
            try RLEHybridDecoder.decode(UnsafeRawBufferPointer(rebasing: bytes[cursor...]), count: count, bitWidth: bitWidth) {
                indices.append(Int($0))
            }
            guard indices.count == count else { throw ParquetError(file: nil, "dictionary indices end early") }
            guard indices.allSatisfy({ $0 < dictionary.count }) else {
                throw ParquetError(file: nil, "dictionary index out of range")
            }
            if collected != nil {
                collected!.append(contentsOf: indices.lazy.map { UInt32($0) })
                return
            }
            switch (values, dictionary) {
            case (.booleans(var v), .booleans(let d)):
                v.append(contentsOf: indices.lazy.map { d[$0] })
                values = .booleans(v)
            case (.int64s(var v), .int64s(let d)):
                v.append(contentsOf: indices.lazy.map { d[$0] })
                values = .int64s(v)
            case (.doubles(var v), .doubles(let d)):
                v.append(contentsOf: indices.lazy.map { d[$0] })
                values = .doubles(v)
            case (.strings(var v), .strings(let d)):
                v.append(contentsOf: indices.lazy.map { d[$0] })
                values = .strings(v)
            default:
                throw ParquetError(file: nil, "dictionary type does not match the column")
            }
        case .rle where column.physicalType == .boolean:
            let length = try readLengthPrefix(bytes, &cursor)
            guard case .booleans(var v) = values else { return }
            try RLEHybridDecoder.decode(UnsafeRawBufferPointer(rebasing: bytes[cursor..<(cursor + length)]), count: count, bitWidth: 1) {
                v.append($0 == 1)
            }
            cursor += length
            values = .booleans(v)
        default:
            throw ParquetError(file: nil, "values in \(parquetEncodingName(rawEncoding)) are not supported")
        }
    }

    private static func appendPlain(
        _ bytes: UnsafeRawBufferPointer, _ cursor: inout Int, count: Int, column: ParquetColumnDescriptor,
        into values: inout ParquetValues
    ) throws {
        guard count >= 0 else { throw ParquetError(file: nil, "page header claims \(count) values") }
        let truncated = ParquetError(file: nil, "PLAIN values are truncated")
        switch (column.physicalType, values) {
        case (.int64, .int64s(var v)):
            guard bytes.count - cursor >= 8 * count else { throw truncated }
            for i in 0..<count { v.append(Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: cursor + 8 * i, as: Int64.self))) }
            cursor += 8 * count
            values = .int64s(v)
        case (.int32, .int64s(var v)):
            guard bytes.count - cursor >= 4 * count else { throw truncated }
            for i in 0..<count {
                v.append(Int64(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: cursor + 4 * i, as: Int32.self))))
            }
            cursor += 4 * count
            values = .int64s(v)
        case (.double, .doubles(var v)):
            guard bytes.count - cursor >= 8 * count else { throw truncated }
            for i in 0..<count {
                v.append(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: cursor + 8 * i, as: UInt64.self))))
            }
            cursor += 8 * count
            values = .doubles(v)
        case (.float, .doubles(var v)):
            guard bytes.count - cursor >= 4 * count else { throw truncated }
            for i in 0..<count {
                v.append(Double(Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: cursor + 4 * i, as: UInt32.self)))))
            }
            cursor += 4 * count
            values = .doubles(v)
        case (.boolean, .booleans(var v)):
            guard bytes.count - cursor >= (count + 7) / 8 else { throw truncated }
            for i in 0..<count { v.append(bytes[cursor + i / 8] >> UInt8(i % 8) & 1 == 1) }
            cursor += (count + 7) / 8
            values = .booleans(v)
        case (.byteArray, .strings(var v)):
            for _ in 0..<count {
                guard bytes.count - cursor >= 4 else { throw truncated }
                let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: cursor, as: UInt32.self)))
                cursor += 4
                guard bytes.count - cursor >= length else { throw truncated }
                v.append(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[cursor..<(cursor + length)]), as: UTF8.self))
                cursor += length
            }
            values = .strings(v)
        default:
            throw ParquetError(file: nil, "values do not match the column type")
        }
    }
}
