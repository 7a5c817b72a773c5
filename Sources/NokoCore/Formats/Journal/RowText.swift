import Foundation

/// A growable byte buffer written through a pointer, for the per-row text of the journal and
/// the CSV files.
///
/// `[UInt8].append(contentsOf:)` costs about a hundred instructions a call whatever the
/// length, and a row's text is mostly appends of a few bytes (a key, a number, a comma):
/// profiles of `logRow` put the journal's formatting mostly in that overhead. Here an append
/// is a capacity check and a copy.
///
/// A struct holding its storage's owner, so it lives in place inside a mutex's state or a
/// table's file state without exclusivity checks; copies share the storage, so it is only
/// ever kept in one place and passed `inout`.
struct RowText {
    private final class Storage {
        var base: UnsafeMutablePointer<UInt8>
        init(capacity: Int) { base = .allocate(capacity: capacity) }
        deinit { base.deallocate() }
    }

    private var storage: Storage
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Bytes written.
    private(set) var count = 0

    init(capacity: Int = 1024) {
        let capacity = max(capacity, 64)
        storage = Storage(capacity: capacity)
        base = storage.base
        self.capacity = capacity
    }

    /// The bytes written, valid until the next append or ``removeAll()``.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    var isEmpty: Bool { count == 0 }

    /// The bytes as an array.
    var array: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    mutating func removeAll() { count = 0 }

    /// The last byte, if any.
    var last: UInt8? { count > 0 ? base[count - 1] : nil }

    mutating func removeLast() {
        precondition(count > 0)
        count -= 1
    }

    /// Removes the first `n` bytes, moving the rest to the front.
    mutating func removeFirst(_ n: Int) {
        precondition(n <= count)
        guard n > 0 else { return }
        UnsafeMutableRawPointer(base).copyMemory(from: base + n, byteCount: count - n)
        count -= n
    }

    /// Makes room for `extra` more bytes.
    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    @inline(never)
    private mutating func grow(to minimum: Int) {
        var newCapacity = capacity * 2
        while newCapacity < minimum { newCapacity *= 2 }
        let grown = Storage(capacity: newCapacity)
        grown.base.update(from: base, count: count)
        storage = grown
        base = grown.base
        capacity = newCapacity
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress else { return }
        reserve(bytes.count)
        UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    @inline(__always)
    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Appends a value's start and end offsets (see `ValueText`).
    @inline(__always)
    mutating func appendBounds(_ start: UInt32, _ end: UInt32) {
        reserve(8)
        UnsafeMutableRawPointer(base + count).storeBytes(of: start, as: UInt32.self)
        UnsafeMutableRawPointer(base + count + 4).storeBytes(of: end, as: UInt32.self)
        count += 8
    }

    /// Appends `byte` `n` times.
    @inline(__always)
    mutating func append(repeating byte: UInt8, count n: Int) {
        guard n > 0 else { return }
        reserve(n)
        (base + count).initialize(repeating: byte, count: n)
        count += n
    }

    /// Appends the decimal digits of `value` (what `JSONWriter.appendInt` writes).
    @inline(__always)
    mutating func appendInt(_ value: Int64) {
        var magnitude = value.magnitude
        if magnitude < 10, value >= 0 {
            append(0x30 + UInt8(magnitude))
            return
        }
        reserve(20)
        var digits = 0
        var rest = magnitude
        repeat {
            digits += 1
            rest /= 10
        } while rest > 0
        if value < 0 {
            base[count] = 0x2D
            count += 1
        }
        var end = count + digits
        count = end
        repeat {
            end -= 1
            base[end] = 0x30 + UInt8(magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
    }

    /// Appends the text of a finite `value` (what `DoubleText.append` writes).
    @inline(__always)
    mutating func appendFiniteDouble(_ value: Double) {
        if value.magnitude <= 9_007_199_254_740_992, value == value.rounded(.towardZero) {
            if value == 0 {
                if value.sign == .minus { append(0x2D) }
                reserve(3)
                (base[count], base[count + 1], base[count + 2]) = (0x30, 0x2E, 0x30)
                count += 3
            } else {
                appendInt(Int64(value))
                reserve(2)
                (base[count], base[count + 1]) = (0x2E, 0x30)
                count += 2
            }
            return
        }
        reserve(32)
        // See `DoubleText.append`: the runtime's formatter leaves some "0" digits unwritten.
        (base + count).initialize(repeating: 0x30, count: 32)
        count += DoubleText.format(value, into: base + count)
    }

    /// Appends a JSON double: non-finite values as the journal's strings.
    @inline(__always)
    mutating func appendJSONDouble(_ value: Double) {
        guard value.isFinite else {
            append(value.isNaN ? JSONWriter.nanToken : value > 0 ? JSONWriter.infToken : JSONWriter.negInfToken)
            return
        }
        appendFiniteDouble(value)
    }

    /// Appends a quoted, escaped JSON string (what `JSONWriter.writeString` writes).
    mutating func appendJSONString(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            let raw = UnsafeRawBufferPointer(utf8)
            reserve(raw.count + 2)
            base[count] = 0x22
            count += 1
            var runStart = 0
            for i in 0..<raw.count {
                let c = raw[i]
                guard c < 0x20 || c == 0x22 || c == 0x5C else { continue }
                if runStart < i { append(UnsafeRawBufferPointer(rebasing: raw[runStart..<i])) }
                runStart = i + 1
                switch c {
                case 0x22: append(contentsOf2: 0x5C, 0x22)
                case 0x5C: append(contentsOf2: 0x5C, 0x5C)
                case 0x0A: append(contentsOf2: 0x5C, 0x6E)
                case 0x0D: append(contentsOf2: 0x5C, 0x72)
                case 0x09: append(contentsOf2: 0x5C, 0x74)
                default:
                    append(contentsOf2: 0x5C, 0x75)
                    append(contentsOf2: 0x30, 0x30)
                    append(contentsOf2: RowText.hexDigit(c >> 4), RowText.hexDigit(c & 15))
                }
            }
            if runStart < raw.count { append(UnsafeRawBufferPointer(rebasing: raw[runStart...])) }
            append(0x22)
        }
    }

    @inline(__always)
    private mutating func append(contentsOf2 a: UInt8, _ b: UInt8) {
        reserve(2)
        (base[count], base[count + 1]) = (a, b)
        count += 2
    }

    private static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 0x30 + v : 0x61 + v - 10 }

    /// Appends a scalar as JSON (what `JSONWriter.write(_:)` writes).
    @inline(__always)
    mutating func appendJSON(_ scalar: Scalar) {
        switch scalar {
        case .null:
            append(contentsOf2: 0x6E, 0x75)
            append(contentsOf2: 0x6C, 0x6C)
        case .bool(true):
            append(contentsOf2: 0x74, 0x72)
            append(contentsOf2: 0x75, 0x65)
        case .bool(false):
            append(contentsOf2: 0x66, 0x61)
            append(contentsOf2: 0x6C, 0x73)
            append(0x65)
        case .int(let v): appendInt(v)
        case .double(let v): appendJSONDouble(v)
        case .string(let s): appendJSONString(s)
        }
    }

    /// Appends a scalar as a CSV cell (what `CSVFormat.append` writes).
    @inline(__always)
    mutating func appendCSV(_ scalar: Scalar) {
        switch scalar {
        case .null: return
        case .bool(let v): append(v ? CSVFormat.trueText : CSVFormat.falseText)
        case .int(let v): appendInt(v)
        case .double(let v):
            if v.isFinite {
                appendFiniteDouble(v)
            } else {
                append(v.isNaN ? RowText.csvNaN : v < 0 ? RowText.csvNegativeInfinity : RowText.csvInfinity)
            }
        case .string(let s): appendCSVString(s)
        }
    }

    /// Appends a string as a CSV cell, quoted when it must be (what `CSVFormat.appendString` writes).
    mutating func appendCSVString(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            if !CSVFormat.needsQuotes(utf8) {
                append(UnsafeRawBufferPointer(utf8))
                return
            }
            append(0x22)
            for byte in utf8 {
                if byte == 0x22 { append(byte) }
                append(byte)
            }
            append(0x22)
        }
    }

    private static let csvNaN: [UInt8] = Array("nan".utf8)
    private static let csvInfinity: [UInt8] = Array("inf".utf8)
    private static let csvNegativeInfinity: [UInt8] = Array("-inf".utf8)
}
