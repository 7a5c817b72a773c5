import NokoPlatform

/// Why a JSON document did not parse, and where.
package struct JSONParseError: Error, Sendable, CustomStringConvertible {
    /// Byte offset of the problem within the parsed text.
    package let offset: Int
    /// What was expected.
    package let message: String

    package var description: String { "\(message) at byte \(offset)" }
}

/// A strict, allocation-light JSON parser over UTF-8 bytes.
///
/// Strict means RFC 8259: no comments, no trailing commas, no bare `NaN`. It is fast enough
/// to stream a multi-gigabyte journal: object members can be visited one at a time
/// (``parseFlatObject(_:)``) without building a tree.
struct JSONParser {
    private let bytes: UnsafeRawBufferPointer
    private(set) var position = 0
    /// Nesting deeper than this is an error, so hostile input cannot overflow the stack.
    private let maxDepth = 512
    /// Accept the bare tokens `NaN`, `Infinity` and `-Infinity` as doubles: Python's `json`
    /// writes them, so journals from Python noko have them. Off by default (strict JSON).
    let allowsNonFiniteLiterals: Bool

    init(_ bytes: UnsafeRawBufferPointer, allowsNonFiniteLiterals: Bool = false) {
        self.bytes = bytes
        self.allowsNonFiniteLiterals = allowsNonFiniteLiterals
    }

    mutating func parseDocument() throws -> JSONValue {
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard position == bytes.count else { throw error("unexpected text after the JSON value") }
        return value
    }

    /// Parses an object whose members are visited in order by `member`; nested arrays and
    /// objects are passed as trees.
    mutating func parseFlatObject(_ member: (String, JSONValue) throws -> Void) throws {
        skipWhitespace()
        try expect(0x7B, "expected '{' to start a row object")
        skipWhitespace()
        if peek() == 0x7D {
            position += 1
        } else {
            while true {
                skipWhitespace()
                let key = try parseString()
                skipWhitespace()
                try expect(0x3A, "expected ':' after an object key")
                skipWhitespace()
                try member(key, try parseValue(depth: 1))
                skipWhitespace()
                if peek() == 0x2C {
                    position += 1
                    continue
                }
                try expect(0x7D, "expected ',' or '}' in an object")
                break
            }
        }
        skipWhitespace()
        guard position == bytes.count else { throw error("unexpected text after the JSON object") }
    }

    private func error(_ message: String) -> JSONParseError {
        JSONParseError(offset: position, message: message)
    }

    @inline(__always) private func peek() -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    private mutating func expect(_ byte: UInt8, _ message: String) throws {
        guard peek() == byte else { throw error(message) }
        position += 1
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws -> JSONValue {
        guard depth < maxDepth else { throw error("JSON nested deeper than \(maxDepth) levels") }
        guard let c = peek() else { throw error("unexpected end of JSON") }
        switch c {
        case 0x22: return .string(try parseString())
        case 0x7B: return try parseObject(depth: depth)
        case 0x5B: return try parseArray(depth: depth)
        case 0x74: try literal("true"); return .bool(true)
        case 0x66: try literal("false"); return .bool(false)
        case 0x6E: try literal("null"); return .null
        case 0x4E where allowsNonFiniteLiterals: try literal("NaN"); return .double(.nan)
        case 0x49 where allowsNonFiniteLiterals: try literal("Infinity"); return .double(.infinity)
        case 0x2D where allowsNonFiniteLiterals && position + 1 < bytes.count && bytes[position + 1] == 0x49:
            position += 1
            try literal("Infinity")
            return .double(-.infinity)
        case 0x2D, 0x30...0x39: return try parseNumber()
        default: throw error("unexpected character '\(Character(Unicode.Scalar(c)))'")
        }
    }

    private mutating func literal(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw error("unexpected end of JSON") }
        for i in 0..<count where bytes[position + i] != word.utf8Start[i] {
            throw error("invalid literal, expected \(word)")
        }
        position += count
    }

    private mutating func parseObject(depth: Int) throws -> JSONValue {
        position += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if peek() == 0x7D {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            let key = try parseString()
            skipWhitespace()
            try expect(0x3A, "expected ':' after an object key")
            skipWhitespace()
            members[key] = try parseValue(depth: depth + 1)
            skipWhitespace()
            if peek() == 0x2C {
                position += 1
                continue
            }
            try expect(0x7D, "expected ',' or '}' in an object")
            return .object(members)
        }
    }

    private mutating func parseArray(depth: Int) throws -> JSONValue {
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek() == 0x5D {
            position += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            if peek() == 0x2C {
                position += 1
                continue
            }
            try expect(0x5D, "expected ',' or ']' in an array")
            return .array(elements)
        }
    }

    mutating func parseString() throws -> String {
        try expect(0x22, "expected a string")
        let start = position
        // Fast path: no escapes, so the string is a slice of the input. ASCII needs no
        // UTF-8 validation (which is costly per call), so keys and most values skip it.
        var ascii = true
        while position < bytes.count {
            let c = bytes[position]
            if c == 0x22 {
                let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<position])
                position += 1
                if ascii { return String(decoding: slice, as: UTF8.self) }
                guard let s = String(validating: slice, as: UTF8.self) else {
                    throw JSONParseError(offset: start, message: "invalid UTF-8 in a string")
                }
                return s
            }
            if c == 0x5C { break }
            if c < 0x20 { throw error("control character in a string") }
            if c >= 0x80 { ascii = false }
            position += 1
        }
        var utf8 = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<position]))
        while position < bytes.count {
            let c = bytes[position]
            position += 1
            switch c {
            case 0x22:
                guard let s = String(validating: utf8, as: UTF8.self) else {
                    throw JSONParseError(offset: start, message: "invalid UTF-8 in a string")
                }
                return s
            case 0x5C:
                guard let e = peek() else { throw error("unterminated escape") }
                position += 1
                switch e {
                case 0x22, 0x5C, 0x2F: utf8.append(e)
                case 0x62: utf8.append(0x08)
                case 0x66: utf8.append(0x0C)
                case 0x6E: utf8.append(0x0A)
                case 0x72: utf8.append(0x0D)
                case 0x74: utf8.append(0x09)
                case 0x75:
                    var scalar = try parseHex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate must be followed by an escaped low surrogate.
                        guard peek() == 0x5C, position + 1 < bytes.count, bytes[position + 1] == 0x75 else {
                            throw error("unpaired UTF-16 surrogate")
                        }
                        position += 2
                        let low = try parseHex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("invalid UTF-16 surrogate pair") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw error("unpaired UTF-16 surrogate")
                    }
                    utf8.append(contentsOf: UTF8.encode(Unicode.Scalar(scalar)!)!)
                default: throw error("invalid escape")
                }
            default:
                if c < 0x20 { throw error("control character in a string") }
                // Copy the run up to the next quote, backslash or control character at once.
                let runStart = position - 1
                while position < bytes.count {
                    let next = bytes[position]
                    if next == 0x22 || next == 0x5C || next < 0x20 { break }
                    position += 1
                }
                utf8.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<position]))
            }
        }
        throw JSONParseError(offset: start, message: "unterminated string")
    }

    private mutating func parseHex4() throws -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[position]
            let digit: UInt32
            switch c {
            case 0x30...0x39: digit = UInt32(c - 0x30)
            case 0x41...0x46: digit = UInt32(c - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(c - 0x61 + 10)
            default: throw error("invalid hex digit in \\u escape")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    private mutating func parseNumber() throws -> JSONValue {
        let start = position
        var isInteger = true
        if peek() == 0x2D { position += 1 }
        guard let first = peek(), (0x30...0x39).contains(first) else { throw error("invalid number") }
        if first == 0x30 {
            position += 1
        } else {
            while let c = peek(), (0x30...0x39).contains(c) { position += 1 }
        }
        if peek() == 0x2E {
            isInteger = false
            position += 1
            guard let c = peek(), (0x30...0x39).contains(c) else { throw error("invalid number: digits expected after '.'") }
            while let c = peek(), (0x30...0x39).contains(c) { position += 1 }
        }
        if let c = peek(), c == 0x65 || c == 0x45 {
            isInteger = false
            position += 1
            if let s = peek(), s == 0x2B || s == 0x2D { position += 1 }
            guard let c = peek(), (0x30...0x39).contains(c) else { throw error("invalid number: digits expected in exponent") }
            while let c = peek(), (0x30...0x39).contains(c) { position += 1 }
        }
        let digits = UnsafeRawBufferPointer(rebasing: bytes[start..<position])
        if isInteger, digits.count <= 20, let v = JSONParser.parseInt64(digits) {
            return .int(v)
        }
        // The grammar is validated above; DecimalNumber converts most numbers without strtod.
        if let (scalar, end) = DecimalNumber.parse(bytes, from: start, to: position), end == position,
            case .double(let v) = scalar
        {
            return .double(v)
        }
        return .double(CLibrary.parseDouble(digits))
    }

    private static func parseInt64(_ digits: UnsafeRawBufferPointer) -> Int64? {
        var i = 0
        let negative = digits[0] == 0x2D
        if negative { i = 1 }
        // Accumulate downwards: Int64.min has no positive counterpart.
        var value: Int64 = 0
        while i < digits.count {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.subtractingReportingOverflow(Int64(digits[i] - 0x30))
            if o1 || o2 { return nil }
            value = a
            i += 1
        }
        if negative { return value }
        return value == Int64.min ? nil : -value
    }

}
