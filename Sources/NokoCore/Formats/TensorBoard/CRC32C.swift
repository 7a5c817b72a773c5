/// CRC-32C (Castagnoli), the checksum TFRecord framing uses.
///
/// Slicing-by-8 over lookup tables: eight bytes per step, about 2 GB/s in release builds on
/// a 2-vCPU EPYC (190 ns for a 380-byte row event). The SSE4.2 `crc32` instruction would be
/// faster but is not reachable from Swift without a C target, and NokoCore stays pure Swift.
enum CRC32C {
    /// The reflected Castagnoli polynomial 0x1EDC6F41.
    static let polynomial: UInt32 = 0x82F6_3B78

    /// The checksum of `bytes`, continuing from `crc` (the checksum of earlier bytes, or 0).
    static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        tables.withUnsafeBufferPointer { table in
            var state = ~crc
            var position = 0
            let count = bytes.count
            guard let base = bytes.baseAddress else { return crc }
            // Single bytes until the pointer is 8-byte aligned, so the 8-byte loads below are aligned.
            while position < count && Int(bitPattern: base + position) & 7 != 0 {
                state = table[Int((state ^ UInt32(base.load(fromByteOffset: position, as: UInt8.self))) & 0xFF)]
                    ^ (state >> 8)
                position += 1
            }
            while count - position >= 8 {
                let word = UInt64(littleEndian: base.load(fromByteOffset: position, as: UInt64.self))
                let low = UInt32(truncatingIfNeeded: word) ^ state
                let high = UInt32(truncatingIfNeeded: word >> 32)
                state =
                    table[7 * 256 + Int(low & 0xFF)] ^ table[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((low >> 16) & 0xFF)] ^ table[4 * 256 + Int(low >> 24)]
                    ^ table[3 * 256 + Int(high & 0xFF)] ^ table[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ table[1 * 256 + Int((high >> 16) & 0xFF)] ^ table[Int(high >> 24)]
                position += 8
            }
            while position < count {
                state = table[Int((state ^ UInt32(base.load(fromByteOffset: position, as: UInt8.self))) & 0xFF)]
                    ^ (state >> 8)
                position += 1
            }
            return ~state
        }
    }

    /// The checksum of a byte sequence.
    static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        if let result = bytes.withContiguousStorageIfAvailable({ checksum(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { checksum($0) }
    }

    /// TFRecord's masked form of a checksum: rotated right by 15 bits plus a constant, so a
    /// checksum stored inside checksummed data does not cancel out.
    static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    /// Eight 256-entry tables, flat: table `k` gives the effect of a byte followed by `k` zero bytes.
    private static let tables: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 {
                crc = crc & 1 == 1 ? (crc >> 1) ^ polynomial : crc >> 1
            }
            table[byte] = crc
        }
        for slice in 1..<8 {
            for byte in 0..<256 {
                let previous = table[(slice - 1) * 256 + byte]
                table[slice * 256 + byte] = (previous >> 8) ^ table[Int(previous & 0xFF)]
            }
        }
        return table
    }()
}
