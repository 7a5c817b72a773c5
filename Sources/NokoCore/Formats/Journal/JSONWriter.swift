/// Appends strict JSON to a byte buffer, fast: the journal writes one line per row with it.
///
/// Non-finite doubles are written as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`
/// (strict JSON has no spelling for them; Python noko's bare `NaN` breaks strict parsers).
package struct JSONWriter: Sendable {
    /// The bytes written so far.
    package var bytes: [UInt8]

    /// An empty writer; `capacity` pre-sizes the buffer.
    package init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// The bytes as a string.
    package var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Appends raw bytes (already valid JSON).
    @inlinable
    package mutating func appendRaw(_ raw: some Sequence<UInt8>) { bytes.append(contentsOf: raw) }

    /// Appends one byte.
    @inlinable
    package mutating func append(_ byte: UInt8) { bytes.append(byte) }

    /// Appends a quoted, escaped JSON string.
    package mutating func writeString(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            bytes.append(0x22)
            JSONWriter.appendEscaped(UnsafeRawBufferPointer(utf8), to: &bytes)
            bytes.append(0x22)
        }
    }

    /// Appends UTF-8 text with `"`, `\` and control characters escaped as JSON requires,
    /// without the surrounding quotes. Runs of plain bytes are copied whole.
    package static func appendEscaped(_ raw: UnsafeRawBufferPointer, to bytes: inout [UInt8]) {
        var runStart = 0
        for i in 0..<raw.count {
            let c = raw[i]
            guard c < 0x20 || c == 0x22 || c == 0x5C else { continue }
            if runStart < i { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[runStart..<i])) }
            runStart = i + 1
            switch c {
            case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
            case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: bytes.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: bytes.append(contentsOf: [0x5C, 0x72])
            case 0x09: bytes.append(contentsOf: [0x5C, 0x74])
            default: bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hexDigits[Int(c >> 4)], hexDigits[Int(c & 15)]])
            }
        }
        if runStart < raw.count { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[runStart...])) }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends a decimal integer.
    package mutating func writeInt(_ value: Int64) {
        JSONWriter.appendInt(value, to: &bytes)
    }

    /// Appends the decimal digits of `value` to `bytes`, with no intermediate string.
    package static func appendInt(_ value: Int64, to bytes: inout [UInt8]) {
        var magnitude = value.magnitude
        if magnitude < 10, value >= 0 {
            bytes.append(0x30 + UInt8(magnitude))
            return
        }
        // Digits come out least significant first: fill a stack buffer from its end and
        // append it once (appending digit by digit and reversing was 3× slower).
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buffer in
            var start = buffer.count
            repeat {
                start -= 1
                buffer[start] = 0x30 + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                start -= 1
                buffer[start] = 0x2D
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start...]))
        }
    }

    /// Appends a double: shortest round-trip text, integral values with a `.0`, non-finite
    /// values as strings.
    package mutating func writeDouble(_ value: Double) {
        guard value.isFinite else {
            bytes.append(contentsOf: value.isNaN ? JSONWriter.nanToken : value > 0 ? JSONWriter.infToken : JSONWriter.negInfToken)
            return
        }
        // The shortest text that round-trips; it may use exponent form (`1e-05`), which
        // JSON accepts.
        DoubleText.append(value, to: &bytes)
    }

    static let nanToken: [UInt8] = Array("\"NaN\"".utf8)
    static let infToken: [UInt8] = Array("\"Infinity\"".utf8)
    static let negInfToken: [UInt8] = Array("\"-Infinity\"".utf8)

    /// Appends a scalar.
    package mutating func write(_ scalar: Scalar) {
        switch scalar {
        case .null: bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let v): bytes.append(contentsOf: v ? [0x74, 0x72, 0x75, 0x65] : [0x66, 0x61, 0x6C, 0x73, 0x65])
        case .int(let v): writeInt(v)
        case .double(let v): writeDouble(v)
        case .string(let s): writeString(s)
        }
    }

    /// Appends a JSON value; objects get their keys sorted.
    package mutating func write(_ value: JSONValue, pretty: Bool = false, indent: Int = 0) {
        switch value {
        case .null: write(Scalar.null)
        case .bool(let v): write(Scalar.bool(v))
        case .int(let v): writeInt(v)
        case .double(let v): writeDouble(v)
        case .string(let s): writeString(s)
        case .array(let elements):
            if elements.isEmpty {
                bytes.append(contentsOf: [0x5B, 0x5D])
                return
            }
            bytes.append(0x5B)
            for (i, element) in elements.enumerated() {
                if i > 0 { bytes.append(0x2C) }
                if pretty { newline(indent + 1) }
                write(element, pretty: pretty, indent: indent + 1)
            }
            if pretty { newline(indent) }
            bytes.append(0x5D)
        case .object(let members):
            if members.isEmpty {
                bytes.append(contentsOf: [0x7B, 0x7D])
                return
            }
            bytes.append(0x7B)
            for (i, key) in members.keys.sorted().enumerated() {
                if i > 0 { bytes.append(0x2C) }
                if pretty { newline(indent + 1) }
                writeString(key)
                bytes.append(0x3A)
                if pretty { bytes.append(0x20) }
                write(members[key]!, pretty: pretty, indent: indent + 1)
            }
            if pretty { newline(indent) }
            bytes.append(0x7D)
        }
    }

    private mutating func newline(_ indent: Int) {
        bytes.append(0x0A)
        bytes.append(contentsOf: repeatElement(0x20, count: indent * 2))
    }
}
