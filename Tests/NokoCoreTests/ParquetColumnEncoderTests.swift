import Testing
@testable import NokoCore

@Suite("ParquetColumnEncoder")
struct ParquetColumnEncoderTests {
    private func decode(_ chunk: ParquetEncodedChunk) throws -> ParquetColumnData {
        let descriptor = try ParquetColumnDescriptor(chunk.type.schemaElement(name: "c"))
        return try chunk.bytes.withUnsafeBytes {
            try ParquetColumnDecoder.decode(
                chunk: $0, column: descriptor, codec: chunk.compression.codec, numValues: chunk.numValues)
        }
    }

    private static let columns: [ParquetColumnData] = {
        let n = 70_001  // three data pages
        let present = (0..<n).map { $0 % 7 != 3 }
        let count = present.filter { $0 }.count
        return [
            ParquetColumnData(present: present, values: .int64s((0..<count).map { Int64($0) * 7919 - 1_000_000 })),
            ParquetColumnData(
                present: present,
                values: .doubles((0..<count).map { [Double.nan, .infinity, -.infinity, -0.0, 0.1][$0 % 5] * Double($0 % 3) })),
            ParquetColumnData(present: present, values: .booleans((0..<count).map { $0 % 3 == 0 })),
            ParquetColumnData(present: present, values: .strings((0..<count).map { ["", "β", "🎉 x", "plain"][$0 % 4] })),
            ParquetColumnData(present: present, values: .strings((0..<count).map { "unique \($0)" })),
        ]
    }()

    @Test(arguments: [ParquetCompression.none, .snappy], 0..<5)
    func roundTripsEveryTypeWithNullsAcrossPages(compression: ParquetCompression, index: Int) throws {
        let column = Self.columns[index]
        let chunk = ParquetColumnEncoder.encode(column, compression: compression)
        let decoded = try decode(chunk)
        #expect(decoded.present == column.present)
        // Compare through scalars so NaN compares by bit pattern, not by ==.
        #expect(decoded.scalars().map(\.description) == column.scalars().map(\.description))
    }

    @Test func dictionaryEncodesRepetitiveStringsOnly() {
        let repetitive = ParquetColumnEncoder.encode(Self.columns[3], compression: .none)
        #expect(repetitive.hasDictionaryPage)
        #expect(repetitive.encodings.contains(ParquetEncoding.rleDictionary.rawValue))
        let unique = ParquetColumnEncoder.encode(Self.columns[4], compression: .none)
        #expect(!unique.hasDictionaryPage)
        #expect(repetitive.bytes.count * 10 < unique.bytes.count)
    }

    @Test func longStringsSplitPagesByBytes() throws {
        let big = String(repeating: "x", count: 5 << 20)
        let column = ParquetColumnData(
            present: (0..<40).map { $0 % 3 != 0 }, values: .strings((0..<26).map { "\($0)" + big }))
        let chunk = ParquetColumnEncoder.encode(column, compression: .none)
        let decoded = try decode(chunk)
        #expect(decoded.present == column.present)
        #expect(decoded.scalars() == column.scalars())
        // 26 strings of 5 MiB in pages of at most 64 MiB (plus one value): at least three pages.
        var pages = 0
        var position = 0
        try chunk.bytes.withUnsafeBytes { raw in
            while position < raw.count {
                var reader = ThriftCompactReader(raw, position: position)
                let header = try ParquetPageHeader(reading: &reader)
                #expect(header.uncompressedPageSize < 80 << 20)
                position = reader.position + Int(header.compressedPageSize)
                pages += 1
            }
        }
        #expect(pages >= 3)
    }

    @Test func allNullChunksAreTheSameBytesForEveryType() {
        let encodings = ParquetColumnType.allCases.map {
            ParquetColumnEncoder.encode(.allNull(rowCount: 1234, type: $0), compression: .snappy)
        }
        for chunk in encodings {
            #expect(chunk.bytes == encodings[0].bytes)
            #expect(!chunk.hasDictionaryPage)
        }
    }

    @Test func metadataPointsAtThePages() {
        let chunk = ParquetColumnEncoder.encode(Self.columns[3], compression: .none)
        let meta = chunk.metaData(path: "c", at: 1000)
        #expect(meta.dictionaryPageOffset == 1000)
        #expect(meta.dataPageOffset == 1000 + Int64(chunk.dataPageOffset))
        #expect(meta.chunkRange == 1000..<(1000 + Int64(chunk.bytes.count)))
        #expect(meta.numValues == 70_001)
        #expect(meta.type == ParquetPhysicalType.byteArray.rawValue)
    }
}
