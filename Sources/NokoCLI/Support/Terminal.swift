import NokoCore
import NokoPlatform

/// What the output stream can show: colour or not, and how wide a line may be.
///
/// Colour is on only when standard output is a terminal and `NO_COLOR` is unset (any
/// value, even empty, turns it off: see no-color.org), and never for `--json`. Styles are
/// plain ANSI escape codes, so there is no dependency on a terminal library.
package struct Terminal: Sendable, Equatable {
    /// Whether ``paint(_:_:)`` adds escape codes.
    package var colour: Bool
    /// Whether standard output is a terminal (pagers and progress bars need one).
    package var isInteractive: Bool
    /// Columns available for a line; `COLUMNS`, else the terminal's width, else 100.
    package var width: Int

    /// A terminal with explicit properties (tests, `--json`).
    package init(colour: Bool, isInteractive: Bool = false, width: Int = 100) {
        self.colour = colour
        self.isInteractive = isInteractive
        self.width = width
    }

    /// No colour, not interactive: what files, pipes and tests get.
    package static let plain = Terminal(colour: false)

    /// The terminal standard output is attached to, as `environment` configures it.
    package static func standardOutput(environment: [String: String]) -> Terminal {
        let interactive = FileDescriptor.standardOutput.isTerminal
        let colour = colourAllowed(isTerminal: interactive, environment: environment)
        var width = 100
        if let columns = environment["COLUMNS"].flatMap(Int.init), columns > 20 {
            width = columns
        } else if interactive, let columns = FileDescriptor.standardOutput.terminalColumns, columns > 20 {
            width = columns
        }
        return Terminal(colour: colour, isInteractive: interactive, width: width)
    }

    /// Colour is for terminals only, and never when `NO_COLOR` is set (to anything, even
    /// the empty string) or `TERM` is `dumb`.
    package static func colourAllowed(isTerminal: Bool, environment: [String: String]) -> Bool {
        isTerminal && environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
    }

    /// A text style.
    package enum Style: String, Sendable, CaseIterable {
        case bold = "1", dim = "2", red = "31", green = "32", yellow = "33", blue = "34", magenta = "35", cyan = "36"
        case boldRed = "1;31", boldGreen = "1;32", boldYellow = "1;33"
    }

    /// `text` in `style` when colour is on; `text` unchanged otherwise.
    package func paint(_ text: TerminalText, _ style: Style?) -> TerminalText {
        guard colour, let style, !text.isEmpty else { return text }
        return TerminalText(verbatim: "\u{1B}[\(style.rawValue)m") + text + TerminalText(verbatim: "\u{1B}[0m")
    }

    /// The colour that tells a run's status at a glance.
    package static func style(forStatus status: String) -> Style? {
        switch status {
        case "finished": return .green
        case "running": return .cyan
        case "failed": return .boldRed
        case "killed", "stale": return .yellow
        default: return nil
        }
    }
}

/// Display widths of terminal text, which may hold noko's ANSI colour codes (values in it
/// are escaped, so these are the only escape sequences).
package enum TextWidth {
    /// Columns `text` takes on a terminal: escape sequences take none; every other
    /// character (extended grapheme cluster) one, which is right for noko's Latin text,
    /// numbers and the sparkline's block characters.
    package static func of(_ text: TerminalText) -> Int {
        of(text.rendered)
    }

    static func of(_ text: String) -> Int {
        guard text.utf8.contains(0x1B) else { return text.count }
        var width = 0
        var inEscape = false
        for scalar in text.unicodeScalars {
            if inEscape {
                if (0x40...0x7E).contains(scalar.value) && scalar != "[" { inEscape = false }
                continue
            }
            if scalar == "\u{1B}" {
                inEscape = true
                continue
            }
            width += 1
        }
        // Unicode scalars over-count combining marks; noko's own text has none.
        return width
    }

    /// `text` padded with spaces to `width` columns (left-aligned), or right-aligned.
    package static func pad(_ text: TerminalText, to width: Int, rightAlign: Bool = false) -> TerminalText {
        let missing = width - of(text)
        guard missing > 0 else { return text }
        let spaces = TerminalText(verbatim: String(repeating: " ", count: missing))
        return rightAlign ? spaces + text : text + spaces
    }

    /// `text` cut to `width` columns with a trailing `…` (text without colour codes). The
    /// cut never splits an escape (`\u{9b}`, `\x07`): it falls before one that would not
    /// fit whole.
    package static func truncate(_ text: TerminalText, to width: Int) -> TerminalText {
        guard width > 0 else { return .empty }
        guard text.rendered.count > width else { return text }
        let characters = Array(text.rendered)
        var cut = 0
        while cut < width - 1 {
            let length = characters[cut] == "\\" ? escapeLength(characters, at: cut) : 1
            if cut + length > width - 1 { break }
            cut += length
        }
        return TerminalText(verbatim: String(characters[..<cut]) + "…")
    }

    /// The length of the escape starting at the backslash at `i` (see ``TerminalText``).
    private static func escapeLength(_ characters: [Character], at i: Int) -> Int {
        guard i + 1 < characters.count else { return 1 }
        switch characters[i + 1] {
        case "x": return 4
        case "u":
            guard i + 2 < characters.count, characters[i + 2] == "{",
                let close = characters[(i + 2)...].prefix(8).firstIndex(of: "}")
            else { return 2 }
            return close - i + 1
        default: return 2
        }
    }
}
