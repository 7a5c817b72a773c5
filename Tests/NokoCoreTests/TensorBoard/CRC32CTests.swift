import NokoTestSupport
import Testing

@testable import NokoCore

@Suite struct CRC32CTests {
    /// The textbook bit-at-a-time definition, to check the table-driven code against.
    static func bitwiseReference(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    @Test func checkValueOfTheDigits() {
        // The catalogue check value of CRC-32C (Castagnoli).
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func rfc3720Vectors() {
        // RFC 3720 (iSCSI), appendix B.4.
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).reversed().map { UInt8($0) }) == 0x113F_DB5C)
        let readCommandPDU: [UInt8] = [
            0x01, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
            0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ]
        #expect(CRC32C.checksum(readCommandPDU) == 0xD996_3A56)
    }

    @Test func emptyInputIsZero() {
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    @Test func everyLengthAndAlignmentMatchesTheBitwiseDefinition() {
        var generator = SeededRandom()
        let data = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
        // Every start offset 0..<8 exercises the unaligned head; lengths cross the 8-byte loop.
        for start in 0..<8 {
            for length in 0...(data.count - start) where length < 80 || length % 37 == 0 {
                let slice = Array(data[start..<(start + length)])
                let expected = Self.bitwiseReference(slice)
                let actual = data.withUnsafeBytes {
                    CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[start..<(start + length)]))
                }
                #expect(actual == expected, "start \(start), length \(length)")
            }
        }
    }

    @Test func randomInputsMatchTheBitwiseDefinition() {
        var generator = SeededRandom()
        for _ in 0..<200 {
            let count = Int.random(in: 0...5000, using: &generator)
            let data = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(CRC32C.checksum(data) == Self.bitwiseReference(data), "length \(count)")
        }
    }

    @Test func continuingEqualsOneChecksumOverTheConcatenation() {
        let first = Array("Hello, ".utf8)
        let second = Array("TensorBoard and friends".utf8)
        let whole = CRC32C.checksum(first + second)
        let continued = second.withUnsafeBytes { CRC32C.checksum($0, continuing: CRC32C.checksum(first)) }
        #expect(continued == whole)
    }

    @Test func tfrecordMask() {
        // ((crc >> 15) | (crc << 17)) &+ 0xa282ead8; the value for "123456789" is what
        // TensorBoard's own masked_crc32c returns.
        #expect(CRC32C.masked(0xE306_9283) == 0xC78A_B0E5)
        #expect(CRC32C.masked(0) == 0xA282_EAD8)
        #expect(CRC32C.masked(0xFFFF_FFFF) == 0xA282_EAD7)
    }
}
