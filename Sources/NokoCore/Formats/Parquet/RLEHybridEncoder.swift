/// Parquet's RLE/bit-packed hybrid encoding, used for definition levels, dictionary indices
/// and RLE booleans: runs of one repeated value become (count, value) pairs, the rest is
/// bit-packed in groups of eight.
struct RLEHybridEncoder {
    /// Runs at least this long are stored as RLE runs; shorter ones are bit-packed.
    private static let minimumRepeatedRun = 8

    /// Encodes `count` values produced by `value(i)`, each below `1 << bitWidth`, appending
    /// the runs (without a length prefix) to `output`.
    static func encode(
        count: Int, bitWidth: Int, into output: inout [UInt8], value: (Int) -> UInt32
    ) {
        precondition((0...32).contains(bitWidth), "bit width out of range")
        var i = 0
        while i < count {
            let runLength = repeatedRunLength(at: i, count: count, value: value)
            if runLength >= minimumRepeatedRun {
                appendRepeatedRun(value: value(i), length: runLength, bitWidth: bitWidth, into: &output)
                i += runLength
                continue
            }
            // Bit-pack groups of eight until a long repeated run starts at a group boundary
            // (runs are only checked there, so every bit-packed run but the last is whole groups).
            let start = i
            repeat {
                i = min(i + 8, count)
            } while i < count && repeatedRunLength(at: i, count: count, value: value) < minimumRepeatedRun
            appendBitPackedRun(from: start, to: i, bitWidth: bitWidth, into: &output, value: value)
        }
    }

    /// Encodes a run of `length` copies of one value: the cheapest form of an all-valid or
    /// all-null column's definition levels.
    static func appendRepeatedRun(value: UInt32, length: Int, bitWidth: Int, into output: inout [UInt8]) {
        appendVarint(UInt64(length) << 1, to: &output)
        let valueBytes = (bitWidth + 7) / 8
        for b in 0..<valueBytes {
            output.append(UInt8(truncatingIfNeeded: value >> (8 * b)))
        }
    }

    /// The bit width needed for values up to `maximum`.
    static func bitWidth(forMaximum maximum: Int) -> Int {
        maximum <= 0 ? 0 : Int.bitWidth - maximum.leadingZeroBitCount
    }

    private static func repeatedRunLength(at start: Int, count: Int, value: (Int) -> UInt32) -> Int {
        let first = value(start)
        var end = start + 1
        while end < count && value(end) == first { end += 1 }
        return end - start
    }

    private static func appendBitPackedRun(
        from start: Int, to end: Int, bitWidth: Int, into output: inout [UInt8], value: (Int) -> UInt32
    ) {
        let groups = (end - start + 7) / 8
        appendVarint(UInt64(groups) << 1 | 1, to: &output)
        guard bitWidth > 0 else { return }
        var accumulator: UInt64 = 0
        var bits = 0
        for i in start..<(start + groups * 8) {
            // Values past the end pad the last group with zeros.
            let v = i < end ? UInt64(value(i)) : 0
            accumulator |= v << UInt64(bits)
            bits += bitWidth
            while bits >= 8 {
                output.append(UInt8(truncatingIfNeeded: accumulator))
                accumulator >>= 8
                bits -= 8
            }
        }
        if bits > 0 { output.append(UInt8(truncatingIfNeeded: accumulator)) }
    }

    static func appendVarint(_ value: UInt64, to output: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            output.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        output.append(UInt8(v))
    }
}
