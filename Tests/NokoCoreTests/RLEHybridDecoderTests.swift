import Testing
@testable import NokoCore

@Suite("RLEHybridDecoder")
struct RLEHybridDecoderTests {
    private func decode(_ bytes: [UInt8], count: Int, bitWidth: Int) throws -> [UInt32] {
        var values: [UInt32] = []
        try bytes.withUnsafeBytes { raw in
            try RLEHybridDecoder.decode(raw, count: count, bitWidth: bitWidth) { values.append($0) }
        }
        return values
    }

    @Test func readsRepeatedAndBitPackedRunsInSequence() throws {
        // 3 × 5 (RLE, width 4), then one bit-packed group of 8 values (two padded).
        let bytes: [UInt8] = [0x06, 0x05, 0x03, 0x21, 0x43, 0x65, 0x00]
        #expect(try decode(bytes, count: 9, bitWidth: 4) == [5, 5, 5, 1, 2, 3, 4, 5, 6])
    }

    @Test func stopsAtTheRequestedCountInsideARun() throws {
        #expect(try decode([0xD0, 0x0F, 0x01], count: 3, bitWidth: 1) == [1, 1, 1])
    }

    @Test func readsWidthZeroAsZeros() throws {
        #expect(try decode([0x08], count: 4, bitWidth: 0) == [0, 0, 0, 0])
    }

    @Test(arguments: [
        [UInt8](),  // no runs at all
        [0x06],  // RLE run without its value byte
        [0x05, 0x88],  // two bit-packed groups, one byte of data at width 3
        [0x00, 0x01],  // an RLE run of length 0
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],  // varint too long
    ])
    func rejectsTruncatedOrCorruptRuns(bytes: [UInt8]) {
        #expect(throws: ParquetError.self) { try decode(bytes, count: 8, bitWidth: 3) }
    }

    @Test func rejectsWidthsBeyondThirtyTwo() {
        #expect(throws: ParquetError.self) { try decode([0x02, 0x00], count: 1, bitWidth: 33) }
    }
}
