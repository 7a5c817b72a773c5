import Mustache
import NokoCore

/// Helpers for the values templates receive.
///
/// Templates get values from a run escaped (``TerminalText``, applied by
/// ``Templates/renderText(_:context:templateFile:)``); the helpers that align text measure
/// and pad the escaped text, so columns line up however odd the names are.
///
/// Every text template gets lambdas that colour their section when colour is on and leave
/// it alone otherwise: `{{#bold}}…{{/bold}}`, `dim`, `red`, `green`, `yellow`, `cyan`.
package enum TemplateContext {
    /// The colour lambdas for `terminal`.
    package static func styles(_ terminal: Terminal) -> [String: Any] {
        var styles: [String: Any] = [:]
        let named: [(String, Terminal.Style)] = [
            ("bold", .bold), ("dim", .dim), ("red", .red), ("green", .green), ("yellow", .yellow), ("cyan", .cyan),
        ]
        for (name, style) in named {
            styles[name] = lambda(terminal, style)
        }
        return styles
    }

    /// A lambda that paints its section in `style` (nothing when `style` is nil or colour is off).
    package static func lambda(_ terminal: Terminal, _ style: Terminal.Style?) -> MustacheLambda {
        MustacheLambda { (text: String) -> Any? in
            guard terminal.colour, let style else { return text }
            return "\u{1B}[\(style.rawValue)m" + text + "\u{1B}[0m"
        }
    }

    /// `label: value` lines aligned on the values: each entry has `label`, `pad` (spaces
    /// after the label) and `value`.
    package static func fields(_ pairs: [(TerminalText, TerminalText)]) -> [[String: Any]] {
        let width = pairs.map { TextWidth.of($0.0) }.max() ?? 0
        return pairs.map { label, value in
            ["label": label, "pad": String(repeating: " ", count: width - TextWidth.of(label)), "value": value]
        }
    }

    /// Rows of cells aligned into columns (two spaces apart); `rightAligned[i]` right-aligns
    /// column i. Returns one line per row. Cells may carry colour codes.
    package static func alignedRows(_ rows: [[TerminalText]], rightAligned: [Bool] = []) -> [TerminalText] {
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], TextWidth.of(cell)) }
        }
        return rows.map { row in
            var line = TerminalText.empty
            for (i, cell) in row.enumerated() {
                if i > 0 { line += "  " }
                let right = i < rightAligned.count && rightAligned[i]
                // The last column is not padded on the right: no trailing spaces.
                line += i == row.count - 1 && !right ? cell : TextWidth.pad(cell, to: widths[i], rightAlign: right)
            }
            return line
        }
    }
}
