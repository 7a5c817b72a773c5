/// Encodes one column of a row group into a Parquet column chunk: an optional dictionary page
/// and data pages (format v1) with RLE definition levels and PLAIN or dictionary-encoded values,
/// each page compressed with the chosen codec.
enum ParquetColumnEncoder {
    /// Rows per data page: 256 KiB of 8-byte values, small enough for readers to stream.
    static let pageRows = 32_768

    static func encode(_ column: ParquetColumnData, compression: ParquetCompression) -> ParquetEncodedChunk {
        if case .strings(let strings) = column.values, let dictionary = StringDictionary(strings) {
            return encode(present: column.present, dictionary: dictionary, compression: compression)
        }
        var pageBytes: ((Int) -> Int)?
        if case .strings(let strings) = column.values {
            pageBytes = { 4 + strings[$0].utf8.count }
        }
        return encodePages(column.present, type: column.type, compression: compression, dictionary: nil, valueBytes: pageBytes) {
            appendPlain(column.values, range: $0, into: &$1)
        }
    }

    /// A string column given as a dictionary and one index per present row: how merged
    /// dictionary chunks are re-encoded without materializing every string.
    static func encode(present: [Bool], dictionary: StringDictionary, compression: ParquetCompression) -> ParquetEncodedChunk {
        let bitWidth = max(1, RLEHybridEncoder.bitWidth(forMaximum: dictionary.entries.count - 1))
        return encodePages(present, type: .string, compression: compression, dictionary: dictionary.entries) { range, body in
            body.append(UInt8(bitWidth))
            dictionary.indices.withUnsafeBufferPointer { indices in
                RLEHybridEncoder.encode(count: range.count, bitWidth: bitWidth, into: &body) { indices[range.lowerBound + $0] }
            }
        }
    }

    /// Values per data page stop growing past this many bytes (long strings), keeping every
    /// page far below the format's 2 GiB limit.
    static let pageBytes = 64 << 20

    /// The pages of a chunk: a dictionary page when `dictionary` is given, then data pages of
    /// ``pageRows`` rows (fewer when `valueBytes`, the encoded size of value `i`, adds up to
    /// ``pageBytes``) whose values `appendValues` encodes, given the range of values.
    private static func encodePages(
        _ present: [Bool], type: ParquetColumnType, compression: ParquetCompression, dictionary: [String]?,
        valueBytes: ((Int) -> Int)? = nil, appendValues: (Range<Int>, inout [UInt8]) -> Void
    ) -> ParquetEncodedChunk {
        var chunk = ParquetEncodedChunk(type: type, compression: compression, numValues: Int64(present.count))
        if let dictionary {
            var body: [UInt8] = []
            appendPlain(.strings(dictionary), into: &body)
            let header = ParquetPageHeader(
                type: ParquetPageType.dictionaryPage.rawValue, uncompressedPageSize: 0, compressedPageSize: 0,
                dictionaryPage: ParquetDictionaryPageHeader(
                    numValues: Int32(dictionary.count), encoding: ParquetEncoding.plain.rawValue))
            chunk.appendPage(header: header, body: body)
            chunk.dataPageOffset = chunk.bytes.count
            chunk.hasDictionaryPage = true
        }
        let valueEncoding: ParquetEncoding = dictionary == nil ? .plain : .rleDictionary
        chunk.encodings =
            dictionary == nil
            ? [ParquetEncoding.plain.rawValue, ParquetEncoding.rle.rawValue]
            : [ParquetEncoding.plain.rawValue, ParquetEncoding.rle.rawValue, ParquetEncoding.rleDictionary.rawValue]

        var firstValue = 0
        var pageStart = 0
        present.withUnsafeBufferPointer { present in
            repeat {
                var pageEnd = min(pageStart + pageRows, present.count)
                if let valueBytes {
                    var bytes = 0
                    var value = firstValue
                    for row in pageStart..<pageEnd where present[row] {
                        bytes += valueBytes(value)
                        value += 1
                        if bytes >= pageBytes {
                            pageEnd = row + 1
                            break
                        }
                    }
                }
                var body: [UInt8] = [0, 0, 0, 0]
                RLEHybridEncoder.encode(count: pageEnd - pageStart, bitWidth: 1, into: &body) {
                    present[pageStart + $0] ? 1 : 0
                }
                let levelsLength = UInt32(body.count - 4)
                for b in 0..<4 { body[b] = UInt8(truncatingIfNeeded: levelsLength >> (8 * UInt32(b))) }
                var valueCount = 0
                for i in pageStart..<pageEnd where present[i] { valueCount += 1 }
                appendValues(firstValue..<(firstValue + valueCount), &body)
                let header = ParquetPageHeader(
                    type: ParquetPageType.dataPage.rawValue, uncompressedPageSize: 0, compressedPageSize: 0,
                    dataPage: ParquetDataPageHeader(
                        numValues: Int32(pageEnd - pageStart), encoding: valueEncoding.rawValue,
                        definitionLevelEncoding: ParquetEncoding.rle.rawValue,
                        repetitionLevelEncoding: ParquetEncoding.rle.rawValue))
                chunk.appendPage(header: header, body: body)
                firstValue += valueCount
                pageStart = pageEnd
            } while pageStart < present.count
        }
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
}

/// The distinct strings of a column and, for each value, its position among them.
struct StringDictionary {
    var entries: [String]
    var indices: [UInt32]

    /// A dictionary larger than this falls back to PLAIN.
    static let maximumBytes = 1 << 20

    /// Whether a dictionary of `entries` distinct strings totalling `bytes` pays for `values`
    /// values: at most one distinct string per two values, and under ``maximumBytes``.
    static func pays(entries: Int, bytes: Int, values: Int) -> Bool {
        entries * 2 <= values + 1 && bytes <= maximumBytes
    }

    /// The dictionary of `strings`, or nil when it doesn't pay (see ``pays(entries:bytes:values:)``).
    init?(_ strings: [String]) {
        guard !strings.isEmpty else { return nil }
        var positions: [String: UInt32] = [:]
        entries = []
        indices = []
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
                guard StringDictionary.pays(entries: entries.count, bytes: bytes, values: strings.count) else { return nil }
            }
            indices.append(index)
            previous = string
            previousIndex = index
        }
    }

    init(entries: [String], indices: [UInt32]) {
        self.entries = entries
        self.indices = indices
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
