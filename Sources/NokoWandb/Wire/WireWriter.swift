import NokoCore

/// Writes JSON the way wandb-core puts it on the wire (docs/wandb-protocol.md, "History lines").
///
/// Two departures from noko's strict files: non-finite doubles are the bare tokens `NaN`,
/// `Infinity` and `-Infinity` ("extended JSON", only ever inside the history and summary
/// line strings), and doubles use Go's `strconv.FormatFloat(v, 'g', -1, 64)`: exponent form
/// when the decimal exponent is below -4 or at least 6 (`1e+06`, `1.5e-05`), no `.0` on
/// integral values (`2`). The journal's strings `"NaN"`, `"Infinity"` and `"-Infinity"`
/// stand for doubles (noko's journal is strict JSON) and are written as the bare tokens too.
struct WireWriter {
    var bytes: [UInt8]

    init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func append(_ byte: UInt8) { bytes.append(byte) }

    mutating func append(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func writeInt(_ value: Int64) {
        JSONWriter.appendInt(value, to: &bytes)
    }

    mutating func writeString(_ s: String) {
        var s = s
        s.withUTF8 { writeEscaped(UnsafeRawBufferPointer($0)) }
    }

    /// Writes `raw` (UTF-8) as a quoted JSON string; this is how a whole history line is
    /// embedded in the request body.
    mutating func writeEscaped(_ raw: UnsafeRawBufferPointer) {
        bytes.append(0x22)
        JSONWriter.appendEscaped(raw, to: &bytes)
        bytes.append(0x22)
    }

    /// Writes `line` (UTF-8) as a quoted JSON string.
    mutating func writeEscaped(_ line: [UInt8]) {
        line.withUnsafeBytes { writeEscaped($0) }
    }

    /// A double as Go's `FormatFloat(v, 'g', -1, 64)` spells it; non-finite as bare tokens.
    mutating func writeDouble(_ value: Double) {
        if value.isNaN {
            append("NaN")
            return
        }
        if value.isInfinite {
            append(value < 0 ? "-Infinity" : "Infinity")
            return
        }
        GoFloatFormat.append(value, to: &bytes)
    }

    /// Any JSON value in extended form: strings that spell a non-finite double become the
    /// bare token; objects keep their key order when given as ordered pairs, else sorted.
    mutating func write(_ value: JSONValue) {
        switch value {
        case .null: append("null")
        case .bool(let v): v ? append("true") : append("false")
        case .int(let v): writeInt(v)
        case .double(let v): writeDouble(v)
        case .string(let s):
            if let special = JSONValue.nonFiniteDouble(s) {
                writeDouble(special)
            } else {
                writeString(s)
            }
        case .array(let elements):
            append(0x5B)
            for (i, element) in elements.enumerated() {
                if i > 0 { append(0x2C) }
                write(element)
            }
            append(0x5D)
        case .object(let members):
            append(0x7B)
            for (i, key) in members.keys.sorted().enumerated() {
                if i > 0 { append(0x2C) }
                writeString(key)
                append(0x3A)
                write(members[key]!)
            }
            append(0x7D)
        }
    }

    /// Writes `"key":` (with a leading comma unless `first`).
    mutating func writeKey(_ key: String, first: Bool) {
        if !first { append(0x2C) }
        writeString(key)
        append(0x3A)
    }
}

/// Go's shortest `'g'` float formatting, from Swift's shortest round-trip digits.
///
/// Both languages print the shortest digit string that reads back as the same double
/// (closest to the exact value on ties), so only the layout differs; this re-lays Swift's
/// `description` out the way `strconv.FormatFloat(v, 'g', -1, 64)` does. The same re-layout
/// applies to any JSON number text (``relayout(_:to:)``): noko's journal spells doubles
/// with their shortest digits, so its text gives exactly Go's output without parsing it.
enum GoFloatFormat {
    static func string(_ value: Double) -> String {
        var bytes: [UInt8] = []
        append(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A finite double.
    static func append(_ value: Double, to out: inout [UInt8]) {
        var text = value.description
        text.withUTF8 { relayout(UnsafeRawBufferPointer($0), to: &out) }
    }

    /// JSON number text (`-1.50`, `2.0`, `1e-05`, `12345678.9`) laid out as Go would print
    /// the double with these significant digits: exponent form when the decimal exponent is
    /// below -4 or at least 6, no trailing zeros, no `.0`.
    static func relayout(_ text: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(text.count, 1)) { digits in
            var count = 0
            var i = 0
            var negative = false
            if i < text.count, text[i] == 0x2D {
                negative = true
                i = 1
            }
            var seenPoint = false
            var integerDigits = 0
            var leadingZerosAfterPoint = 0
            var exponent = 0
            while i < text.count {
                let c = text[i]
                if c == 0x2E {
                    seenPoint = true
                } else if c == 0x65 || c == 0x45 {
                    exponent = parseExponent(text, from: i + 1)
                    break
                } else if count == 0 && c == 0x30 {
                    // A leading zero: before the point it is the "0" of "0.001"; after it,
                    // it shifts the point.
                    if seenPoint { leadingZerosAfterPoint += 1 }
                } else {
                    digits[count] = c
                    count += 1
                    if !seenPoint { integerDigits += 1 }
                }
                i += 1
            }
            if negative { out.append(0x2D) }
            while count > 0 && digits[count - 1] == 0x30 { count -= 1 }
            guard count > 0 else {
                out.append(0x30)
                return
            }
            // The value is 0.d1d2d3… × 10^pointPosition (Go's `digs.dp`).
            let pointPosition = integerDigits > 0 ? integerDigits + exponent : exponent - leadingZerosAfterPoint
            let significant = UnsafeBufferPointer(rebasing: digits[..<count])
            let decimalExponent = pointPosition - 1
            if decimalExponent < -4 || decimalExponent >= 6 {
                out.append(significant[0])
                if count > 1 {
                    out.append(0x2E)
                    out.append(contentsOf: significant[1...])
                }
                out.append(0x65)
                out.append(decimalExponent < 0 ? 0x2D : 0x2B)
                let magnitude = abs(decimalExponent)
                if magnitude < 10 { out.append(0x30) }
                JSONWriter.appendInt(Int64(magnitude), to: &out)
            } else if pointPosition <= 0 {
                out.append(0x30)
                out.append(0x2E)
                out.append(contentsOf: repeatElement(0x30, count: -pointPosition))
                out.append(contentsOf: significant)
            } else if pointPosition >= count {
                out.append(contentsOf: significant)
                out.append(contentsOf: repeatElement(0x30, count: pointPosition - count))
            } else {
                out.append(contentsOf: significant[..<pointPosition])
                out.append(0x2E)
                out.append(contentsOf: significant[pointPosition...])
            }
        }
    }

    private static func parseExponent(_ text: UnsafeRawBufferPointer, from start: Int) -> Int {
        var i = start
        var sign = 1
        if i < text.count, text[i] == 0x2D || text[i] == 0x2B {
            if text[i] == 0x2D { sign = -1 }
            i += 1
        }
        var value = 0
        while i < text.count, value < 100_000 {
            value = value * 10 + Int(text[i] &- 0x30)
            i += 1
        }
        return sign * value
    }
}
