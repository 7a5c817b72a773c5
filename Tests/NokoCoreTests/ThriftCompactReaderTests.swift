import NokoTestSupport
import Testing
@testable import NokoCore

@Suite("ThriftCompactReader")
struct ThriftCompactReaderTests {
    /// A struct with every kind of field a newer writer might add, then field 30 = 42.
    private static let structWithUnknownFields: [UInt8] = {
        var bytes: [UInt8] = []
        bytes += [0x13, 0x7F]  // field 1: byte
        bytes += [0x14, 0x05]  // field 2: i16
        bytes += [0x17] + [UInt8](repeating: 0x40, count: 8)  // field 3: double
        bytes += [0x11]  // field 4: bool true (value in the header)
        bytes += [0x19, 0x21, 0x01, 0x02]  // field 5: list<bool> of 2, one byte each
        bytes += [0x1B, 0x02, 0x85, 0x01, 0x61, 0x04, 0x01, 0x62, 0x06]  // field 6: map<binary,i32> of 2
        bytes += [0x1A, 0x15, 0x02]  // field 7: set<i32> of 1
        bytes += [0x1C, 0x15, 0x02, 0x1C, 0x18, 0x01, 0x7A, 0x00, 0x00]  // field 8: struct{i32, struct{binary}}
        bytes += [0x05, 0x3C, 0x54]  // field 30 (long header): i32 42
        bytes += [0x00]
        return bytes
    }()

    @Test func skipsFieldsItDoesNotKnow() throws {
        var found: Int32?
        try Self.structWithUnknownFields.withUnsafeBytes { raw in
            var reader = ThriftCompactReader(raw)
            while let (id, type) = try reader.readFieldHeader() {
                if id == 30 { found = try reader.readI32(type) } else { try reader.skip(type) }
            }
            #expect(reader.position == raw.count)
        }
        #expect(found == 42)
    }

    @Test func everyTruncationOfAFooterThrows() {
        let metadata = ParquetFileMetaData(
            schema: [ParquetSchemaElement(name: "schema", numChildren: 1), ParquetColumnType.double.schemaElement(name: "x")],
            numRows: 1,
            rowGroups: [
                ParquetRowGroup(
                    columns: [
                        ParquetColumnChunk(
                            metaData: ParquetColumnMetaData(
                                type: 5, encodings: [0, 3], pathInSchema: ["x"], codec: 0, numValues: 1,
                                totalUncompressedSize: 20, totalCompressedSize: 20, dataPageOffset: 4))
                    ], totalByteSize: 20, numRows: 1)
            ], createdBy: "noko-swift")
        let bytes = metadata.encoded()
        for length in 0..<bytes.count {
            #expect(throws: ThriftDecodingError.self) {
                _ = try Array(bytes[..<length]).withUnsafeBytes { try ParquetFileMetaData(decoding: $0) }
            }
        }
    }

    @Test func rejectsListsLongerThanTheirBuffer() {
        let bytes: [UInt8] = [0x19, 0xF5, 0xFF, 0xFF, 0x03]  // field 1: list<i32> claiming 65535 elements
        #expect(throws: ThriftDecodingError.self) {
            try bytes.withUnsafeBytes { raw in
                var reader = ThriftCompactReader(raw)
                let (_, type) = try reader.readFieldHeader()!
                try reader.skip(type)
            }
        }
    }

    @Test func rejectsNestingBeyondTheLimit() {
        // 100 nested struct fields: would recurse without bound if not checked.
        let bytes = [UInt8](repeating: 0x1C, count: 100) + [UInt8](repeating: 0x00, count: 101)
        #expect(throws: ThriftDecodingError.self) {
            try bytes.withUnsafeBytes { raw in
                var reader = ThriftCompactReader(raw)
                while let (_, type) = try reader.readFieldHeader() { try reader.skip(type) }
            }
        }
    }

    @Test func randomBytesNeverCrashTheDecoder() {
        var generator = SeededRandom()
        for length in 0..<400 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try? bytes.withUnsafeBytes { try ParquetFileMetaData(decoding: $0) }
            _ = try? bytes.withUnsafeBytes { raw in
                var reader = ThriftCompactReader(raw)
                return try ParquetPageHeader(reading: &reader)
            }
        }
    }
}
