import NokoPlatform

/// Shell-style patterns for `--columns`: `*`, `?` and `[…]`, matched by `fnmatch(3)`.
///
/// `*` also crosses `/`, so `weights*` matches `weights.mean` and `weights/x`; several
/// patterns separated by commas match when any one does (`loss,acc*`).
package struct Glob: Sendable, Equatable {
    /// The patterns, any of which may match.
    package let patterns: [String]

    /// Parses `text`: comma-separated patterns; a pattern without wildcards matches only
    /// exactly.
    package init(_ text: String) {
        patterns = text.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
    }

    /// Whether `name` matches one of the patterns.
    package func matches(_ name: String) -> Bool {
        patterns.contains { CLibrary.matchesShellPattern($0, name) }
    }
}

extension String {
    /// The text without leading and trailing spaces and tabs.
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return String(s)
    }
}
