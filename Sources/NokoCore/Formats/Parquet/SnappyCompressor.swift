/// Compresses bytes into one raw Snappy block, as Parquet's `SNAPPY` codec stores pages.
///
/// A greedy single-pass matcher over 64 KiB blocks with a 16 Ki-entry hash table of 4-byte
/// sequences, like the reference implementation; it favours speed over ratio, which suits
/// numeric log columns (repeated levels, timestamps, slowly changing values).
enum SnappyCompressor {
    private static let blockSize = 1 << 16
    private static let hashBits = 14

    /// The compressed form of `input`.
    static func compress(_ input: UnsafeRawBufferPointer) -> [UInt8] {
        let n = input.count
        let capacity = 32 + n + n / 6
        return [UInt8](unsafeUninitializedCapacity: capacity) { output, initialized in
            var op = 0
            var length = n
            while length >= 0x80 {
                output[op] = UInt8(truncatingIfNeeded: length) | 0x80
                op += 1
                length >>= 7
            }
            output[op] = UInt8(length)
            op += 1
            guard n > 0 else {
                initialized = op
                return
            }
            var table = [UInt16](repeating: 0, count: 1 << hashBits)
            table.withUnsafeMutableBufferPointer { table in
                var blockStart = 0
                while blockStart < n {
                    let blockEnd = min(blockStart + blockSize, n)
                    compressBlock(input, blockStart, blockEnd, table, output, &op)
                    blockStart = blockEnd
                }
            }
            initialized = op
        }
    }

    private static func compressBlock(
        _ input: UnsafeRawBufferPointer, _ blockStart: Int, _ blockEnd: Int,
        _ table: UnsafeMutableBufferPointer<UInt16>, _ output: UnsafeMutableBufferPointer<UInt8>, _ op: inout Int
    ) {
        for i in table.indices { table[i] = 0 }
        var nextEmit = blockStart
        var ip = blockStart + 1
        @inline(__always) func load(_ i: Int) -> UInt32 { input.loadUnaligned(fromByteOffset: i, as: UInt32.self) }
        @inline(__always) func hash(_ v: UInt32) -> Int { Int((v &* 0x1E35_A7BD) >> UInt32(32 - hashBits)) }
        search: while ip + 4 <= blockEnd {
            var skip = 32
            var candidate = 0
            while true {
                let current = load(ip)
                let h = hash(current)
                candidate = blockStart + Int(table[h])
                table[h] = UInt16(ip - blockStart)
                if candidate < ip && load(candidate) == current { break }
                ip += skip >> 5
                skip += 1
                if ip + 4 > blockEnd { break search }
            }
            emitLiteral(input, from: nextEmit, to: ip, output, &op)
            var matched = 4
            while ip + matched < blockEnd && input[candidate + matched] == input[ip + matched] { matched += 1 }
            emitCopy(offset: ip - candidate, length: matched, output, &op)
            ip += matched
            nextEmit = ip
            if ip - 1 + 4 <= blockEnd {
                table[hash(load(ip - 1))] = UInt16(ip - 1 - blockStart)
            }
        }
        emitLiteral(input, from: nextEmit, to: blockEnd, output, &op)
    }

    private static func emitLiteral(
        _ input: UnsafeRawBufferPointer, from start: Int, to end: Int,
        _ output: UnsafeMutableBufferPointer<UInt8>, _ op: inout Int
    ) {
        let length = end - start
        guard length > 0 else { return }
        let n = length - 1
        if n < 60 {
            output[op] = UInt8(n << 2)
            op += 1
        } else {
            var extra = 1
            while extra < 4 && n >> (8 * extra) != 0 { extra += 1 }
            output[op] = UInt8((59 + extra) << 2)
            op += 1
            for b in 0..<extra {
                output[op] = UInt8(truncatingIfNeeded: n >> (8 * b))
                op += 1
            }
        }
        UnsafeMutableRawPointer(output.baseAddress! + op).copyMemory(from: input.baseAddress! + start, byteCount: length)
        op += length
    }

    private static func emitCopy(offset: Int, length: Int, _ output: UnsafeMutableBufferPointer<UInt8>, _ op: inout Int) {
        var remaining = length
        // Each element copies at most 64 bytes; split so that no piece is shorter than 4.
        while remaining >= 68 {
            emitCopyElement(offset: offset, length: 64, output, &op)
            remaining -= 64
        }
        if remaining > 64 {
            emitCopyElement(offset: offset, length: 60, output, &op)
            remaining -= 60
        }
        emitCopyElement(offset: offset, length: remaining, output, &op)
    }

    private static func emitCopyElement(
        offset: Int, length: Int, _ output: UnsafeMutableBufferPointer<UInt8>, _ op: inout Int
    ) {
        if length < 12 && offset < 2048 {
            output[op] = UInt8(1 | ((length - 4) << 2) | ((offset >> 8) << 5))
            output[op + 1] = UInt8(truncatingIfNeeded: offset)
            op += 2
        } else {
            output[op] = UInt8(2 | ((length - 1) << 2))
            output[op + 1] = UInt8(truncatingIfNeeded: offset)
            output[op + 2] = UInt8(truncatingIfNeeded: offset >> 8)
            op += 3
        }
    }
}
