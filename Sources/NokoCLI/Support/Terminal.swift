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
    package func paint(_ text: String, _ style: Style?) -> String {
        guard colour, let style, !text.isEmpty else { return text }
        return "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m"
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

/// Display widths of text that may hold ANSI escape codes.
package enum TextWidth {
    /// Columns `text` takes on a terminal: escape sequences take none; every other
    /// character (extended grapheme cluster) one, which is right for noko's Latin text,
    /// numbers and the sparkline's block characters.
    package static func of(_ text: String) -> Int {
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
    package static func pad(_ text: String, to width: Int, rightAlign: Bool = false) -> String {
        let missing = width - of(text)
        guard missing > 0 else { return text }
        let spaces = String(repeating: " ", count: missing)
        return rightAlign ? spaces + text : text + spaces
    }

    /// `text` cut to `width` columns with a trailing `…` (plain text only).
    package static func truncate(_ text: String, to width: Int) -> String {
        guard width > 0 else { return "" }
        guard text.count > width else { return text }
        return String(text.prefix(width - 1)) + "…"
    }
}
