import Foundation
import Logging
import NokoTestSupport
import Testing

@testable import NokoCore

@Suite struct NokoMessagesTests {
    /// A warning quoting a key, a table and a value from the program: in `debug.log` their
    /// control characters are escapes (`TerminalText`), so the entry stays one line and
    /// `cat debug.log` cannot drive the terminal.
    @Test func messagesQuotingRunDataAreEscapedInTheDebugLog() throws {
        let directory = temporaryDirectory()
        let url = directory.appendingPathComponent("debug.log")
        let debugLog = try DebugLogFile(url: url)
        // stderr only from .critical up, so the test writes nothing to the terminal.
        var logger = Logging.Logger(label: "app\u{1B}]0;title\u{7}") { label in
            NokoMessageHandler(label: label, stderrLevel: .critical, debugLog: debugLog)
        }
        logger.logLevel = .trace
        logger.warning(
            "table 't\u{1B}[31m', key 'k\u{9B}2J': value \"A\u{1B}]52;c;ZXZpbA==\u{7}B\r\nC\" \\ skipped",
            metadata: ["file\u{7F}": "a\nb"])
        debugLog.close()
        let text = try String(contentsOf: url, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "one line per message: \(text.debugDescription)")
        #expect(text.hasSuffix(
            #" WARNING app\e]0;title\x07: table 't\e[31m', key 'k\u{9b}2J': value "A\e]52;c;ZXZpbA==\x07B\r\nC" \\ skipped file\x7f=a\nb"# + "\n"))
        #expect(!text.dropLast().unicodeScalars.contains(where: TerminalText.isControl))
    }
}
