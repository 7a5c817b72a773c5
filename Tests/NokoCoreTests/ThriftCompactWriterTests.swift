import Testing
@testable import NokoCore

@Suite("ThriftCompactWriter")
struct ThriftCompactWriterTests {
    @Test func zigzagFoldsSignedIntegers() {
        #expect(ThriftCompactWriter.zigzag(0) == 0)
        #expect(ThriftCompactWriter.zigzag(-1) == 1)
        #expect(ThriftCompactWriter.zigzag(1) == 2)
        #expect(ThriftCompactWriter.zigzag(-2) == 3)
        #expect(ThriftCompactWriter.zigzag(Int64.max) == UInt64.max - 1)
        #expect(ThriftCompactWriter.zigzag(Int64.min) == UInt64.max)
        for value: Int64 in [0, 1, -1, 63, -64, 300, -300, .max, .min] {
            #expect(ThriftCompactReader.unzigzag(ThriftCompactWriter.zigzag(value)) == value)
        }
    }

    @Test func fieldsUseShortHeadersForSmallDeltasAndLongOnesOtherwise() {
        var writer = ThriftCompactWriter()
        writer.writeI32(field: 1, 3)  // delta 1, type i32 (5); zigzag(3) = 6
        writer.writeString(field: 2, "ab")  // delta 1, type binary (8)
        writer.writeI64(field: 20, -1)  // delta 18 > 15: type byte, then zigzag(20) = 40
        writer.writeBool(field: 21, false)  // delta 1, type false (2), no value byte
        writer.writeStop()
        #expect(writer.bytes == [0x15, 0x06, 0x18, 0x02, 0x61, 0x62, 0x06, 0x28, 0x01, 0x12, 0x00])
    }

    @Test func listsLongerThanFourteenCarryAVarintCount() {
        var writer = ThriftCompactWriter()
        writer.writeListHeader(field: 1, elementType: .i32, count: 3)
        writer.writeListHeader(field: 2, elementType: .binary, count: 300)
        #expect(writer.bytes == [0x19, 0x35, 0x19, 0xF8, 0xAC, 0x02])
    }

    @Test func nestedStructsRestartFieldDeltas() {
        var writer = ThriftCompactWriter()
        writer.writeI32(field: 5, 1)
        writer.writeStruct(field: 6) { inner in inner.writeI32(field: 1, 2) }
        writer.writeI32(field: 7, 3)
        writer.writeStop()
        // The inner field 1 is a delta from 0, and field 7 a delta from 6, not from 1.
        #expect(writer.bytes == [0x55, 0x02, 0x1C, 0x15, 0x04, 0x00, 0x15, 0x06, 0x00])
    }

    @Test func footerRoundTripsThroughTheReader() throws {
        let metadata = ParquetFileMetaData(
            schema: [
                ParquetSchemaElement(name: "schema", numChildren: 2),
                ParquetColumnType.int64.schemaElement(name: "$step"),
                ParquetColumnType.string.schemaElement(name: "naïve/key with spaces"),
            ],
            numRows: 70_000,
            rowGroups: (0..<20).map { g in
                ParquetRowGroup(
                    columns: [
                        ParquetColumnChunk(
                            metaData: ParquetColumnMetaData(
                                type: 2, encodings: [0, 3], pathInSchema: ["$step"], codec: 1, numValues: 3500,
                                totalUncompressedSize: 28_100, totalCompressedSize: 9_000, dataPageOffset: 4 + Int64(g) * 99_999)),
                        ParquetColumnChunk(
                            metaData: ParquetColumnMetaData(
                                type: 6, encodings: [0, 3, 8], pathInSchema: ["naïve/key with spaces"], codec: 0,
                                numValues: 3500, totalUncompressedSize: 700, totalCompressedSize: 700,
                                dataPageOffset: 5_000_000_000 + Int64(g), dictionaryPageOffset: 4_999_999_000)),
                    ], totalByteSize: 28_800, numRows: 3500)
            },
            keyValueMetadata: [ParquetKeyValue(key: "noko.table", value: "grad_step"), ParquetKeyValue(key: "k", value: nil)],
            createdBy: "noko-swift")
        let bytes = metadata.encoded()
        let decoded = try bytes.withUnsafeBytes { try ParquetFileMetaData(decoding: $0) }
        #expect(decoded == metadata)
        // The cached per-row-group encodings give the same bytes.
        #expect(metadata.encoded(encodedRowGroups: metadata.rowGroups.map(\.encodedAsListElement)) == bytes)
    }

    @Test func pageHeadersRoundTrip() throws {
        let headers = [
            ParquetPageHeader(
                type: 0, uncompressedPageSize: 100, compressedPageSize: 60,
                dataPage: ParquetDataPageHeader(numValues: 10, encoding: 8, definitionLevelEncoding: 3, repetitionLevelEncoding: 3)),
            ParquetPageHeader(
                type: 2, uncompressedPageSize: 5, compressedPageSize: 5,
                dictionaryPage: ParquetDictionaryPageHeader(numValues: 1, encoding: 0)),
            ParquetPageHeader(
                type: 3, uncompressedPageSize: Int32.max, compressedPageSize: 0,
                dataPageV2: ParquetDataPageHeaderV2(
                    numValues: 7, numNulls: 2, numRows: 7, encoding: 0, definitionLevelsByteLength: 3,
                    repetitionLevelsByteLength: 0, isCompressed: false)),
        ]
        for header in headers {
            let bytes = header.encoded()
            let decoded = try bytes.withUnsafeBytes { raw in
                var reader = ThriftCompactReader(raw)
                let header = try ParquetPageHeader(reading: &reader)
                #expect(reader.position == raw.count)
                return header
            }
            #expect(decoded == header)
        }
    }
}
