/// noko's CSV dialect: RFC 4180 with Python-compatible spellings.
///
/// - Cells are separated by `,`, records by `\n`.
/// - A string is quoted (`"…"`, inner quotes doubled) when it contains `,`, `"`, `\r` or
///   `\n`, has leading or trailing spaces, is empty, or would otherwise read back as a
///   number, boolean or special value. So every cell reads back as the type it was logged as.
/// - `null` is an empty unquoted cell; booleans are `True`/`False` (what Python's `csv`
///   writes and pandas reads); NaN and ±Infinity are `nan`, `inf`, `-inf`.
enum CSVFormat {
    static func append(_ value: Scalar, to out: inout [UInt8]) {
        switch value {
        case .null: return
        case .bool(let v): out.append(contentsOf: v ? trueText : falseText)
        case .int(let v): JSONWriter.appendInt(v, to: &out)
        case .double(let v): appendDouble(v, to: &out)
        case .string(let s): appendString(s, to: &out)
        }
    }

    static let trueText = Array("True".utf8)
    static let falseText = Array("False".utf8)

    static func appendDouble(_ v: Double, to out: inout [UInt8]) {
        if v.isNaN {
            out.append(contentsOf: [0x6E, 0x61, 0x6E])
        } else if v.isInfinite {
            if v < 0 { out.append(UInt8(ascii: "-")) }
            out.append(contentsOf: [0x69, 0x6E, 0x66])
        } else {
            DoubleText.append(v, to: &out)
        }
    }

    static func appendString(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { utf8 in
            if !needsQuotes(utf8) {
                out.append(contentsOf: utf8)
                return
            }
            out.append(UInt8(ascii: "\""))
            for byte in utf8 {
                if byte == UInt8(ascii: "\"") { out.append(byte) }
                out.append(byte)
            }
            out.append(UInt8(ascii: "\""))
        }
    }

    static func needsQuotes(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = utf8.first, let last = utf8.last else { return true }
        if first == UInt8(ascii: " ") || last == UInt8(ascii: " ") { return true }
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: ","), UInt8(ascii: "\""), UInt8(ascii: "\n"), UInt8(ascii: "\r"): return true
            default: continue
            }
        }
        // Only text that starts like a number or a special value can be misread.
        switch first {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
            UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "i"), UInt8(ascii: "I"), UInt8(ascii: "T"),
            UInt8(ascii: "F"), UInt8(ascii: "t"), UInt8(ascii: "f"):
            if case .string = parseUnquoted(UnsafeRawBufferPointer(utf8)) { return false }
            return true
        default:
            return false
        }
    }

    /// The value of an unquoted cell: empty is null; numbers, booleans and the special
    /// values have their types; anything else is text.
    static func parseUnquoted(_ cell: UnsafeRawBufferPointer) -> Scalar {
        if cell.isEmpty { return .null }
        let first = cell[0]
        // noko's own number parser first, in place: numbers are most cells, and the JSON
        // shape is what noko and Python write.
        if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) || first == UInt8(ascii: "-"),
            let (number, end) = DecimalNumber.parse(cell, from: 0, to: cell.count), end == cell.count
        {
            return number
        }
        let text = String(decoding: cell, as: UTF8.self)
        switch text {
        case "True", "true", "TRUE": return .bool(true)
        case "False", "false", "FALSE": return .bool(false)
        case "nan", "NaN", "NAN": return .double(.nan)
        case "inf", "Infinity", "+inf": return .double(.infinity)
        case "-inf", "-Infinity": return .double(-.infinity)
        default: break
        }
        guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) || first == UInt8(ascii: "-")
            || first == UInt8(ascii: "+") || first == UInt8(ascii: ".")
        else { return .string(text) }
        // The looser forms other writers use (`+1`, `.5`, `1.`, `007`).
        if let v = Int64(text) { return .int(v) }
        if let v = Double(text), isDecimalNumber(cell) { return .double(v) }
        return .string(text)
    }

    /// `Double(String)` also accepts hex floats and `nan(…)`; CSV numbers are decimal.
    private static func isDecimalNumber(_ cell: UnsafeRawBufferPointer) -> Bool {
        for byte in cell {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"),
                UInt8(ascii: "+"), UInt8(ascii: "-"):
                continue
            default: return false
            }
        }
        return true
    }
}
