import Testing
@testable import NokoCore

@Suite("RLEHybridEncoder")
struct RLEHybridEncoderTests {
    private func roundTrip(_ values: [UInt32], bitWidth: Int) throws -> [UInt32] {
        var bytes: [UInt8] = []
        RLEHybridEncoder.encode(count: values.count, bitWidth: bitWidth, into: &bytes) { values[$0] }
        var decoded: [UInt32] = []
        try bytes.withUnsafeBytes { raw in
            try RLEHybridDecoder.decode(raw, count: values.count, bitWidth: bitWidth) { decoded.append($0) }
        }
        return decoded
    }

    @Test func bitPacksTheSpecExample() {
        // parquet-format Encodings.md: 0…7 at bit width 3 pack to 10001000 11000110 11111010.
        var bytes: [UInt8] = []
        RLEHybridEncoder.encode(count: 8, bitWidth: 3, into: &bytes) { UInt32($0) }
        #expect(bytes == [0x03, 0x88, 0xC6, 0xFA])
    }

    @Test func storesLongRunsAsRepeatedRuns() {
        var bytes: [UInt8] = []
        RLEHybridEncoder.encode(count: 1000, bitWidth: 1, into: &bytes) { _ in 1 }
        #expect(bytes == [0xD0, 0x0F, 0x01])  // varint(1000 << 1), value 1
    }

    @Test(arguments: [1, 2, 3, 7, 8, 9, 16, 17, 31, 32])
    func roundTripsMixedRunsAtEveryWidth(bitWidth: Int) throws {
        let maximum = bitWidth == 32 ? UInt32.max : (UInt32(1) << UInt32(bitWidth)) - 1
        var values: [UInt32] = []
        var seed: UInt64 = 12345
        for block in 0..<60 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let length = Int(seed >> 58) + 1
            if block % 3 == 0 {
                values += repeatElement(UInt32(truncatingIfNeeded: seed >> 20) & maximum, count: length * 5)
            } else {
                for i in 0..<length { values.append(UInt32(truncatingIfNeeded: (seed >> UInt64(i % 30)) ^ UInt64(i)) & maximum) }
            }
        }
        for count in [0, 1, 7, 8, 9, values.count] {
            let prefix = Array(values.prefix(count))
            #expect(try roundTrip(prefix, bitWidth: bitWidth) == prefix)
        }
    }

    @Test func bitWidthCoversTheMaximum() {
        #expect(RLEHybridEncoder.bitWidth(forMaximum: 0) == 0)
        #expect(RLEHybridEncoder.bitWidth(forMaximum: 1) == 1)
        #expect(RLEHybridEncoder.bitWidth(forMaximum: 2) == 2)
        #expect(RLEHybridEncoder.bitWidth(forMaximum: 255) == 8)
        #expect(RLEHybridEncoder.bitWidth(forMaximum: 256) == 9)
    }
}
