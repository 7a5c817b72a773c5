import Foundation
import Noko
import NokoCore
import Testing

@testable import NokoCLI

/// The escaping function (`TerminalText.escaped`), terminal text built by interpolation,
/// and the colour-passing filter for program output.
@Suite struct TerminalTextTests {
    // MARK: - The escapes

    @Test func everyControlCharacterHasItsEscape() {
        #expect(TerminalText.escaped("\t\n\r\u{1B}") == #"\t\n\r\e"#)
        #expect(TerminalText.escaped("\u{0}\u{1}\u{7}\u{8}\u{B}\u{C}\u{1F}\u{7F}") == #"\x00\x01\x07\x08\x0b\x0c\x1f\x7f"#)
        #expect(TerminalText.escaped("\u{80}\u{85}\u{9B}\u{9F}") == #"\u{80}\u{85}\u{9b}\u{9f}"#)
        #expect(TerminalText.escaped(#"C:\runs\new"#) == #"C:\\runs\\new"#)
        for value in 0..<0x20 as Range<UInt32> {
            let escape = TerminalText.escape(for: Unicode.Scalar(value)!)
            #expect(escape?.hasPrefix("\\") == true, "U+\(String(value, radix: 16))")
        }
    }

    @Test func printableTextIsLeftAlone() {
        for text in ["", "loss", "épsilon λ=0.1", "日本語", "🙂 ok", "\u{A0}nbsp", "a\u{301}", "tab-free", "{\"json\": 1}"] {
            #expect(TerminalText.escaped(text) == text)
        }
    }

    /// Characters whose UTF-8 holds the bytes 80…9F (`À` is C3 80, `…` E2 80 A6, `🙂` F0 9F 99
    /// 82) are not C1 controls, also when an escape is next to them.
    @Test func nonASCIICharactersBesideAnEscapeAreLeftAlone() {
        #expect(TerminalText.escaped("À…🙂\u{7}À…🙂\u{9B}日") == #"À…🙂\x07À…🙂\u{9b}日"#)
    }

    /// The attack sequences an issue report used, shown as text on one line.
    @Test func attackSequencesBecomeText() {
        let value = "A\u{1B}[2J\u{1B}]52;c;ZXZpbA==\u{07}B\r\nC"
        #expect(TerminalText.escaped(value) == #"A\e[2J\e]52;c;ZXZpbA==\x07B\r\nC"#)
        #expect(TerminalText.escaped("\u{1B}]0;pwned\u{07}") == #"\e]0;pwned\x07"#)
        #expect(TerminalText.escaped("\u{1B}P+q544e\u{1B}\\") == #"\eP+q544e\e\\"#)
        #expect(TerminalText.escaped("\u{9B}31mred") == #"\u{9b}31mred"#)
    }

    /// Values that a careless scheme would print the same.
    @Test func lookalikesStayApart() {
        let lookalikes = [
            "\u{1B}", "\\e", "\\\u{1B}", "\\\\e", "\u{7}", "\\x07", "\u{9B}", "\\u{9b}", "\n", "\\n", "\\", "\\\\", "\r\n", "\\r\\n",
        ]
        let shown = lookalikes.map { TerminalText.escaped($0) }
        #expect(Set(shown).count == lookalikes.count, "\(shown)")
        for (value, text) in zip(lookalikes, shown) {
            #expect(Self.unescape(text) == value)
        }
    }

    // MARK: - Property: no control character out, and the escaping is injective

    /// Random strings, heavy in controls, backslashes and the letters escapes are made of;
    /// the seed is printed so a failure can be replayed with `NOKO_TEST_SEED=<seed>`.
    @Test func randomStringsNeverPrintAControlAndReadBackExactly() {
        let seed = ProcessInfo.processInfo.environment["NOKO_TEST_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 0...UInt64.max)
        print("TerminalTextTests: seed \(seed) (replay with NOKO_TEST_SEED=\(seed))")
        var random = SplitMix64(seed: seed)
        var seen: [String: String] = [:]
        for _ in 0..<20_000 {
            let value = Self.randomString(&random)
            let shown = TerminalText.escaped(value)
            let control = shown.unicodeScalars.first(where: TerminalText.isControl)
            #expect(control == nil, "seed \(seed): \(value.debugDescription) printed a control character")
            // Reading the text back gives the value: two values never print the same.
            #expect(Self.unescape(shown) == value, "seed \(seed): \(value.debugDescription) → \(shown.debugDescription)")
            if let other = seen[shown], other != value {
                Issue.record("seed \(seed): \(value.debugDescription) and \(other.debugDescription) both print \(shown)")
            }
            seen[shown] = value
        }
    }

    static func randomString(_ random: inout SplitMix64) -> String {
        let pieces: [String] = ["\\", "e", "x", "u", "{", "}", "0", "7", "9", "b", "n", "r", "t", "[", "m", "é", "日", "🙂", "a"]
        var text = ""
        let length = Int(random.next() % 12)
        for _ in 0..<length {
            switch random.next() % 4 {
            case 0: text.unicodeScalars.append(Unicode.Scalar(UInt32(random.next() % 0x20))!)
            case 1: text.unicodeScalars.append(Unicode.Scalar(UInt32(0x7F + random.next() % 0x21))!)
            case 2: text += pieces[Int(random.next() % UInt64(pieces.count))]
            default:
                // Anywhere in Unicode but the surrogates.
                var value = UInt32(random.next() % 0x11_0000)
                if (0xD800...0xDFFF).contains(value) { value = 0x2028 }
                text.unicodeScalars.append(Unicode.Scalar(value)!)
            }
        }
        return text
    }

    /// The documented grammar read back: `\\`, `\t`, `\n`, `\r`, `\e`, `\xHH`, `\u{H…}`;
    /// nil for text that no value prints as.
    static func unescape(_ text: String) -> String? {
        var out = String.UnicodeScalarView()
        var scalars = text.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            guard scalar == "\\" else {
                out.append(scalar)
                continue
            }
            switch scalars.next() {
            case "\\": out.append("\\")
            case "t": out.append("\t")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "e": out.append("\u{1B}")
            case "x":
                guard let high = scalars.next(), let low = scalars.next(), let value = UInt32(String([Character(high), Character(low)]), radix: 16)
                else { return nil }
                out.append(Unicode.Scalar(value)!)
            case "u":
                guard scalars.next() == "{" else { return nil }
                var digits = ""
                while let digit = scalars.next(), digit != "}" { digits.unicodeScalars.append(digit) }
                guard let value = UInt32(digits, radix: 16), let decoded = Unicode.Scalar(value) else { return nil }
                out.append(decoded)
            default: return nil
            }
        }
        return String(out)
    }

    // MARK: - Building terminal text

    @Test func interpolationEscapesValuesAndKeepsLiteralsAndTerminalText() {
        let name = "t\u{1B}[31m"
        let painted = Terminal(colour: true).paint("ok", .green)
        let text: TerminalText = "table \"\(name)\" is \(painted), \(3) rows\u{1B}[K"
        #expect(text.rendered == "table \"t\\e[31m\" is \u{1B}[32mok\u{1B}[0m, 3 rows\u{1B}[K")
        #expect(text.raw == "table \"t\u{1B}[31m\" is \u{1B}[32mok\u{1B}[0m, 3 rows\u{1B}[K")
    }

    /// An error whose message is already terminal text is not escaped a second time.
    @Test func errorsInsideMessagesAreEscapedOnce() {
        let error = CLIError("\(#"a\b"#): no such run directory")
        #expect(error.description == #"a\\b: no such run directory"#)
        let wrapped: TerminalText = "warning: skipping: \(error)"
        #expect(wrapped.rendered == #"warning: skipping: a\\b: no such run directory"#)
        let existential: any Error = error
        let viaExistential: TerminalText = "\(existential)"
        #expect(viaExistential.rendered == error.description)
        #expect(error.message.raw == #"a\b: no such run directory"#)
    }

    @Test func truncationNeverCutsAnEscape() {
        let text = TerminalText(escaping: "ab\u{9B}cd")  // ab\u{9b}cd
        #expect(TextWidth.truncate(text, to: 5).rendered == "ab…")
        #expect(TextWidth.truncate(text, to: 9).rendered == #"ab\u{9b}…"#)
        #expect(TextWidth.truncate(TerminalText(escaping: "a\u{7}bcdef"), to: 6).rendered == #"a\x07…"#)
        #expect(TextWidth.truncate(TerminalText(escaping: "abcdef"), to: 4).rendered == "abc…")
    }

    /// Shell words read back by a real shell to exactly the argument, control characters
    /// included, and print no control character.
    @Test func shellQuotingRoundTripsThroughBash() throws {
        let words = [
            "plain", "two words", "it's", #"back\slash"#, "esc\u{1B}[2Jx", "bell\u{7}a", "tab\tand\nnewline", "c1\u{9B}31m",
            "del\u{7F}", "osc\u{1B}]52;c;ZXZpbA==\u{7}", "quote'\u{1B}'", "",
        ]
        let line = ShellQuote.line(words)
        #expect(line.rendered.unicodeScalars.allSatisfy { !TerminalText.isControl($0) })
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "for a in \(line.rendered); do printf '%s\\0' \"$a\"; done"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let parsed = output.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
        #expect(parsed == words)
    }

    // MARK: - Program output: colour passes, nothing else drives the terminal

    static func filtered(_ text: String) -> String {
        String(decoding: TerminalText.ColourPassingFilter.filtered(Array(text.utf8)), as: UTF8.self)
    }

    @Test func colourNewlinesCarriageReturnsAndTabsPass() {
        for sgr in ["\u{1B}[0m", "\u{1B}[m", "\u{1B}[1;31m", "\u{1B}[38;5;208m", "\u{1B}[38;2;255;128;0m", "\u{1B}[38:2::255:0:0m"] {
            #expect(Self.filtered("a\(sgr)b") == "a\(sgr)b")
        }
        #expect(Self.filtered("epoch 1\r[###   ] 50%\r[######] 100%\n\tdone\n") == "epoch 1\r[###   ] 50%\r[######] 100%\n\tdone\n")
        #expect(Self.filtered(#"C:\path"#) == #"C:\path"#)
    }

    @Test func everyOtherSequenceIsShown() {
        #expect(Self.filtered("\u{1B}]52;c;ZXZpbA==\u{7}") == #"\e]52;c;ZXZpbA==\x07"#)
        #expect(Self.filtered("\u{1B}]0;title\u{1B}\\") == #"\e]0;title\e\"#)
        #expect(Self.filtered("\u{1B}[2J\u{1B}[H") == #"\e[2J\e[H"#)
        #expect(Self.filtered("\u{1B}P+q544e\u{1B}\\") == #"\eP+q544e\e\"#)
        #expect(Self.filtered("\u{1B}[?25l\u{1B}[1;31x") == #"\e[?25l\e[1;31x"#)
        #expect(Self.filtered("\u{9B}31m\u{85}\u{7F}\u{8}\u{7}") == #"\u{9b}31m\u{85}\x7f\x08\x07"#)
        #expect(Self.filtered("é日🙂") == "é日🙂")
        // Not UTF-8: Latin-1 letters pass; 80…9F (C1 to an 8-bit terminal) do not.
        #expect(
            TerminalText.ColourPassingFilter.filtered([0x63, 0x61, 0x66, 0xE9, 0x20, 0x9B, 0x85])
                == Array("caf".utf8) + [0xE9, 0x20] + Array(#"\x9b\x85"#.utf8))
    }

    /// Chunks cut anywhere (inside a colour sequence, inside a UTF-8 character) give the
    /// same bytes as the whole stream at once.
    @Test func chunkBoundariesDoNotMatter() {
        let stream = Array("a\u{1B}[1;31mred\u{1B}[0m é\u{9B}2J 日\u{1B}]0;t\u{7}\r\n🙂\u{1B}".utf8)
        let whole = TerminalText.ColourPassingFilter.filtered(stream)
        #expect(String(decoding: whole, as: UTF8.self) == "a\u{1B}[1;31mred\u{1B}[0m é\\u{9b}2J 日\\e]0;t\\x07\r\n🙂\\e")
        for cut in 0...stream.count {
            for secondCut in cut...stream.count {
                var filter = TerminalText.ColourPassingFilter()
                let out = filter.filter(stream[..<cut]) + filter.filter(stream[cut..<secondCut]) + filter.filter(stream[secondCut...])
                    + filter.finish()
                #expect(out == whole, "cuts at \(cut), \(secondCut)")
            }
        }
    }

    /// For a diff: a carriage return that ends a line passes, one that would let the rest
    /// of a line hide its start is shown, also when a chunk ends between `\r` and `\n`.
    @Test func aDiffKeepsLineEndsButShowsABareCarriageReturn() {
        let diff = Array("+safe\r+evil\r\n\tok\r".utf8)
        let out = TerminalText.ColourPassingFilter.filtered(diff, passingBareCarriageReturns: false)
        #expect(String(decoding: out, as: UTF8.self) == #"+safe\r+evil"# + "\r\n\tok" + #"\r"#)
        var filter = TerminalText.ColourPassingFilter(passingBareCarriageReturns: false)
        #expect(filter.filter(Array("+a\r".utf8)) == Array("+a".utf8))
        #expect(filter.filter(Array("\n".utf8)) + filter.finish() == Array("\r\n".utf8))
    }

    /// An unterminated `ESC [ 1;1;1…` is not held back for ever.
    @Test func anEndlessParameterListIsShownNotHeld() {
        var filter = TerminalText.ColourPassingFilter()
        let out = filter.filter(Array("\u{1B}[".utf8) + Array(repeating: UInt8(ascii: "1"), count: 200))
        #expect(out.starts(with: Array(#"\e["#.utf8)))
        #expect(out.count == 203)
    }
}
