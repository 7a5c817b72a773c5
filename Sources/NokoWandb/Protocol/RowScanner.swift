import NokoCore

/// Splits one journal line, a flat JSON object, into members given as byte ranges, and
/// checks it is strict JSON, without building values: the upload copies most values to the
/// wire as they are (numbers only change layout), so parsing them would be wasted work.
struct RowScanner {
    enum Kind: Equatable {
        case number
        case string
        /// `true`, `false` or `null`.
        case literal
        /// An array or object (checked with the strict parser).
        case nested
    }

    struct Member {
        /// The key's bytes between its quotes, escapes as written.
        var key: Range<Int>
        var keyHasEscapes: Bool
        /// The value's bytes; a string's include its quotes.
        var value: Range<Int>
        var kind: Kind
    }

    /// The members of the last line scanned, in order.
    private(set) var members: [Member] = []

    /// Scans `line`; nil when it is a well-formed JSON object, else what is wrong.
    mutating func scan(_ line: UnsafeRawBufferPointer) -> String? {
        members.removeAll(keepingCapacity: true)
        var cursor = Cursor(bytes: line)
        cursor.skipWhitespace()
        guard cursor.take(0x7B) else { return "expected '{' at byte \(cursor.position)" }
        cursor.skipWhitespace()
        if !cursor.take(0x7D) {
            while true {
                cursor.skipWhitespace()
                guard cursor.peek == 0x22 else { return "expected a key at byte \(cursor.position)" }
                let keyStart = cursor.position + 1
                guard let keyEscapes = cursor.string() else { return "bad string at byte \(keyStart - 1)" }
                let key = keyStart..<(cursor.position - 1)
                cursor.skipWhitespace()
                guard cursor.take(0x3A) else { return "expected ':' at byte \(cursor.position)" }
                cursor.skipWhitespace()
                let valueStart = cursor.position
                let kind: Kind
                switch cursor.peek ?? 0 {
                case 0x22:
                    guard cursor.string() != nil else { return "bad string at byte \(valueStart)" }
                    kind = .string
                case 0x2D, 0x30...0x39 as ClosedRange<UInt8>:
                    guard cursor.number() else { return "bad number at byte \(valueStart)" }
                    kind = .number
                case 0x74:
                    guard cursor.literal("true") else { return "bad literal at byte \(valueStart)" }
                    kind = .literal
                case 0x66:
                    guard cursor.literal("false") else { return "bad literal at byte \(valueStart)" }
                    kind = .literal
                case 0x6E:
                    guard cursor.literal("null") else { return "bad literal at byte \(valueStart)" }
                    kind = .literal
                case 0x7B, 0x5B:
                    guard cursor.nested() else { return "bad nested value at byte \(valueStart)" }
                    kind = .nested
                default:
                    return "unexpected character at byte \(valueStart)"
                }
                members.append(Member(key: key, keyHasEscapes: keyEscapes, value: valueStart..<cursor.position, kind: kind))
                cursor.skipWhitespace()
                if cursor.take(0x2C) { continue }
                guard cursor.take(0x7D) else { return "expected ',' or '}' at byte \(cursor.position)" }
                break
            }
        }
        cursor.skipWhitespace()
        return cursor.atEnd ? nil : "text after the object at byte \(cursor.position)"
    }
}

/// A read position in a line, with the JSON token rules.
private struct Cursor {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    var atEnd: Bool { position >= bytes.count }
    var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func take(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        position += 1
        return true
    }

    mutating func skipWhitespace() {
        while let c = peek, c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A { position += 1 }
    }

    /// A string at the cursor (on its opening quote); true when it has escapes, nil when
    /// it is not a valid JSON string.
    mutating func string() -> Bool? {
        let start = position
        position += 1
        var escapes = false
        var ascii = true
        while position < bytes.count {
            let c = bytes[position]
            switch c {
            case 0x22:
                position += 1
                if !ascii {
                    // Escapes are ASCII, so validating the raw bytes validates the string.
                    let raw = UnsafeRawBufferPointer(rebasing: bytes[(start + 1)..<(position - 1)])
                    guard String(validating: raw, as: UTF8.self) != nil else { return nil }
                }
                return escapes
            case 0x5C:
                escapes = true
                guard position + 1 < bytes.count else { return nil }
                switch bytes[position + 1] {
                case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74:
                    position += 2
                case 0x75:
                    guard position + 5 < bytes.count else { return nil }
                    for i in 2...5 where !isHexDigit(bytes[position + i]) { return nil }
                    position += 6
                default:
                    return nil
                }
            case 0..<0x20:
                return nil
            default:
                if c >= 0x80 { ascii = false }
                position += 1
            }
        }
        return nil
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    mutating func number() -> Bool {
        _ = take(0x2D)
        guard let first = peek, isDigit(first) else { return false }
        position += 1
        if first != 0x30 { while let c = peek, isDigit(c) { position += 1 } }
        if take(0x2E) {
            guard let c = peek, isDigit(c) else { return false }
            while let c = peek, isDigit(c) { position += 1 }
        }
        if let c = peek, c == 0x65 || c == 0x45 {
            position += 1
            if let sign = peek, sign == 0x2B || sign == 0x2D { position += 1 }
            guard let d = peek, isDigit(d) else { return false }
            while let c = peek, isDigit(c) { position += 1 }
        }
        return true
    }

    mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        for i in 0..<count where bytes[position + i] != word.utf8Start[i] { return false }
        position += count
        return true
    }

    /// An array or object: finds its end (strings skipped), then lets the strict parser
    /// judge it; nested values are rare in rows, so this need not be fast.
    mutating func nested() -> Bool {
        let start = position
        var depth = 0
        while position < bytes.count {
            switch bytes[position] {
            case 0x22:
                guard string() != nil else { return false }
                continue
            case 0x7B, 0x5B:
                depth += 1
            case 0x7D, 0x5D:
                depth -= 1
                if depth == 0 {
                    position += 1
                    return (try? JSONValue(parsing: UnsafeRawBufferPointer(rebasing: bytes[start..<position]))) != nil
                }
            default:
                break
            }
            position += 1
        }
        return false
    }

    private func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    private func isHexDigit(_ c: UInt8) -> Bool {
        isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }
}
