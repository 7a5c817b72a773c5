/// Decodes Parquet's RLE/bit-packed hybrid encoding (definition levels, dictionary indices,
/// RLE booleans). Every read is bounds-checked; corrupt input throws.
struct RLEHybridDecoder {
    /// Decodes `count` values of `bitWidth` bits from `bytes`, calling `emit` for each.
    /// Trailing padding of the last bit-packed group is ignored.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, count: Int, bitWidth: Int, emit: (UInt32) -> Void
    ) throws {
        guard (0...32).contains(bitWidth) else { throw ParquetError(file: nil, "RLE bit width \(bitWidth) is invalid") }
        var position = 0
        var produced = 0
        let valueBytes = (bitWidth + 7) / 8
        let mask: UInt64 = bitWidth == 0 ? 0 : (UInt64(1) << UInt64(bitWidth)) - 1
        while produced < count {
            let header = try readVarint(bytes, &position)
            if header & 1 == 0 {
                let length = Int(clamping: header >> 1)
                guard bytes.count - position >= valueBytes else { throw truncated }
                var value: UInt32 = 0
                for b in 0..<valueBytes { value |= UInt32(bytes[position + b]) << UInt32(8 * b) }
                position += valueBytes
                guard length > 0 else { throw ParquetError(file: nil, "RLE run of length 0") }
                let n = min(length, count - produced)
                for _ in 0..<n { emit(value) }
                produced += n
            } else {
                let groups = Int(clamping: header >> 1)
                guard groups > 0, groups <= Int(Int32.max) else { throw ParquetError(file: nil, "RLE bit-packed run of \(groups) groups is invalid") }
                let total = groups * 8
                let byteLength = groups * bitWidth
                guard bytes.count - position >= byteLength else { throw truncated }
                var accumulator: UInt64 = 0
                var bits = 0
                var cursor = position
                let n = min(total, count - produced)
                for _ in 0..<n {
                    while bits < bitWidth {
                        accumulator |= UInt64(bytes[cursor]) << UInt64(bits)
                        cursor += 1
                        bits += 8
                    }
                    emit(UInt32(truncatingIfNeeded: accumulator & mask))
                    accumulator >>= UInt64(bitWidth)
                    bits -= bitWidth
                }
                produced += n
                position += byteLength
            }
        }
    }

    private static var truncated: ParquetError { ParquetError(file: nil, "RLE data is truncated") }

    private static func readVarint(_ bytes: UnsafeRawBufferPointer, _ position: inout Int) throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.count, shift < 64 else { throw truncated }
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }
}
