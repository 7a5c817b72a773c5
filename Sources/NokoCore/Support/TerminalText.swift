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
    package init(escaping value: some StringProtocol) {
        rendered = TerminalText.escaped(value)
        raw = String(value)
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
    package static func escaped(_ value: some StringProtocol) -> String {
        guard needsEscaping(value) else { return String(value) }
        var out = ""
        out.reserveCapacity(value.utf8.count + 8)
        for scalar in value.unicodeScalars {
            if let escape = escape(for: scalar) {
                out += escape
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Whether `scalar` is a control character: C0 (U+0000–U+001F), DEL (U+007F) or C1
    /// (U+0080–U+009F).
    package static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// The visible escape of `scalar`, or nil when it is shown as it is.
    package static func escape(for scalar: Unicode.Scalar) -> String? {
        switch scalar.value {
        case 0x5C: return "\\\\"
        case 0x09: return "\\t"
        case 0x0A: return "\\n"
        case 0x0D: return "\\r"
        case 0x1B: return "\\e"
        case 0x00..<0x20, 0x7F: return "\\x" + hex(scalar.value, digits: 2)
        case 0x80...0x9F: return "\\u{" + hex(scalar.value, digits: 2) + "}"
        default: return nil
        }
    }

    /// A fast pass over the UTF-8 bytes: a backslash, a C0 byte, DEL, or a C1 character
    /// (encoded `C2 80`…`C2 9F`).
    private static func needsEscaping(_ value: some StringProtocol) -> Bool {
        var afterC2 = false
        for byte in value.utf8 {
            if byte < 0x20 || byte == 0x7F || byte == 0x5C || (afterC2 && byte < 0xA0) { return true }
            afterC2 = byte == 0xC2
        }
        return false
    }

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
