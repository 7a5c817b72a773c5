import Foundation

/// Shell quoting for command lines shown to people (and pasted back into a shell).
package enum ShellQuote {
    /// `text` as a POSIX shell word: bare when it is made of safe characters, else in
    /// single quotes.
    package static func word(_ text: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=+@%,")
        if !text.isEmpty, text.allSatisfy(safe.contains) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// A command line from its arguments.
    package static func line(_ arguments: [String]) -> String {
        arguments.map(word).joined(separator: " ")
    }
}
