/// Decompresses raw Snappy blocks (the format Parquet uses for `SNAPPY` pages: a varint of the
/// uncompressed length, then literals and back-references). Corrupt input throws
/// ``SnappyError``; nothing is read or written out of bounds.
enum SnappyDecompressor {
    /// Decompresses one block.
    static func decompress(_ input: UnsafeRawBufferPointer) throws(SnappyError) -> [UInt8] {
        var position = 0
        let length = try readLength(input, &position)
        // The most one element can produce is 64 bytes from a 3-byte copy: a header claiming
        // more is corrupt, and must not allocate what it claims (gigabytes, from 6 bytes).
        guard length <= (input.count - position) * maximumExpansion else {
            throw SnappyError.corrupt("length \(length) is more than \(input.count - position) bytes of Snappy can hold")
        }
        var failure: SnappyError?
        let output = [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
            do throws(SnappyError) {
                initialized = try decode(input, from: position, into: buffer)
            } catch {
                failure = error
                // UInt8 needs no cleanup, so whatever was written may simply be discarded.
                initialized = 0
            }
        }
        if let failure { throw failure }
        return output
    }

    private static func decode(
        _ input: UnsafeRawBufferPointer, from start: Int, into output: UnsafeMutableBufferPointer<UInt8>
    ) throws(SnappyError) -> Int {
        var ip = start
        var op = 0
        let end = input.count
        while ip < end {
            let tag = input[ip]
            ip += 1
            switch tag & 3 {
            case 0:
                var length = Int(tag >> 2) + 1
                if length > 60 {
                    let extra = length - 60
                    guard end - ip >= extra else { throw SnappyError.corrupt("literal length is truncated") }
                    var value = 0
                    for b in 0..<extra { value |= Int(input[ip + b]) << (8 * b) }
                    ip += extra
                    length = value + 1
                }
                guard end - ip >= length else { throw SnappyError.corrupt("literal overruns the input") }
                guard output.count - op >= length else { throw SnappyError.corrupt("literal overruns the announced length") }
                UnsafeMutableRawPointer(output.baseAddress! + op).copyMemory(
                    from: input.baseAddress! + ip, byteCount: length)
                ip += length
                op += length
            case 1:
                guard ip < end else { throw SnappyError.corrupt("copy is truncated") }
                let length = Int((tag >> 2) & 7) + 4
                let offset = Int(tag >> 5) << 8 | Int(input[ip])
                ip += 1
                try copy(offset: offset, length: length, output, &op)
            case 2:
                guard end - ip >= 2 else { throw SnappyError.corrupt("copy is truncated") }
                let length = Int(tag >> 2) + 1
                let offset = Int(input[ip]) | Int(input[ip + 1]) << 8
                ip += 2
                try copy(offset: offset, length: length, output, &op)
            default:
                guard end - ip >= 4 else { throw SnappyError.corrupt("copy is truncated") }
                let length = Int(tag >> 2) + 1
                var offset = 0
                for b in 0..<4 { offset |= Int(input[ip + b]) << (8 * b) }
                ip += 4
                try copy(offset: offset, length: length, output, &op)
            }
        }
        guard op == output.count else {
            throw SnappyError.corrupt("decompressed \(op) bytes, the block announced \(output.count)")
        }
        return op
    }

    private static func copy(
        offset: Int, length: Int, _ output: UnsafeMutableBufferPointer<UInt8>, _ op: inout Int
    ) throws(SnappyError) {
        guard offset > 0, offset <= op else { throw SnappyError.corrupt("back-reference offset \(offset) is invalid") }
        guard output.count - op >= length else { throw SnappyError.corrupt("copy overruns the announced length") }
        let base = output.baseAddress!
        if offset >= length {
            UnsafeMutableRawPointer(base + op).copyMemory(from: base + (op - offset), byteCount: length)
        } else {
            // Overlapping copies repeat the last `offset` bytes: copy forwards one byte at a time.
            for i in 0..<length { base[op + i] = base[op - offset + i] }
        }
        op += length
    }

    /// Output bytes per input byte at most: a copy with a 2-byte offset, 3 bytes for 64.
    private static let maximumExpansion = 22

    private static func readLength(_ input: UnsafeRawBufferPointer, _ position: inout Int) throws(SnappyError) -> Int {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < input.count, shift <= 28 else { throw SnappyError.corrupt("bad length header") }
            let byte = input[position]
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        guard result <= UInt64(UInt32.max) else { throw SnappyError.corrupt("length \(result) is too large") }
        return Int(result)
    }
}

/// Snappy data that could not be decompressed.
enum SnappyError: Error, CustomStringConvertible {
    case corrupt(String)

    var description: String {
        switch self {
        case .corrupt(let reason): return "corrupt Snappy data: \(reason)"
        }
    }
}
