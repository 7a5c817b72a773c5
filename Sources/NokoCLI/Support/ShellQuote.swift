import Foundation
import NokoCore

/// Shell quoting for command lines shown to people (and pasted back into a shell).
///
/// The result is terminal text that a shell reads back to exactly the arguments: a word with
/// a control character is written `$'…'` (bash, zsh, ksh, POSIX.1-2024 sh), whose escapes
/// (`\e`, `\n`, `\x07`…) are those of ``TerminalText``, so the terminal shows them and the
/// shell turns them back into the characters.
package enum ShellQuote {
    private static let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=+@%,")

    /// `text` as a POSIX shell word: bare when it is made of safe characters, in single
    /// quotes when it has no control character, else in `$'…'`.
    package static func word(_ text: String) -> TerminalText {
        if !text.isEmpty, text.allSatisfy(safe.contains) { return TerminalText(verbatim: text) }
        guard text.unicodeScalars.contains(where: TerminalText.isControl) else {
            return TerminalText(verbatim: "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'")
        }
        var quoted = "$'"
        var afterHexEscape = false
        for scalar in text.unicodeScalars {
            // `\x07` then `a` would read as `\x07a` to some shells: close and reopen the quote.
            if afterHexEscape, scalar.properties.isASCIIHexDigit { quoted += "'$'" }
            afterHexEscape = false
            if scalar == "'" {
                quoted += "\\'"
            } else if (0x80...0x9F).contains(scalar.value) {
                // The shell's `\x` makes bytes: a C1 character is its two UTF-8 bytes.
                quoted += String(scalar).utf8.map { "\\x" + String($0, radix: 16) }.joined()
                afterHexEscape = true
            } else if let escape = TerminalText.escape(for: scalar) {
                quoted += escape
                afterHexEscape = escape.hasPrefix("\\x")
            } else {
                quoted.unicodeScalars.append(scalar)
            }
        }
        return TerminalText(verbatim: quoted + "'")
    }

    /// A command line from its arguments.
    package static func line(_ arguments: [String]) -> TerminalText {
        arguments.map(word).joined(separator: " ")
    }
}
