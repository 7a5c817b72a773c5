/// Shell-like word splitting, for text that holds several arguments in one string
/// (`NOKO_OVERRIDES`, `noko-run sweep --slurm`).
package enum ShellWords {
    /// Splits text into words as a POSIX shell does: blanks separate; single quotes keep
    /// everything literally; double quotes keep blanks, and a backslash in them escapes
    /// `"`, `\`, `$` and `` ` ``; a backslash outside quotes escapes the next character.
    /// Errors name `source`, where the text came from.
    package static func split(_ text: String, source: String) throws(LaunchConfigError) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var iterator = Array(text).makeIterator()
        while let character = iterator.next() {
            switch character {
            case " ", "\t", "\n":
                if inWord { words.append(word) }
                word = ""
                inWord = false
            case "'":
                inWord = true
                var closed = false
                while let inner = iterator.next() {
                    if inner == "'" { closed = true; break }
                    word.append(inner)
                }
                guard closed else { throw LaunchConfigError("\(source): a single quote is not closed") }
            case "\"":
                inWord = true
                var closed = false
                while let inner = iterator.next() {
                    if inner == "\"" { closed = true; break }
                    if inner == "\\" {
                        guard let escaped = iterator.next() else { break }
                        if !"\"\\$`".contains(escaped) { word.append("\\") }
                        word.append(escaped)
                        continue
                    }
                    word.append(inner)
                }
                guard closed else { throw LaunchConfigError("\(source): a double quote is not closed") }
            case "\\":
                inWord = true
                guard let escaped = iterator.next() else {
                    throw LaunchConfigError("\(source): a backslash ends the text")
                }
                word.append(escaped)
            default:
                inWord = true
                word.append(character)
            }
        }
        if inWord { words.append(word) }
        return words
    }
}
