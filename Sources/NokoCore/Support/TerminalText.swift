/// Text on its way to a terminal: values read from a run (names, keys, strings, paths) with
/// their control characters made visible, and noko's own words and colour codes as they are.
///
/// A run's data is not noko's: a config string copied from a log, a table name from a
/// colleague's run directory or a key built from user input may hold `ESC [ 2 J` (clear the
/// screen), an OSC 52 sequence (replace the clipboard) or a bare `\r` (rewrite the line).
/// Everything noko prints for people goes through ``escaped(_:)``, so such a value shows as
/// `\e[2J` and stays on its line. It is the one escaping function for terminal text: the
/// CLI's templates, its messages and errors, and noko's own warnings on stderr and in
/// `debug.log` all use it.
///
/// Build terminal text with an interpolated literal: the literal parts are noko's own text,
/// every interpolated value is escaped (an interpolated `TerminalText` is inserted as is):
///
/// ```swift
/// let line: TerminalText = "no table \"\(name)\" in \(url.path)"
/// ```
///
/// `--json` output, exports and the HTML report are data, not terminal text: they keep the
/// exact strings. A program's own output shown on a terminal (a diff, `output.log`) goes
/// through ``ColourPassingFilter`` instead, which lets colour through as `less -R` does.
///
/// ## The escapes
///
/// | character | shown as |
/// |---|---|
/// | tab, newline, carriage return, ESC | `\t`, `\n`, `\r`, `\e` |
/// | other C0 controls (U+0000–U+001F) and DEL (U+007F) | `\x00`…`\x1f`, `\x7f` |
/// | C1 controls (U+0080–U+009F, e.g. the 8-bit CSI U+009B) | `\u{80}`…`\u{9f}` |
/// | backslash | `\\` |
///
/// Every other character, printable Unicode included, is shown as it is. Because a
/// backslash in the value is always doubled, every single backslash in the output starts
/// one of the escapes above: the output reads back to exactly one value, so two different
/// values never print the same. (C1 controls are written `\u{…}`, not `\x…`, because they
/// are characters, two bytes in UTF-8.)
package struct TerminalText: Sendable, Hashable, CustomStringConvertible {
    /// The text as the terminal gets it.
    package private(set) var rendered: String
    /// The same text with its values as they were: for `--json` fields that carry a message,
    /// never for a terminal.
    package private(set) var raw: String

    /// Text that is already safe: noko's own words, or text built from escaped values and
    /// noko's colour codes.
    package init(verbatim text: String) {
        rendered = text
        raw = text
    }

    /// A value from a run, escaped.
    package init(escaping value: String) {
        rendered = TerminalText.escaped(value)
        raw = value
    }

    /// No text.
    package static let empty = TerminalText(verbatim: "")

    package var description: String { rendered }

    /// Whether there is no text.
    package var isEmpty: Bool { rendered.isEmpty }

    /// The two texts one after the other.
    package static func + (lhs: TerminalText, rhs: TerminalText) -> TerminalText {
        var text = lhs
        text += rhs
        return text
    }

    /// Appends `rhs`.
    package static func += (lhs: inout TerminalText, rhs: TerminalText) {
        lhs.rendered += rhs.rendered
        lhs.raw += rhs.raw
    }

    // MARK: - The escaping function

    /// `value` with every control character (C0, DEL, C1) and every backslash replaced by
    /// its visible escape (see the table in ``TerminalText``); returns `value` itself when
    /// there is nothing to escape.
    package static func escaped(_ value: String) -> String {
        var value = value
        let escapedBytes: [UInt8]? = value.withUTF8 { utf8 in
            // Clean text (the common case) costs one scan of its bytes.
            var i = 0
            while i < utf8.count, !needsEscape(utf8, at: i) { i += 1 }
            guard i < utf8.count else { return nil }
            var out: [UInt8] = []
            out.reserveCapacity(utf8.count + 16)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[..<i]))
            while i < utf8.count {
                let byte = utf8[i]
                if byte == 0xC2, needsEscape(utf8, at: i) {
                    appendEscape(of: UInt32(utf8[i + 1]), to: &out)  // C2 80…C2 9F: U+0080…U+009F
                    i += 2
                } else {
                    // Bytes from 80 up are parts of characters, never escapes by themselves.
                    if byte >= 0x80 || !appendEscape(of: UInt32(byte), to: &out) { out.append(byte) }
                    i += 1
                }
            }
            return out
        }
        guard let escapedBytes else { return value }
        return String(decoding: escapedBytes, as: UTF8.self)
    }

    /// ``escaped(_:)`` of a substring or another string type.
    package static func escaped(_ value: some StringProtocol) -> String {
        escaped(String(value))
    }

    /// Whether `scalar` is a control character: C0 (U+0000–U+001F), DEL (U+007F) or C1
    /// (U+0080–U+009F).
    package static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// The visible escape of `scalar`, or nil when it is shown as it is.
    package static func escape(for scalar: Unicode.Scalar) -> String? {
        var bytes: [UInt8] = []
        guard appendEscape(of: scalar.value, to: &bytes) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether the UTF-8 at `i` starts something to escape: a backslash, a C0 byte, DEL, or
    /// a C1 character (`C2 80`…`C2 9F`; in valid UTF-8 a `C2` is followed by `80`…`BF`).
    @inline(__always)
    private static func needsEscape(_ utf8: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        let byte = utf8[i]
        return byte < 0x20 || byte == 0x7F || byte == 0x5C || (byte == 0xC2 && i + 1 < utf8.count && utf8[i + 1] < 0xA0)
    }

    /// Appends the escape of the character `value` and returns true, or returns false when
    /// it is shown as it is: the one table of escapes.
    @discardableResult
    private static func appendEscape(of value: UInt32, to out: inout [UInt8]) -> Bool {
        let backslash = UInt8(ascii: "\\")
        switch value {
        case 0x5C: out += [backslash, backslash]
        case 0x09: out += [backslash, UInt8(ascii: "t")]
        case 0x0A: out += [backslash, UInt8(ascii: "n")]
        case 0x0D: out += [backslash, UInt8(ascii: "r")]
        case 0x1B: out += [backslash, UInt8(ascii: "e")]
        case 0x00..<0x20, 0x7F: out += [backslash, UInt8(ascii: "x"), hexDigits[Int(value >> 4)], hexDigits[Int(value & 15)]]
        case 0x80...0x9F:
            out += [backslash, UInt8(ascii: "u"), UInt8(ascii: "{"), hexDigits[Int(value >> 4)], hexDigits[Int(value & 15)], UInt8(ascii: "}")]
        default: return false
        }
        return true
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}

// MARK: - Building terminal text

extension TerminalText: ExpressibleByStringInterpolation {
    /// Literal text: noko's own, shown as it is.
    package init(stringLiteral value: String) {
        self.init(verbatim: value)
    }

    package init(stringInterpolation: StringInterpolation) {
        self = stringInterpolation.text
    }

    /// Literal parts as they are, interpolated values escaped.
    package struct StringInterpolation: StringInterpolationProtocol {
        var text = TerminalText.empty

        package init(literalCapacity: Int, interpolationCount: Int) {
            text.rendered.reserveCapacity(literalCapacity + 16 * interpolationCount)
        }

        package mutating func appendLiteral(_ literal: String) {
            text += TerminalText(verbatim: literal)
        }

        /// Text that is already terminal text, as it is.
        package mutating func appendInterpolation(_ text: TerminalText) {
            self.text += text
        }

        /// A value (a string, a number, an error…) as `String(describing:)` spells it, escaped;
        /// a value that knows its terminal text (``TerminalTextConvertible``, e.g. the CLI's
        /// errors, whose messages are already escaped) gives that instead.
        package mutating func appendInterpolation(_ value: some Any) {
            if let convertible = value as? any TerminalTextConvertible {
                text += convertible.terminalText
            } else {
                text += TerminalText(escaping: String(describing: value))
            }
        }
    }
}

/// A value whose text for people is already terminal text (an error whose message was built
/// as ``TerminalText``), so interpolating it does not escape it twice.
package protocol TerminalTextConvertible {
    /// The value's text, safe for a terminal.
    var terminalText: TerminalText { get }
}

extension Sequence where Element == TerminalText {
    /// The texts with `separator` between them.
    package func joined(separator: TerminalText = .empty) -> TerminalText {
        var out = TerminalText.empty
        for (i, text) in enumerated() {
            if i > 0 { out += separator }
            out += text
        }
        return out
    }
}
