import Foundation
import Logging
import NokoCore
import NokoGit
import NokoTestSupport
import Testing

@testable import NokoCLI

@Suite struct CheckoutCommandTests {
    /// Runs git with no user or system configuration.
    @discardableResult
    static func git(_ arguments: [String], in directory: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git"] + arguments
        process.currentDirectoryURL = directory
        process.environment = gitTestEnvironment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CLIError("git \(arguments.joined(separator: " ")) failed") }
        return String(decoding: data, as: UTF8.self)
    }

    /// A repository with one commit and an uncommitted change, and a run whose metadata
    /// holds a real checkpoint of it.
    func runWithCheckpoint() throws -> (Fixtures, GitCheckpointRecord) {
        let fixtures = Fixtures()
        let repository = fixtures.url("repo")
        try FileManager.default.createDirectory(at: repository, withIntermediateDirectories: true)
        try Self.git(["init", "-q", "-b", "main"], in: repository)
        try Self.git(["config", "user.name", "Test Author"], in: repository)
        try Self.git(["config", "user.email", "author@example.com"], in: repository)
        try Data("let lr = 0.1\n".utf8).write(to: repository.appendingPathComponent("train.swift"))
        try Self.git(["add", "."], in: repository)
        try Self.git(["commit", "-q", "-m", "first"], in: repository)
        try Data("let lr = 0.05\n".utf8).write(to: repository.appendingPathComponent("train.swift"))

        let run = try fixtures.finishedRun(git: false)
        let record = try #require(
            try GitCheckpoint.checkpoint(
                runDirectory: run, runName: "train_a", options: CheckpointOptions(searchPath: repository), messages: Fixtures.quietMessages))
        var metadata = try JSONValue(parsing: [UInt8](Data(contentsOf: run.appendingPathComponent("metadata.json"))))
        metadata = metadata.replacing("git", with: try JSONValue(parsing: [UInt8](JSONEncoder().encode(record))))
        try fixtures.write(metadata, to: run.appendingPathComponent("metadata.json"))
        return (fixtures, record)
    }

    @Test func aWorktreeAtTheCheckpoint() throws {
        let (fixtures, record) = try runWithCheckpoint()
        let output = try fixtures.run(["checkout", "runs/train_a", "code"])
        let target = fixtures.url("code")
        #expect(try String(contentsOf: target.appendingPathComponent("train.swift"), encoding: .utf8) == "let lr = 0.05\n")
        #expect(try Self.git(["rev-parse", "HEAD"], in: target) == record.checkpoint + "\n")
        #expect(output == """
            checked out checkpoint \(record.checkpoint.prefix(10)) (run train_a) into \(target.path) (detached HEAD)
            remove it with: git worktree remove \(target.path)

            """)
        // The repository's own working tree is untouched.
        #expect(try String(contentsOf: fixtures.url("repo/train.swift"), encoding: .utf8) == "let lr = 0.05\n")
        #expect(try Self.git(["status", "--porcelain"], in: fixtures.url("repo")) == " M train.swift\n")

        // A directory that is not empty is refused.
        #expect(throws: CLIError.self) { try fixtures.run(["checkout", "runs/train_a", "code"]) }
        do {
            try fixtures.run(["checkout", "runs/train_a", "code"])
        } catch {
            #expect("\(error)".contains("the directory is not empty"))
        }
    }

    @Test func theDefaultDirectoryIsBesideTheRepository() throws {
        let (fixtures, record) = try runWithCheckpoint()
        let json = try JSONValue(parsing: fixtures.run(["checkout", "runs/train_a", "--json"]))
        let expected = fixtures.url("repo-train_a").resolvingSymlinksInPath().path
        #expect(json == [
            "run": "train_a", "directory": .string(GitCheckout.defaultWorktreeDirectory(repositoryRoot: URL(fileURLWithPath: record.root), runName: "train_a").path),
            "commit": .string(record.checkpoint), "mode": "worktree", "repository": .string(record.root),
        ])
        #expect(FileManager.default.fileExists(atPath: expected + "/train.swift"))
    }

    @Test func exportWritesPlainFiles() throws {
        let (fixtures, _) = try runWithCheckpoint()
        try fixtures.run(["checkout", "runs/train_a", "plain", "--export"])
        #expect(try String(contentsOf: fixtures.url("plain/train.swift"), encoding: .utf8) == "let lr = 0.05\n")
        #expect(!FileManager.default.fileExists(atPath: fixtures.url("plain/.git").path))
    }

    @Test func aRunWithoutCheckpointSaysSo() throws {
        let fixtures = Fixtures()
        try fixtures.finishedRun(git: false)
        #expect(throws: CLIError("\(fixtures.url("runs/train_a").path): the run has no git checkpoint (metadata.json has no \"git\" record: it ran outside a git repository, or checkpoints were off)")) {
            try fixtures.run(["checkout", "runs/train_a"])
        }
    }
}
