import Foundation
import Logging
import Noko
import NokoGit

// `noko-bench checkpoint`: GitCheckpoint against the git CLI doing the same work, on a
// generated repository of 2,000 committed files (~40 MB, three over 8 MiB) with 50 modified
// and 20 untracked files. Each repetition checkpoints two fresh copies of the fixture (one
// per contender), then checkpoints each copy again with nothing changed.

/// The reference: what a careful shell script does with git plumbing (issue 5).
private func gitPlumbingCheckpoint(repository: URL, runDirectory: URL, runName: String) throws {
    let gitDirectory = try git(["rev-parse", "--absolute-git-dir"], in: repository).trimmed
    let index = runDirectory.appendingPathComponent("index.tmp")
    try? FileManager.default.removeItem(at: index)
    try FileManager.default.copyItem(atPath: gitDirectory + "/index", toPath: index.path)
    defer { try? FileManager.default.removeItem(at: index) }
    let environment = ["GIT_INDEX_FILE": index.path]
    try git(["add", "-A"], in: repository, environment: environment)
    let tree = try git(["write-tree"], in: repository, environment: environment).trimmed
    let previous = try? git(["rev-parse", "-q", "--verify", "refs/heads/noko-checkpoints"], in: repository).trimmed
    let head = try git(["rev-parse", "HEAD"], in: repository).trimmed
    let commit = try git(
        ["commit-tree", tree, "-p", previous ?? head, "-m", "noko checkpoint of \(runDirectory.path)\n\nRun: \(runName)"],
        in: repository
    ).trimmed
    try git(["update-ref", "refs/heads/noko-checkpoints", commit, previous ?? ""], in: repository)
    let emptyTree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    try git(["diff", "--binary", head, commit], in: repository, output: RunLayout(runDirectory).fromHeadDiff)
    try git(
        ["diff", "--binary", previous ?? emptyTree, commit], in: repository,
        output: RunLayout(runDirectory).fromLastCheckpointDiff)
}

func checkpointBenchmark(_ arguments: [String]) throws {
    let repetitions = 5
    let work = scratchDirectory("checkpoint")
    defer { try? FileManager.default.removeItem(at: work) }
    let fixture = work.appendingPathComponent("fixture")
    let setUp = try time { try makeCheckpointFixture(at: fixture) }
    print("fixture: 2,000 committed files, 50 modified, 20 untracked; made in \(String(format: "%.1f", setUp)) s")

    let silent = Logger(label: "noko.bench") { _ in SwiftLogNoOpLogHandler() }
    var secondA: [Double] = []
    var secondB: [Double] = []
    var copies = 0
    /// A fresh copy whose index stat data is current, as in a repository someone works in.
    func freshCopy() throws -> URL {
        copies += 1
        let copy = work.appendingPathComponent("copy-\(copies)")
        try run(["cp", "-a", fixture.path, copy.path], in: work)
        try git(["status", "--porcelain"], in: copy)
        return copy
    }
    func runDirectory(_ copy: URL, _ name: String) throws -> URL {
        let directory = work.appendingPathComponent("runs-\(copy.lastPathComponent)/\(name)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    let first = try interleaved(
        "checkpoint, first run", repetitions: repetitions,
        a: (
            "git CLI",
            {
                let copy = try freshCopy()
                defer { try? FileManager.default.removeItem(at: copy) }
                let firstRun = try runDirectory(copy, "first")
                let seconds = try time { try gitPlumbingCheckpoint(repository: copy, runDirectory: firstRun, runName: "first") }
                let secondRun = try runDirectory(copy, "second")
                secondA.append(try time { try gitPlumbingCheckpoint(repository: copy, runDirectory: secondRun, runName: "second") })
                return seconds
            }
        ),
        b: (
            "GitCheckpoint",
            {
                let copy = try freshCopy()
                defer { try? FileManager.default.removeItem(at: copy) }
                let options = CheckpointOptions(searchPath: copy)
                let firstRun = try runDirectory(copy, "first")
                let seconds = try time {
                    _ = try GitCheckpoint.checkpoint(runDirectory: firstRun, runName: "first", options: options, messages: silent)
                }
                let secondRun = try runDirectory(copy, "second")
                secondB.append(
                    try time {
                        _ = try GitCheckpoint.checkpoint(
                            runDirectory: secondRun, runName: "second", options: options, messages: silent)
                    })
                return seconds
            }
        ))
    let second = ABResult(name: "checkpoint, second run (nothing changed)", aLabel: "git CLI", bLabel: "GitCheckpoint", a: secondA, b: secondB)
    print(first.report())
    print(second.report())
    // Python noko's checkpoint_repo on the same workload (measured on the same kind of machine, workload W4).
    let python = (first: 33.57, second: 33.06)
    print(
        "vs Python noko checkpoint_repo (33.57 s, 33.06 s second run, measured on the same kind of machine): GitCheckpoint is "
            + String(format: "%.0fx faster first run, %.0fx faster second run", python.first / first.medianB, python.second / second.medianB))
    print(String(format: "vs the baseline git CLI figure (0.491 s, measured on the same kind of machine): GitCheckpoint ratio %.3f", first.medianB / 0.491))
}

/// 2,000 committed files in 40 directories: 1,997 of 5-9 kB text and three of 9 MiB;
/// then 50 of the small ones modified and 20 untracked files added.
private func makeCheckpointFixture(at root: URL) throws {
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    try git(["init", "-q", "-b", "main"], in: root)
    try git(["config", "user.name", "noko bench"], in: root)
    try git(["config", "user.email", "bench@localhost"], in: root)
    try Data("*.o\nruns/\n".utf8).write(to: root.appendingPathComponent(".gitignore"))
    var generator = SplitMix64(seed: 42)
    var paths: [String] = []
    for index in 0..<1_999 {
        let directory = "pkg\(index % 40)/module\(index % 7)"
        let path = "\(directory)/file\(index).swift"
        try FileManager.default.createDirectory(at: root.appendingPathComponent(directory), withIntermediateDirectories: true)
        let size = index < 3 ? 9 << 20 : 5_000 + Int(generator.next() % 4_000)
        try text(size, &generator).write(to: root.appendingPathComponent(path))
        paths.append(path)
    }
    try git(["add", "-A"], in: root)
    try git(["commit", "-q", "-m", "fixture"], in: root)
    for path in paths[3..<53] {
        let handle = try FileHandle(forWritingTo: root.appendingPathComponent(path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("// edited for the benchmark\n".utf8))
        try handle.close()
    }
    for index in 0..<20 {
        let path = "new/untracked\(index).swift"
        try FileManager.default.createDirectory(at: root.appendingPathComponent("new"), withIntermediateDirectories: true)
        try text(5_000 + Int(generator.next() % 4_000), &generator).write(to: root.appendingPathComponent(path))
    }
}

/// `count` bytes of source-like text in 60-character lines.
private func text(_ count: Int, _ generator: inout SplitMix64) -> Data {
    var bytes = [UInt8](repeating: 0, count: count)
    for position in 0..<count {
        bytes[position] = position % 61 == 60 ? 10 : 97 + UInt8(generator.next() % 26)
    }
    return Data(bytes)
}

@discardableResult
private func git(_ arguments: [String], in directory: URL, environment: [String: String] = [:], output: URL? = nil) throws -> String {
    try run(["git"] + arguments, in: directory, environment: environment, output: output)
}

/// Runs a command and returns its standard output (or writes it to `output`).
@discardableResult
private func run(_ command: [String], in directory: URL, environment: [String: String] = [:], output: URL? = nil) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = command
    process.currentDirectoryURL = directory
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let pipe = Pipe()
    var file: FileHandle?
    if let output {
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        file = try FileHandle(forWritingTo: output)
        process.standardOutput = file
    } else {
        process.standardOutput = pipe
    }
    try process.run()
    let data = output == nil ? pipe.fileHandleForReading.readDataToEndOfFile() : Data()
    process.waitUntilExit()
    try file?.close()
    guard process.terminationStatus == 0 else {
        throw BenchmarkFailure(description: "`\(command.joined(separator: " "))` exited with \(process.terminationStatus)")
    }
    return String(decoding: data, as: UTF8.self)
}

private struct BenchmarkFailure: Error, CustomStringConvertible {
    var description: String
}

extension String {
    fileprivate var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
