import Foundation
import NokoCore
import Testing

@testable import NokoCLI

@Suite struct LogsCommandTests {
    /// Writes `output.log` and `output.index` (or the rotated pair) as the console tee does:
    /// one record per line here.
    private func writeConsole(
        _ directory: URL, _ lines: [(ConsoleLine.Stream, Double, String)], rotated: Bool = false, base: UInt64 = 0
    ) throws {
        var log = Data(), index = "noko-output-index 1 base \(base)\n"
        for (stream, time, text) in lines {
            let start = log.count
            log.append(Data((text + "\n").utf8))
            let code = stream == .stdout ? "1" : stream == .stderr ? "2" : "0"
            index += "\(start) \(log.count) \(code) \(String(format: "%.6f", time))\n"
        }
        let layout = RunLayout(directory)
        try log.write(to: rotated ? layout.rotatedOutputLog : layout.outputLog)
        try Data(index.utf8).write(to: rotated ? layout.rotatedOutputIndex : layout.outputIndex)
    }

    private let lines: [(ConsoleLine.Stream, Double, String)] = [
        (.stdout, Fixtures.start + 1.5, "epoch 1 \u{1B}[32mok\u{1B}[0m"),
        (.stderr, Fixtures.start + 2, "warning: \u{1B}]52;c;ZXZpbA==\u{07}clipboard"),
        (.stdout, Fixtures.start + 3, "epoch 2"),
        (.stderr, Fixtures.start + 4, "Fatal error: boom"),
    ]

    @Test func intoAPipeTheLinesAreWrittenAsTheyAre() throws {
        let fixtures = Fixtures()
        let run = try fixtures.finishedRun()
        try writeConsole(run, lines)
        let output = try fixtures.run(["logs", run.path])
        #expect(output == lines.map { $0.2 + "\n" }.joined())
    }

    @Test func onATerminalColourPassesAndEveryOtherSequenceShowsAsText() throws {
        let fixtures = Fixtures()
        let run = try fixtures.finishedRun()
        try writeConsole(run, lines)
        let context = fixtures.context(terminal: Terminal(colour: true, isInteractive: true))
        let output = try fixtures.run(["logs", run.path, "-n", "3"], context: context)
        #expect(output == "warning: \\e]52;c;ZXZpbA==\\x07clipboard\nepoch 2\nFatal error: boom\n")
        let first = try fixtures.run(["logs", run.path, "-n", "4"], context: fixtures.context(terminal: Terminal(colour: true, isInteractive: true)))
        #expect(first.hasPrefix("epoch 1 \u{1B}[32mok\u{1B}[0m\n"))
    }

    @Test func standardErrorOnlyTheLastLinesSinceATimeAndWandbTimestamps() throws {
        let fixtures = Fixtures()
        let run = try fixtures.finishedRun()
        try writeConsole(run, lines)
        #expect(try fixtures.run(["logs", run.path, "--stderr", "-n", "1"]) == "Fatal error: boom\n")
        // Fixtures.start is 2026-11-27 11:00:00 UTC; "now" an hour later.
        #expect(try fixtures.run(["logs", run.path, "--since", "2026-11-27T11:00:03Z"]) == "epoch 2\nFatal error: boom\n")
        #expect(try fixtures.run(["logs", run.path, "--since", "3597s"]) == "epoch 2\nFatal error: boom\n")
        #expect(try fixtures.run(["logs", run.path, "--since", "\(Fixtures.start + 4)"]) == "Fatal error: boom\n")
        #expect(try fixtures.run(["logs", run.path, "-n", "2", "--timestamps"])
            == "2026-11-27T11:00:03.000000 epoch 2\nERROR 2026-11-27T11:00:04.000000 Fatal error: boom\n")
        #expect(throws: (any Error).self) { try fixtures.run(["logs", run.path, "--since", "yesterday-ish"]) }
    }

    @Test func theRotatedPartComesFirstWithOffsetsContinuing() throws {
        let fixtures = Fixtures()
        let run = try fixtures.finishedRun()
        try writeConsole(run, [(.stdout, Fixtures.start, "old")], rotated: true, base: 100)
        try writeConsole(run, [(.stdout, Fixtures.start + 1, "new")], base: 104)
        #expect(try fixtures.run(["logs", run.path]) == "old\nnew\n")
        let read = try ConsoleLogReader(RunLayout(run)).readAll()
        #expect(read.map(\.offset) == [100, 104] && read.map(\.endOffset) == [104, 108])
    }

    @Test func aMissingLogAndABadIndexAreNamed() throws {
        let fixtures = Fixtures()
        let run = try fixtures.finishedRun()
        #expect {
            try fixtures.run(["logs", run.path])
        } throws: { error in
            "\(error)".contains("output.log: missing: the run's console was not captured (NOKO_CONSOLE=off")
        }
        try Data("one\ntwo\n".utf8).write(to: RunLayout(run).outputLog)
        try Data("noko-output-index 1 base 0\n0 4 9 1.0\ngarbage\n".utf8).write(to: RunLayout(run).outputIndex)
        let context = fixtures.context()
        #expect(try fixtures.run(["logs", run.path, "--stderr"], context: context) == "", "unknown streams count as stdout")
        #expect(context.capturedError.contains("output.index: line 2 names stream 9 (expected 0, 1 or 2); skipped"))
        #expect(try fixtures.run(["logs", run.path]) == "one\ntwo\n", "the lines are still shown")
    }

    @Test func showPrintsTheLastLinesOfARunThatDidNotFinish() throws {
        let fixtures = Fixtures()
        let crashed = try fixtures.crashedRun()
        try writeConsole(crashed, (0..<15).map { (.stderr, Fixtures.start + Double($0), "trace \($0) \u{1B}[2J") })
        let shown = try fixtures.run(["show", crashed.path])
        #expect(shown.contains("output  (the last 10 lines of output.log: noko-run logs shows them all)\n  trace 5 \\e[2J\n"))
        #expect(shown.contains("  trace 14 \\e[2J\n") && !shown.contains("trace 4 "))
        let json = try JSONValue(parsing: Array(try fixtures.run(["show", crashed.path, "--json"]).utf8))
        #expect(json["last_output"]?.arrayValue?.count == 10)
        #expect(json["last_output"]?.arrayValue?.last?["text"] == "trace 14 \u{1B}[2J")
        #expect(json["last_output"]?.arrayValue?.last?["stream"] == "stderr")
        let finished = try fixtures.finishedRun("done")
        try writeConsole(finished, lines)
        #expect(!(try fixtures.run(["show", finished.path])).contains("output  ("))
        #expect(try JSONValue(parsing: Array(try fixtures.run(["show", finished.path, "--json"]).utf8))["last_output"] == .null)
    }

    @Test func followReadsALiveRunUntilItEnds() throws {
        let fixtures = Fixtures()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: NokoRunTests.builtProduct("noko-test-child"))
        child.arguments = ["console", fixtures.url("runs").path, "live", "start", "write=ready", "sleep=300", "lines=300", "finish"]
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        let layout = RunLayout(fixtures.url("runs/live"))
        let deadline = Date().addingTimeInterval(30)
        while !(FileManager.default.fileExists(atPath: layout.outputLog.path) && FileManager.default.fileExists(atPath: layout.metadata.path)),
            Date() < deadline
        {
            usleep(5_000)
        }
        let output = try fixtures.run(["logs", "live", "-f"])
        child.waitUntilExit()
        #expect(child.terminationStatus == 0)
        #expect(output == "ready\n" + (0..<300).map { "line \($0)\n" }.joined())
    }
}
