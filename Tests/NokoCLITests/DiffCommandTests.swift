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
