/// Encodes one column of a row group into a Parquet column chunk: an optional dictionary page
/// and data pages (format v1) with RLE definition levels and PLAIN or dictionary-encoded values,
/// each page compressed with the chosen codec.
enum ParquetColumnEncoder {
    /// Rows per data page: 256 KiB of 8-byte values, small enough for readers to stream.
    static let pageRows = 32_768
    /// A dictionary larger than this falls back to PLAIN.
    static let maximumDictionaryBytes = 1 << 20

    static func encode(_ column: ParquetColumnData, compression: ParquetCompression) -> ParquetEncodedChunk {
        var chunk = ParquetEncodedChunk(type: column.type, compression: compression, numValues: Int64(column.rowCount))
        var dictionaryIndices: [UInt32]?
        var dictionaryBitWidth = 0
        if case .strings(let strings) = column.values, let dictionary = buildDictionary(strings) {
            var body: [UInt8] = []
            appendPlain(.strings(dictionary.entries), into: &body)
            let header = ParquetPageHeader(
                type: ParquetPageType.dictionaryPage.rawValue, uncompressedPageSize: 0, compressedPageSize: 0,
                dictionaryPage: ParquetDictionaryPageHeader(
                    numValues: Int32(dictionary.entries.count), encoding: ParquetEncoding.plain.rawValue))
            chunk.appendPage(header: header, body: body)
            chunk.dataPageOffset = chunk.bytes.count
            chunk.hasDictionaryPage = true
            dictionaryIndices = dictionary.indices
            dictionaryBitWidth = max(1, RLEHybridEncoder.bitWidth(forMaximum: dictionary.entries.count - 1))
        }
        let valueEncoding: ParquetEncoding = dictionaryIndices == nil ? .plain : .rleDictionary
        chunk.encodings = dictionaryIndices == nil
            ? [ParquetEncoding.plain.rawValue, ParquetEncoding.rle.rawValue]
            : [ParquetEncoding.plain.rawValue, ParquetEncoding.rle.rawValue, ParquetEncoding.rleDictionary.rawValue]

        var firstValue = 0
        var pageStart = 0
        repeat {
            let pageEnd = min(pageStart + pageRows, column.rowCount)
            var body: [UInt8] = [0, 0, 0, 0]
            column.present.withUnsafeBufferPointer { present in
                RLEHybridEncoder.encode(count: pageEnd - pageStart, bitWidth: 1, into: &body) {
                    present[pageStart + $0] ? 1 : 0
                }
            }
            let levelsLength = UInt32(body.count - 4)
            for b in 0..<4 { body[b] = UInt8(truncatingIfNeeded: levelsLength >> (8 * UInt32(b))) }
            var valueCount = 0
            for i in pageStart..<pageEnd where column.present[i] { valueCount += 1 }
            let valueRange = firstValue..<(firstValue + valueCount)
            if let indices = dictionaryIndices {
                body.append(UInt8(dictionaryBitWidth))
                indices.withUnsafeBufferPointer { indices in
                    RLEHybridEncoder.encode(count: valueRange.count, bitWidth: dictionaryBitWidth, into: &body) {
                        indices[valueRange.lowerBound + $0]
                    }
                }
            } else {
                appendPlain(column.values, range: valueRange, into: &body)
            }
            let header = ParquetPageHeader(
                type: ParquetPageType.dataPage.rawValue, uncompressedPageSize: 0, compressedPageSize: 0,
                dataPage: ParquetDataPageHeader(
                    numValues: Int32(pageEnd - pageStart), encoding: valueEncoding.rawValue,
                    definitionLevelEncoding: ParquetEncoding.rle.rawValue,
                    repetitionLevelEncoding: ParquetEncoding.rle.rawValue))
            chunk.appendPage(header: header, body: body)
            firstValue += valueCount
            pageStart = pageEnd
        } while pageStart < column.rowCount
        return chunk
    }

    /// PLAIN encoding of the values in `range` (all of them by default).
    static func appendPlain(_ values: ParquetValues, range: Range<Int>? = nil, into output: inout [UInt8]) {
        let range = range ?? 0..<values.count
        switch values {
        case .int64s(let v):
            v[range].withUnsafeBytes { output.append(contentsOf: $0) }
        case .doubles(let v):
            v[range].withUnsafeBytes { output.append(contentsOf: $0) }
        case .booleans(let v):
            var byte: UInt8 = 0
            var bit = 0
            for flag in v[range] {
                if flag { byte |= 1 << UInt8(bit) }
                bit += 1
                if bit == 8 {
                    output.append(byte)
                    byte = 0
                    bit = 0
                }
            }
            if bit > 0 { output.append(byte) }
        case .strings(let v):
            for var string in v[range] {
                string.withUTF8 { utf8 in
                    let length = UInt32(utf8.count)
                    for b in 0..<4 { output.append(UInt8(truncatingIfNeeded: length >> (8 * UInt32(b)))) }
                    output.append(contentsOf: utf8)
                }
            }
        }
    }

    private struct StringDictionary {
        var entries: [String]
        var indices: [UInt32]
    }

    /// A dictionary for `strings` when it pays: at most one distinct value per two values and
    /// under ``maximumDictionaryBytes``; nil otherwise.
    private static func buildDictionary(_ strings: [String]) -> StringDictionary? {
        guard !strings.isEmpty else { return nil }
        var positions: [String: UInt32] = [:]
        var entries: [String] = []
        var indices: [UInt32] = []
        indices.reserveCapacity(strings.count)
        var bytes = 0
        var previous: String?
        var previousIndex: UInt32 = 0
        for string in strings {
            // Consecutive repeats (a run's `$localtime` within one second) skip the hash lookup.
            if let previous, previous == string {
                indices.append(previousIndex)
                continue
            }
            let index: UInt32
            if let known = positions[string] {
                index = known
            } else {
                index = UInt32(entries.count)
                positions[string] = index
                entries.append(string)
                bytes += string.utf8.count + 4
                if entries.count * 2 > strings.count + 1 || bytes > maximumDictionaryBytes { return nil }
            }
            indices.append(index)
            previous = string
            previousIndex = index
        }
        return StringDictionary(entries: entries, indices: indices)
    }
}

/// A column chunk's bytes and what its metadata needs, with offsets relative to the chunk.
struct ParquetEncodedChunk {
    var type: ParquetColumnType
    var compression: ParquetCompression
    /// Rows in the chunk, nulls included (Parquet's `num_values` for a flat column).
    var numValues: Int64
    var bytes: [UInt8] = []
    /// Where the first data page starts within ``bytes`` (after the dictionary page, if any).
    var dataPageOffset = 0
    var hasDictionaryPage = false
    var uncompressedSize: Int64 = 0
    var encodings: [Int32] = []

    init(type: ParquetColumnType, compression: ParquetCompression, numValues: Int64) {
        self.type = type
        self.compression = compression
        self.numValues = numValues
    }

    /// Appends a page, compressing its body; the header's sizes are filled in here.
    mutating func appendPage(header: ParquetPageHeader, body: [UInt8]) {
        var header = header
        let stored: [UInt8]
        switch compression {
        case .none: stored = body
        case .snappy: stored = body.withUnsafeBytes { SnappyCompressor.compress($0) }
        }
        header.uncompressedPageSize = Int32(body.count)
        header.compressedPageSize = Int32(stored.count)
        let headerBytes = header.encoded()
        bytes.append(contentsOf: headerBytes)
        bytes.append(contentsOf: stored)
        uncompressedSize += Int64(headerBytes.count + body.count)
    }

    /// The chunk's metadata when its bytes start at `offset` in the file.
    func metaData(path: String, at offset: Int64) -> ParquetColumnMetaData {
        ParquetColumnMetaData(
            type: type.physicalType.rawValue, encodings: encodings, pathInSchema: [path], codec: compression.codec,
            numValues: numValues, totalUncompressedSize: uncompressedSize, totalCompressedSize: Int64(bytes.count),
            dataPageOffset: offset + Int64(dataPageOffset), dictionaryPageOffset: hasDictionaryPage ? offset : nil)
    }
}
