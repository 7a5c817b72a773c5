import Foundation
import NokoCore
import Testing

@testable import NokoCLI

@Suite struct DiffCommandTests {
    /// A diff with a Latin-1 line: bytes must come out exactly as stored.
    static let diff: [UInt8] = Array("diff --git a/train.swift b/train.swift\nindex 1111111..2222222 100644\n--- a/train.swift\n+++ b/train.swift\n@@ -1,2 +1,2 @@\n context\n-let lr = 0.1\n+let lr = 0.05\n".utf8)
        + [0x2B, 0x63, 0x61, 0x66, 0xE9, 0x0A]  // "+café" in Latin-1

    func runWithDiffs() throws -> Fixtures {
        let fixtures = Fixtures()
        let run = try fixtures.finishedRun()
        try Data(DiffCommandTests.diff).write(to: run.appendingPathComponent("from_head.diff"))
        try Data().write(to: run.appendingPathComponent("from_last_checkpoint.diff"))
        return fixtures
    }

    @Test func printsTheBytesAsStored() throws {
        let fixtures = try runWithDiffs()
        let context = fixtures.context()
        try fixtures.run(["diff", "runs/train_a"], context: context)
        #expect(context.capturedOutputBytes == DiffCommandTests.diff)
    }

    @Test func coloursByLinePrefixOnATerminal() throws {
        let fixtures = try runWithDiffs()
        let context = fixtures.context(terminal: Terminal(colour: true, isInteractive: true))
        try fixtures.run(["diff", "runs/train_a"], context: context)
        let text = String(decoding: context.capturedOutputBytes, as: UTF8.self)
        #expect(text.hasPrefix("\u{1B}[1mdiff --git a/train.swift b/train.swift\u{1B}[0m\n\u{1B}[1mindex"))
        #expect(text.contains("\u{1B}[36m@@ -1,2 +1,2 @@\u{1B}[0m\n context\n\u{1B}[31m-let lr = 0.1\u{1B}[0m\n\u{1B}[32m+let lr = 0.05\u{1B}[0m\n"))
        // The Latin-1 byte survives colouring.
        let lastLine: [UInt8] = Array("\u{1B}[32m+caf".utf8) + [0xE9] + Array("\u{1B}[0m\n".utf8)
        #expect(Array(context.capturedOutputBytes.suffix(lastLine.count)) == lastLine)
    }

    @Test func thePagerIsGitPagerThenPagerAndGetsTheBytes() throws {
        let fixtures = Fixtures()
        let paged = fixtures.url("paged"), other = fixtures.url("other")
        let bytes = Array("one\ntwo \u{1B}[32mgreen\u{1B}[0m\n".utf8)
        #expect(Pager.page(bytes, environment: ["PAGER": "cat > '\(paged.path)'"]))
        #expect(try [UInt8](Data(contentsOf: paged)) == bytes)
        #expect(Pager.page(bytes, environment: ["GIT_PAGER": "cat > '\(paged.path)'", "PAGER": "cat > '\(other.path)'"]))
        #expect(!FileManager.default.fileExists(atPath: other.path), "GIT_PAGER comes first")
        // less gets -FRX unless LESS says otherwise.
        let less = fixtures.url("less")
        #expect(Pager.page(bytes, environment: ["PAGER": "printf %s \"$LESS\" > '\(less.path)'"]))
        #expect(try String(contentsOf: less, encoding: .utf8) == "FRX")
        #expect(Pager.page(bytes, environment: ["PAGER": "printf %s \"$LESS\" > '\(less.path)'", "LESS": "S"]))
        #expect(try String(contentsOf: less, encoding: .utf8) == "S")
        // `cat` (and an empty pager) means no pager: the caller prints.
        #expect(!Pager.page(bytes, environment: ["PAGER": "cat"]))
        #expect(!Pager.page(bytes, environment: ["GIT_PAGER": " "]))
    }

    /// The real binary on a terminal (`script` gives it one) pipes the coloured diff into
    /// the pager; into a pipe it writes the bytes and starts no pager.
    @Test func diffOnATerminalGoesThroughThePager() throws {
        let fixtures = try runWithDiffs()
        let paged = fixtures.url("paged.bin")
        let binary = NokoRunTests.builtProduct("noko-run")
        // NO_COLOR may be set around the tests; colour is what tells a terminal's output here.
        let command = "unset NO_COLOR; exec '\(binary)' diff runs/train_a"
        let onTerminal = try NokoRunTests.execute(
            "/usr/bin/script", ["-qec", command, "/dev/null"], environment: ["PAGER": "cat > '\(paged.path)'", "TERM": "xterm"],
            in: fixtures.root)
        #expect(onTerminal.status == 0, "\(onTerminal.stderr)")
        let pagedBytes = try [UInt8](Data(contentsOf: paged))
        // Coloured (the terminal filter passes colour and shows the Latin-1 byte as an escape).
        #expect(String(decoding: pagedBytes, as: UTF8.self).contains("\u{1B}[36m@@ -1,2 +1,2 @@\u{1B}[0m"), "\(String(decoding: pagedBytes, as: UTF8.self))")
        #expect(String(decoding: pagedBytes, as: UTF8.self).contains("\u{1B}[32m+let lr = 0.05\u{1B}[0m"))
        try FileManager.default.removeItem(at: paged)
        let intoPipe = try NokoRunTests.execute(binary, ["diff", "runs/train_a"], environment: ["PAGER": "cat > '\(paged.path)'"], in: fixtures.root)
        #expect(intoPipe.status == 0)
        #expect(intoPipe.stdout.hasPrefix("diff --git a/train.swift b/train.swift\n"), "the bytes, uncoloured")
        #expect(!FileManager.default.fileExists(atPath: paged.path), "no pager into a pipe")
    }

    @Test func anEmptyDiffSaysSo() throws {
        let fixtures = try runWithDiffs()
        let context = fixtures.context()
        try fixtures.run(["diff", "runs/train_a", "--from-last"], context: context)
        #expect(context.capturedOutput.isEmpty)
        #expect(context.capturedError == "from_last_checkpoint.diff is empty: the checkpoint equals the previous one\n")
    }

    @Test func aRunWithoutCheckpointSaysSo() throws {
        let fixtures = Fixtures()
        try fixtures.finishedRun(git: false)
        #expect(throws: CLIError("\(fixtures.url("runs/train_a").path): the run has no git checkpoint (metadata.json has no \"git\" record: it ran outside a git repository, or checkpoints were off), so there is no from_head.diff")) {
            try fixtures.run(["diff", "runs/train_a"])
        }
        let withRecord = Fixtures()
        try withRecord.finishedRun()
        #expect(throws: CLIError("\(withRecord.url("runs/train_a").path)/from_head.diff: missing, though metadata.json records a checkpoint")) {
            try withRecord.run(["diff", "runs/train_a"])
        }
    }
}
