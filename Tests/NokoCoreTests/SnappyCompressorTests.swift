import Testing
@testable import NokoCore

@Suite("SnappyCompressor")
struct SnappyCompressorTests {
    static func sample(_ kind: String, count: Int) -> [UInt8] {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return seed >> 33
        }
        switch kind {
        case "random": return (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
        case "zeros": return [UInt8](repeating: 0, count: count)
        case "text":
            let words = ["loss", "grad_norm", "0.0125", "step", "epoch", "lr", "NaN", "é"].map { Array($0.utf8) }
            var out: [UInt8] = []
            while out.count < count { out += words[Int(next() % UInt64(words.count))] + [0x2C] }
            return Array(out.prefix(count))
        default:
            // Doubles of a slowly changing series, as a DOUBLE column's PLAIN bytes.
            var out: [UInt8] = []
            var x = 1.0
            while out.count < count {
                x *= 0.9999
                withUnsafeBytes(of: x) { out += $0 }
            }
            return Array(out.prefix(count))
        }
    }

    @Test(arguments: ["random", "zeros", "text", "doubles"], [0, 1, 3, 4, 5, 17, 64, 65, 200, 65_535, 65_536, 65_537, 300_000])
    func roundTrips(kind: String, count: Int) throws {
        let input = Self.sample(kind, count: count)
        let compressed = input.withUnsafeBytes { SnappyCompressor.compress($0) }
        #expect(compressed.count <= 32 + count + count / 6)
        let output = try compressed.withUnsafeBytes { try SnappyDecompressor.decompress($0) }
        #expect(output == input)
    }

    @Test func compressesRepetitiveData() {
        let zeros = Self.sample("zeros", count: 100_000)
        let compressed = zeros.withUnsafeBytes { SnappyCompressor.compress($0) }
        #expect(compressed.count < 6_000)
        let text = Self.sample("text", count: 100_000)
        #expect(text.withUnsafeBytes { SnappyCompressor.compress($0) }.count < 60_000)
    }
}
