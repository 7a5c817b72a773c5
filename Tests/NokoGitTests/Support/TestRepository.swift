import Foundation
import NokoTestSupport
import NokoCore
import Synchronization
import Logging
import Testing

@testable import NokoGit

/// A scratch repository built with the `git` CLI, in `<base>/repo`, with `<base>/runs`
/// beside it for run directories. Removed on deinit.
final class TestRepository: Sendable {
    let base: URL
    let root: URL
    let runs: URL

    /// - Parameter initialize: false leaves `root` an empty, non-repository directory.
    init(_ label: String = "repo", initialize: Bool = true) throws {
        base = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("noko-git-\(label)-\(UUID().uuidString.prefix(8))")
        root = base.appendingPathComponent("repo")
        runs = base.appendingPathComponent("runs")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: runs, withIntermediateDirectories: true)
        guard initialize else { return }
        try git("init", "-q", "-b", "main")
        // libgit2 reads the repository's config: the checkpoint's author comes from here.
        try git("config", "user.name", "Test Author")
        try git("config", "user.email", "author@example.com")
    }

    deinit {
        try? FileManager.default.removeItem(at: base)
    }

    // MARK: running git

    /// Environment for the git CLI: no system or global configuration, fixed identity.
    static let gitEnvironment: [String: String] = {
        var environment = gitTestEnvironment
        environment["GIT_OPTIONAL_LOCKS"] = "0"
        environment["LC_ALL"] = "C"
        return environment
    }()

    /// Runs `git` in `directory` (default: the repository) and returns its standard output;
    /// throws with its standard error when it fails.
    @discardableResult
    func git(_ arguments: String..., in directory: URL? = nil, input: Data? = nil) throws -> String {
        try Self.run(["git"] + arguments, in: directory ?? root, input: input)
    }

    /// Like `git`, but returns the exit status and both outputs instead of throwing.
    func gitStatus(_ arguments: String..., in directory: URL? = nil) throws -> (status: Int32, output: String, error: String) {
        try Self.execute(["git"] + arguments, in: directory ?? root, input: nil)
    }

    @discardableResult
    static func run(_ command: [String], in directory: URL, input: Data? = nil) throws -> String {
        let result = try execute(command, in: directory, input: input)
        guard result.status == 0 else {
            throw CommandFailure(command: command.joined(separator: " "), status: result.status, error: result.error)
        }
        return result.output
    }

    static func execute(_ command: [String], in directory: URL, input: Data?) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.currentDirectoryURL = directory
        process.environment = gitEnvironment
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        let inputPipe = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : inputPipe
        try process.run()
        if let input {
            inputPipe.fileHandleForWriting.write(input)
            try inputPipe.fileHandleForWriting.close()
        }
        // Read both pipes to the end before waiting, so a chatty command cannot block.
        let errorData = Mutex<Data>(Data())
        let errorReader = Thread {
            let data = error.fileHandleForReading.readDataToEndOfFile()
            errorData.withLock { $0 = data }
        }
        errorReader.start()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorReader.isFinished { usleep(1000) }
        return (
            process.terminationStatus, String(decoding: outputData, as: UTF8.self),
            errorData.withLock { String(decoding: $0, as: UTF8.self) }
        )
    }

    struct CommandFailure: Error, CustomStringConvertible {
        var command: String
        var status: Int32
        var error: String
        var description: String { "`\(command)` exited with \(status): \(error)" }
    }

    // MARK: files

    func url(_ path: String) -> URL { root.appendingPathComponent(path) }

    func write(_ path: String, _ text: String, executable: Bool = false) throws {
        try write(path, Data(text.utf8), executable: executable)
    }

    func write(_ path: String, _ data: Data, executable: Bool = false) throws {
        let url = url(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: executable ? 0o755 : 0o644], ofItemAtPath: url.path)
    }

    /// `count` bytes of incompressible-looking text.
    static func filler(_ count: Int, seed: UInt64 = 1) -> Data {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var bytes = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            bytes[i] = i % 64 == 63 ? 10 : 97 + UInt8(state % 26)
        }
        return Data(bytes)
    }

    func commitAll(_ message: String = "commit") throws {
        try git("add", "-A")
        try git("commit", "-q", "-m", message)
    }

    func revParse(_ revision: String) throws -> String {
        try git("rev-parse", "--verify", "-q", revision).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    // MARK: checkpoints

    func runDirectory(_ name: String) -> URL { runs.appendingPathComponent(name) }

    /// Checkpoints with `options` (search path: the repository, unless set) into
    /// `runs/<name>`; returns the record and the warnings logged.
    func checkpoint(
        _ name: String = "run", options: CheckpointOptions? = nil, searchPath: URL? = nil
    ) throws -> (record: GitCheckpointRecord?, warnings: [String]) {
        var options = options ?? CheckpointOptions(searchPath: root)
        if let searchPath { options.searchPath = searchPath }
        let log = CapturedLog()
        let record = try GitCheckpoint.checkpoint(
            runDirectory: runDirectory(name), runName: name, options: options, messages: log.logger)
        return (record, log.messages)
    }

    func patch(_ run: String, _ file: String) throws -> Data {
        try Data(contentsOf: runDirectory(run).appendingPathComponent(file))
    }

    // MARK: state that must not change

    /// HEAD, the index's bytes, `git status` and the hooks, as seen by the git CLI.
    struct UntouchedState: Equatable {
        var head: String
        var symbolicHead: String
        var indexBytes: Data?
        var status: String
        var hooks: [String]
    }

    func untouchedState(in directory: URL? = nil) throws -> UntouchedState {
        let directory = directory ?? root
        let indexPath = try git("rev-parse", "--path-format=absolute", "--git-path", "index", in: directory)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let hooksPath = try git("rev-parse", "--path-format=absolute", "--git-path", "hooks", in: directory)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let indexBytes = FileManager.default.contents(atPath: indexPath)
        return UntouchedState(
            head: try gitStatus("rev-parse", "-q", "--verify", "HEAD", in: directory).output,
            symbolicHead: try gitStatus("symbolic-ref", "-q", "HEAD", in: directory).output,
            indexBytes: indexBytes,
            status: try git(
                "status", "--porcelain=v2", "--branch", "--untracked-files=all", "--ignored", in: directory),
            hooks: ((try? FileManager.default.contentsOfDirectory(atPath: hooksPath)) ?? []).sorted())
    }

    // MARK: verification against git itself

    /// `git fsck` finds no problem (dangling objects from lost races are fine).
    func expectFsckClean(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try gitStatus("fsck", "--no-progress")
        #expect(result.status == 0, "git fsck: \(result.output) \(result.error)", sourceLocation: sourceLocation)
        let problems = (result.output + result.error).split(separator: "\n").filter {
            !$0.hasPrefix("dangling ") && !$0.hasPrefix("Checking ") && !$0.isEmpty
        }
        #expect(problems.isEmpty, "git fsck: \(problems)", sourceLocation: sourceLocation)
    }

    /// Applies `patch` with `git apply` on a fresh clone checked out at `base` (nil: an empty
    /// tree) and returns the tree the result makes, to compare with the checkpoint's.
    func treeAfterApplying(_ patch: Data, onto base: String?) throws -> String {
        let clone = self.base.appendingPathComponent("clone-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: clone) }
        if let base {
            try Self.run(["git", "clone", "-q", "--no-checkout", root.path, clone.path], in: self.base)
            try git("config", "core.autocrlf", "false", in: clone)
            try git("-c", "advice.detachedHead=false", "checkout", "-q", "--detach", base, in: clone)
        } else {
            try Self.run(["git", "init", "-q", clone.path], in: self.base)
        }
        let patchFile = self.base.appendingPathComponent("patch-\(UUID().uuidString.prefix(8)).diff")
        try patch.write(to: patchFile)
        defer { try? FileManager.default.removeItem(at: patchFile) }
        if !patch.isEmpty {
            try git("apply", "--check", patchFile.path, in: clone)
            try git("apply", patchFile.path, in: clone)
        }
        try git("add", "-A", "-f", ".", in: clone)
        return try git("write-tree", in: clone).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Both patches of `run`, applied with `git apply` to fresh clones at HEAD and at the
    /// previous checkpoint, give exactly the checkpoint's tree.
    func expectPatchesReplay(
        _ run: String, _ record: GitCheckpointRecord, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let tree = try revParse("\(record.checkpoint)^{tree}")
        let fromHead = try treeAfterApplying(patch(run, RunLayout.fromHeadDiffName), onto: record.head)
        #expect(fromHead == tree, "from_head.diff does not replay the checkpoint", sourceLocation: sourceLocation)
        let fromLast = try treeAfterApplying(
            patch(run, RunLayout.fromLastCheckpointDiffName), onto: record.previousCheckpoint)
        #expect(fromLast == tree, "from_last_checkpoint.diff does not replay the checkpoint", sourceLocation: sourceLocation)
    }

    /// `git ls-tree -r` of a commit: path → (mode, object id).
    func treeEntries(_ commit: String) throws -> [String: (mode: String, id: String)] {
        let output = try git("ls-tree", "-r", "-z", "--full-tree", commit)
        var entries: [String: (mode: String, id: String)] = [:]
        for record in output.split(separator: "\0") {
            let parts = record.split(separator: "\t", maxSplits: 1)
            let fields = parts[0].split(separator: " ")
            entries[String(parts[1])] = (String(fields[0]), String(fields[2]))
        }
        return entries
    }

    /// Content of `path` in `commit`.
    func show(_ commit: String, _ path: String) throws -> String {
        try git("show", "\(commit):\(path)")
    }
}

/// Collects what a swift-log `Logger` is told, for asserting on warnings.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    var messages: [String] { lines.withLock { $0 } }

    var logger: Logger {
        Logger(label: "noko.test") { _ in Handler(log: self) }
    }

    struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            guard event.level >= .warning else { return }
            log.lines.withLock { $0.append(event.message.description) }
        }
    }
}
