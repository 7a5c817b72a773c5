import Testing
@testable import NokoCore

@Suite("SnappyDecompressor")
struct SnappyDecompressorTests {
    private func decompress(_ bytes: [UInt8]) throws -> [UInt8] {
        try bytes.withUnsafeBytes { try SnappyDecompressor.decompress($0) }
    }

    @Test func readsLiteralsAndCopies() throws {
        // "abc" literal, then a 1-byte-offset copy of 4 from offset 3, then a 2-byte-offset copy of 2 from offset 7.
        let bytes: [UInt8] = [11, 0x08, 0x61, 0x62, 0x63, 0x01, 0x03, 0x06, 0x07, 0x00, 0x04, 0x7A, 0x7A]
        #expect(try decompress(bytes) == Array("abcabcaabzz".utf8))
    }

    @Test func repeatsOverlappingCopies() throws {
        // "ab", then copy 10 bytes from offset 2: a run longer than its source.
        let bytes: [UInt8] = [12, 0x04, 0x61, 0x62, 0x19, 0x02]
        #expect(try decompress(bytes) == Array("abababababab".utf8))
    }

    @Test func readsLongLiteralLengths() throws {
        let payload = [UInt8](repeating: 0x41, count: 300)
        // Length 300: varint 0xAC 0x02; literal tag 61 << 2 with a two-byte length - 1 = 299.
        let bytes: [UInt8] = [0xAC, 0x02, 61 << 2, 0x2B, 0x01] + payload
        #expect(try decompress(bytes) == payload)
    }

    @Test(arguments: [
        [UInt8](),  // no length
        [0x05, 0x10, 0x61],  // literal of 5 with one byte
        [0x04, 0x00, 0x61, 0x01, 0x00],  // copy with offset 0
        [0x04, 0x00, 0x61, 0x01, 0x05],  // copy reaching before the start
        [0x02, 0x08, 0x61, 0x62, 0x63],  // more output than announced
        [0x05, 0x08, 0x61, 0x62, 0x63],  // less output than announced
        [0x08, 0x00, 0x61, 0x02, 0x01],  // truncated 2-byte offset
        [0x08, 0x00, 0x61, 0x03, 0x01, 0x00, 0x00],  // truncated 4-byte offset
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F],  // length beyond 32 bits
        [0xFF, 0xFF, 0xFF, 0xFF, 0x0B, 0x21],  // 3 GB claimed by 2 bytes (found by fuzz-parquet: it allocated them)
        [0x41, 0x00],  // 65 bytes from a 1-byte literal tag
    ])
    func rejectsCorruptBlocks(bytes: [UInt8]) {
        #expect(throws: SnappyError.self) { try decompress(bytes) }
    }
}
