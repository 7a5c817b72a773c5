import Foundation
import NokoCore
import NokoPlatform
import NokoTestSupport
import Synchronization
import Testing

@testable import NokoCLI

/// A one-file experiment that depends on noko by path, built once per test process with
/// `swift build` into a shared scratch path (the reproductions build into it too, so only
/// the experiment's own file is compiled again).
enum TinyExperiment {
    static let product = "tiny-experiment"

    static let packageSwift = """
        // swift-tools-version: 6.1
        import PackageDescription

        let package = Package(
            name: "tiny",
            platforms: [.macOS(.v15)],
            dependencies: [.package(path: "\(nokoRoot.path)")],
            targets: [.executableTarget(name: "tiny-experiment", dependencies: [.product(name: "Noko", package: "\(nokoRoot.lastPathComponent)")])]
        )

        """

    static let mainSwift = """
        import Foundation
        import Noko

        struct Config: Codable {
            var steps = 30
            var lr = 0.1
            var seed = 7
            var unseeded = false
            var stepSeconds = 0.0
            var apiKey = ""
        }

        var config = Config()
        var options = RunOptions()
        options.runsDir = "runs"
        options.checkpointOptions.maxFileSize = 1024
        let run = try Noko.initExtra(config: &config, options: options)
        var rng = Noko.generator(named: "data")
        // Read from the repository: code that changes the result without a rebuild.
        let factor = (try? String(contentsOfFile: "factor.txt", encoding: .utf8)).flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 1
        var w = 0.0
        for step in 0..<config.steps {
            let noise = config.unseeded ? Double.random(in: -1...1) : Double.random(in: -1...1, using: &rng)
            let loss = factor / Double(step + 1) + 0.01 * noise
            w += config.lr * noise
            Noko.logRow("train", ["loss": loss, "w": w, "noise": noise], step: step)
            if step % 10 == 9 { Noko.logRow("eval", ["accuracy": 1 - loss], step: step) }
            if config.stepSeconds > 0 { Thread.sleep(forTimeInterval: config.stepSeconds) }
            if step == 9, FileManager.default.fileExists(atPath: "stop-early") { exit(3) }
        }
        print("tiny-experiment: \\(config.steps) steps")
        run.finish()

        """

    /// The noko checkout under test (this file is Tests/NokoCLITests/…).
    static let nokoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Build: Sendable {
        var scratch: URL
        var executable: String
        var resolved: Data?
    }

    private static let built = Mutex<Build?>(nil)

    /// Builds the experiment once (about a minute the first time).
    static func build() throws -> Build {
        try built.withLock { built in
            if let built { return built }
            let base = temporaryDirectory().appendingPathComponent("tiny-build")
            let package = base.appendingPathComponent("package")
            try write(into: package)
            let scratch = base.appendingPathComponent("scratch")
            let result = try NokoRunTests.execute(
                "/usr/bin/env", ["swift", "build", "--product", product, "--scratch-path", scratch.path], in: package)
            guard result.status == 0 else {
                throw CLIError("swift build of the tiny experiment failed (exit \(result.status)):\n\(result.stdout.suffix(3000))\n\(result.stderr.suffix(3000))")
            }
            let made = Build(
                scratch: scratch, executable: scratch.appendingPathComponent("debug/\(product)").path,
                resolved: try? Data(contentsOf: package.appendingPathComponent("Package.resolved")))
            built = made
            return made
        }
    }

    static func write(into directory: URL) throws {
        let sources = directory.appendingPathComponent("Sources/\(product)")
        try FileManager.default.createDirectory(at: sources, withIntermediateDirectories: true)
        try Data(packageSwift.utf8).write(to: directory.appendingPathComponent("Package.swift"))
        try Data(mainSwift.utf8).write(to: sources.appendingPathComponent("main.swift"))
        try Data("1\n".utf8).write(to: directory.appendingPathComponent("factor.txt"))
        try Data(".build/\nruns/\n".utf8).write(to: directory.appendingPathComponent(".gitignore"))
    }
}

@Suite(.serialized) struct ReproduceCommandTests {
    let fixtures = Fixtures()
    var repository: URL { fixtures.url("repo") }

    /// The environment of the tests' commands: this process's, with git configured.
    var environment: [String: String] { gitTestEnvironment }

    /// A git repository holding the tiny experiment, committed.
    func makeRepository() throws -> TinyExperiment.Build {
        let build = try TinyExperiment.build()
        try TinyExperiment.write(into: repository)
        if let resolved = build.resolved { try resolved.write(to: repository.appendingPathComponent("Package.resolved")) }
        try CheckoutCommandTests.git(["init", "-q", "-b", "main"], in: repository)
        try CheckoutCommandTests.git(["add", "."], in: repository)
        try CheckoutCommandTests.git(["commit", "-q", "-m", "the experiment"], in: repository)
        return build
    }

    /// Runs the experiment in the repository; returns its run directory.
    func originalRun(_ arguments: [String] = [], _ build: TinyExperiment.Build) throws -> URL {
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: repository.appendingPathComponent("runs").path)) ?? [])
        let result = try NokoRunTests.execute(build.executable, arguments, environment: environment, in: repository)
        try #require(result.status == 0, "the experiment failed: \(result.stderr)")
        let after = Set(try FileManager.default.contentsOfDirectory(atPath: repository.appendingPathComponent("runs").path))
        let name = try #require(after.subtracting(before).first)
        return repository.appendingPathComponent("runs/\(name)")
    }

    func context(_ extra: [String: String] = [:]) -> CommandContext {
        .capturing(now: Fixtures.now, environment: environment.merging(extra) { _, new in new }, workingDirectory: repository)
    }

    /// Runs `noko-run reproduce …`; returns the exit status and the context.
    func reproduce(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (status: Int32, context: CommandContext) {
        let context = context(extra)
        do {
            try NokoRun.parseCommand(["reproduce"] + arguments).run(in: context)
            return (0, context)
        } catch {
            return (NokoRun.exitStatus(for: error), context.appendingError(error))
        }
    }

    /// Every file of a directory with its content, to show it was not written.
    func snapshot(_ directory: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            files[name] = try Data(contentsOf: directory.appendingPathComponent(name))
        }
        return files
    }

    func worktrees() throws -> [String] {
        try CheckoutCommandTests.git(["worktree", "list", "--porcelain"], in: repository).split(separator: "\n").filter { $0.hasPrefix("worktree ") }.map(String.init)
    }

    func firstValue(_ column: String, table: String, in run: URL) throws -> String {
        let journal = try String(contentsOf: run.appendingPathComponent("noko.ndjson"), encoding: .utf8)
        let line = try #require(journal.split(separator: "\n").first { $0.contains("\"$table\":\"\(table)\"") })
        let start = try #require(line.range(of: "\"\(column)\":"))
        return String(line[start.upperBound...].prefix { $0 != "," && $0 != "}" })
    }

    // MARK: - The real thing

    @Test func theExperimentReproducesExactlyFromARealBuild() throws {
        let build = try makeRepository()
        let original = try originalRun(["lr=0.2"], build)
        let before = try snapshot(original)
        let (status, context) = try reproduce([original.path, "--scratch-path", build.scratch.path])
        let output = context.capturedOutput
        #expect(status == 0, "\(output)\n\(context.capturedError)")
        #expect(output.hasPrefix("reproduced: 3 tables, 34 rows, 167 values identical\n"), "\(output)")
        #expect(context.capturedError.contains("building: swift build -c debug --product tiny-experiment --scratch-path"))
        #expect(output.contains("the executable's SHA-256 ("), "the hash comparison is reported")
        #expect(try snapshot(original) == before, "the original run directory was written")
        #expect(try worktrees().count == 1, "the worktree was left behind")

        let reproduction = try LoadedRun.open(original.deletingLastPathComponent().appendingPathComponent("\(original.lastPathComponent).repro-1"))
        let verdict = try #require(reproduction.metadata?.reproduction)
        #expect(verdict["reproduced"] == true)
        #expect(verdict["reproduction"]?["build"]?["recorded_sha256"] == (try LoadedRun.open(original)).metadata?.build?.sha256.map(JSONValue.string))
        #expect(reproduction.metadata?.links?["reproduces"]?["run"] == .string(original.lastPathComponent))
        #expect(reproduction.metadata?.git == nil, "the reproduction took a checkpoint")
        #expect(reproduction.config?["lr"] == 0.2, "the override reached the rerun")

        let show = try fixtures.run(["show", original.path], context: self.context())
        #expect(show.contains("reproductions  (noko-run reproduce)\n  \(original.lastPathComponent).repro-1  reproduced: 3 tables"))
    }

    // MARK: - Divergences

    @Test func aChangeInTheWorkingTreeShowsTheFirstDivergence() throws {
        let build = try makeRepository()
        let original = try originalRun([], build)
        try Data("2\n".utf8).write(to: repository.appendingPathComponent("factor.txt"))
        let (status, context) = try reproduce([original.path, "--code", "current", "--build-command", "true", "--json"])
        #expect(status == 1)
        let verdict = try JSONValue(parsing: context.capturedOutput)
        let rerun = original.deletingLastPathComponent().appendingPathComponent("\(original.lastPathComponent).repro-1")
        let train = try #require(verdict["tables"]?.arrayValue?.first { $0["name"] == "train" })
        let first = try #require(train["first_difference"])
        #expect(first["row"] == 1 && first["step"] == 0 && first["column"] == "loss")
        #expect(first["original"] == .string(try firstValue("loss", table: "train", in: original)))
        #expect(first["rerun"] == .string(try firstValue("loss", table: "train", in: rerun)))
        let absolute = try #require(first["absolute"]?.doubleValue)
        #expect(abs(absolute - 1) < 1e-12, "the factor doubled the first loss (1 + noise → 2 + noise)")
        // loss differs in every row, w and noise in none.
        #expect(train["differing"] == 30)
        #expect(verdict["reproduction"]?["code"] == "current" && verdict["reproduction"]?["commit"] == .null)
        #expect(verdict["reproduced"] == false && verdict["headline"] == "not reproduced: 2 of 3 tables differ")
    }

    @Test func anUnseededGeneratorDivergesAtItsFirstRow() throws {
        let build = try makeRepository()
        let original = try originalRun(["unseeded=true"], build)
        let (status, context) = try reproduce([original.path, "--build-command", "true"])
        #expect(status == 1)
        let output = context.capturedOutput
        #expect(output.hasPrefix("not reproduced: 2 of 3 tables differ"), "\(output)")
        #expect(output.contains("  train  30 rows, 150 values\n    first difference at row 1 (step 0), column "), "\(output)")
        #expect(try worktrees().count == 1)
    }

    @Test func aRerunThatStopsEarlyComparesItsPrefixAndSaysHowItEnded() throws {
        let build = try makeRepository()
        let original = try originalRun([], build)
        try Data().write(to: repository.appendingPathComponent("stop-early"))
        let (status, context) = try reproduce([original.path, "--code", "current", "--build-command", "true"])
        #expect(status == 1)
        let output = context.capturedOutput
        #expect(output.hasPrefix("not reproduced: 2 of 3 tables differ\n"), "\(output)")
        #expect(output.contains("  train  10 rows, 50 values identical\n    the rerun stopped early: compared its 10 rows with the original's first 10 of 30"), "\(output)")
        #expect(output.contains("the rerun ended with exit status 3; the original with exit status 0"))
        let verdict = try #require(try LoadedRun.open(URL(fileURLWithPath: original.path + ".repro-1")).metadata?.reproduction)
        #expect(verdict["reproduced"] == false && verdict["reproduction"]?["exit_status"] == 3)
    }

    // MARK: - Preflight

    @Test func aFileOverTheSizeCapStopsThePreflight() throws {
        let build = try makeRepository()
        try Data(repeating: 7, count: 4096).write(to: repository.appendingPathComponent("weights.bin"))
        let original = try originalRun([], build)
        var (status, context) = try reproduce([original.path, "--build-command", "true"])
        #expect(status == 1)
        #expect(context.capturedError.contains("the checkpoint left out 1 file the run may have used: weights.bin (too large, 4.1 kB)"), "\(context.capturedError)")
        #expect(context.capturedError.contains("--allow-missing"))
        #expect(try worktrees().count == 1)
        #expect(!FileManager.default.fileExists(atPath: original.path + ".repro-1"), "a rerun started")

        (status, context) = try reproduce([original.path, "--build-command", "true", "--allow-missing"])
        #expect(status == 0, "\(context.capturedError)")
        #expect(context.capturedOutput.contains("weights.bin (too large, 4.1 kB); going on without (--allow-missing)"))
    }

    @Test func secretsLeftOutOfTheRecordAreNamed() throws {
        let build = try makeRepository()
        let original = try originalRun(["apiKey=sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD"], build)
        var (status, context) = try reproduce([original.path, "--build-command", "true"])
        #expect(status == 1)
        #expect(context.capturedError.contains("config key apiKey recorded as <redacted>"), "\(context.capturedError)")
        #expect(context.capturedError.contains("argv[1] (apiKey=<redacted>)") && context.capturedError.contains("NOKO_REPRODUCE_ARGV_1=…"))

        (status, context) = try reproduce(
            [original.path, "--build-command", "true"], environment: ["NOKO_REPRODUCE_ARGV_1": "apiKey=sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD"])
        #expect(status == 0, "\(context.capturedError)")
        #expect(context.capturedOutput.contains("config keys recorded as <redacted>, not compared: apiKey"))
    }

    @Test func aDistributedRunIsRefused() throws {
        let build = try makeRepository()
        let original = try originalRun([], build)
        let url = original.appendingPathComponent("metadata.json")
        try fixtures.write(try JSONValue(parsing: [UInt8](Data(contentsOf: url))).replacing("world_size", with: 2), to: url)
        let (status, context) = try reproduce([original.path])
        #expect(status == 1)
        #expect(context.capturedError.contains("world size 2") && context.capturedError.contains("launcher"), "\(context.capturedError)")
    }

    @Test func aCheckpointMissingFromTheRepositoryIsNamed() throws {
        let build = try makeRepository()
        let original = try originalRun([], build)
        let url = original.appendingPathComponent("metadata.json")
        var metadata = try JSONValue(parsing: [UInt8](Data(contentsOf: url)))
        let git = try #require(metadata["git"]).replacing("checkpoint", with: .string(String(repeating: "ab", count: 20)))
        metadata = metadata.replacing("git", with: git)
        try fixtures.write(metadata, to: url)
        let (status, context) = try reproduce([original.path])
        #expect(status == 1)
        #expect(context.capturedError.contains("the checkpoint commit abababab"), "\(context.capturedError)")
        #expect(context.capturedError.contains("is not in the repository"))
    }

    @Test func aRunWithoutACheckpointCannotBeReproduced() throws {
        try fixtures.finishedRun("no_git", git: false)
        let (status, context) = try reproduce([fixtures.url("runs/no_git").path])
        #expect(status == 1)
        #expect(context.capturedError.contains("the run has no git checkpoint"), "\(context.capturedError)")
    }

    // MARK: - Interrupted

    @Test func ctrlCLeavesNoWorktreeAndAnUntouchedOriginal() throws {
        let build = try makeRepository()
        let original = try originalRun(["steps=150", "stepSeconds=0.02"], build)
        let before = try snapshot(original)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: NokoRunTests.builtProduct("noko-run"))
        process.arguments = ["reproduce", original.path, "--build-command", "true"]
        process.currentDirectoryURL = repository
        process.environment = environment
        let errors = temporaryDirectory().appendingPathComponent("reproduce-interrupted.txt")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        let rerun = URL(fileURLWithPath: original.path + ".repro-1")
        let deadline = Date().addingTimeInterval(60)
        // Interrupt once the rerun has logged rows.
        while (try? Data(contentsOf: rerun.appendingPathComponent("noko.ndjson")))?.count ?? 0 < 2000, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        try SignalNumber.send(SignalNumber.interrupt, to: process.processIdentifier)
        process.waitUntilExit()
        let stderr = try String(contentsOf: errors, encoding: .utf8)
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SignalNumber.interrupt, "\(stderr)")
        #expect(try worktrees().count == 1, "\(stderr)")
        #expect(stderr.contains("interrupted: removed the worktree"))
        let checkedOut = try #require(stderr.split(separator: "\n").first { $0.hasPrefix("checked out checkpoint") })
        let worktree = String(checkedOut.split(separator: " ").last!)
        #expect(!FileManager.default.fileExists(atPath: worktree), "\(worktree) is still there")
        #expect(try snapshot(original) == before, "the original run directory was written")
        let reproduction = try LoadedRun.open(rerun)
        #expect(reproduction.metadata?.status == "killed" && reproduction.metadata?.signal == "SIGINT")
        #expect(reproduction.metadata?.reproduction == nil)
    }
}

extension CommandContext {
    /// The context with `error` written to standard error as `noko-run` would print it.
    fileprivate func appendingError(_ error: any Error) -> CommandContext {
        note("\(error)")
        return self
    }
}
