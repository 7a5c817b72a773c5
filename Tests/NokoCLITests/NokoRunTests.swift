import Foundation
import NokoCore
import Testing

@testable import NokoCLI

@Suite struct NokoRunTests {
    /// An executable built next to the test bundle.
    static func builtProduct(_ name: String) -> String {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
            directory = directory.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func execute(_ executable: String, _ arguments: [String], environment: [String: String] = [:], in directory: URL) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let collected = Locked<Data>(Data())
        let reader = Thread { collected.set(err.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !collected.isSet { Thread.sleep(forTimeInterval: 0.005) }
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: collected.value, as: UTF8.self))
    }

    /// The example experiment writes a run; the installed-style binary shows it from
    /// another working directory (templates are built in).
    @Test func endToEndTheExampleThenShow() throws {
        let fixtures = Fixtures()
        let example = try Self.execute(Self.builtProduct("noko-example"), ["--runs-dir", fixtures.url("runs").path, "epochs=3"], in: fixtures.root)
        #expect(example.status == 0, "\(example.stderr)")
        let runs = try LoadedRun.runDirectories(in: fixtures.url("runs"))
        let run = try #require(runs.first)
        let elsewhere = FileManager.default.temporaryDirectory
        let shown = try Self.execute(Self.builtProduct("noko-run"), ["show", run.path], environment: ["NO_COLOR": "1"], in: elsewhere)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.hasPrefix(run.lastPathComponent + "  "))
        #expect(shown.stdout.contains("  epoch  3 rows, steps 0–2, 4 columns"))
        #expect(shown.stdout.contains("  grad_step  96 rows, steps 0–95, 13 columns"))
        #expect(shown.stdout.contains("    test_accuracy"))
        #expect(!shown.stdout.contains("\u{1B}["))

        let json = try Self.execute(Self.builtProduct("noko-run"), ["show", run.path, "--json"], in: elsewhere)
        let parsed = try JSONValue(parsing: json.stdout)
        let rows = Dictionary(uniqueKeysWithValues: (parsed["tables"]?.arrayValue ?? []).map { ($0["name"]?.stringValue ?? "", $0["rows"]) })
        #expect(rows["epoch"] == 3)
        #expect(rows["grad_step"] == 96)
        #expect(parsed["status"] == "finished")
    }

    /// The example takes its config from the command line: overrides typed by its Codable
    /// config, its own --runs-dir left to it, mistakes named before any run exists.
    @Test func theExampleTakesOverrides() throws {
        let fixtures = Fixtures()
        let runs = fixtures.url("runs")
        let example = try Self.execute(
            Self.builtProduct("noko-example"), ["learningRate=0.25", "--runs-dir", runs.path, "epochs=2", "samples=200"], in: fixtures.root)
        #expect(example.status == 0, "\(example.stderr)")
        let run = try #require(try LoadedRun.runDirectories(in: runs).first)
        let config = try #require(try ConfigFile.read(from: run))
        #expect(config["learningRate"] == 0.25 && config["epochs"] == 2 && config["samples"] == 200)
        #expect(try LoadedRun.open(run).overriddenKeys == ["epochs", "learningRate", "samples"])

        let typo = try Self.execute(Self.builtProduct("noko-example"), ["--runs-dir", runs.path, "learningRat=0.1"], in: fixtures.root)
        #expect(typo.status == 2)
        #expect(typo.stderr.contains("config has no path 'learningRat' (argument 'learningRat=0.1'); did you mean 'learningRate'?"), "\(typo.stderr)")
        let oldFlag = try Self.execute(Self.builtProduct("noko-example"), ["--lr", "0.1"], in: fixtures.root)
        #expect(oldFlag.status == 2 && oldFlag.stderr.contains("--lr is now an override: learningRate=0.1"))
        #expect(try LoadedRun.runDirectories(in: runs).count == 1)
        let help = try Self.execute(Self.builtProduct("noko-example"), ["--noko-help"], in: fixtures.root)
        #expect(help.status == 0 && help.stdout.contains("learningRate") && help.stdout.contains("Double"))
    }

    @Test func exitCodes() throws {
        let fixtures = Fixtures()
        let binary = Self.builtProduct("noko-run")
        let missing = try Self.execute(binary, ["show", "runs/none"], in: fixtures.root)
        #expect(missing.status == 1)
        #expect(missing.stderr == "Error: \(fixtures.url("runs/none").path): no such run directory\n")
        let usage = try Self.execute(binary, ["show"], in: fixtures.root)
        #expect(usage.status == 64)
        #expect(usage.stderr.hasPrefix("Error: Missing expected argument '<run>'"))
        let unknown = try Self.execute(binary, ["show", "x", "--bogus"], in: fixtures.root)
        #expect(unknown.status == 64)
        let help = try Self.execute(binary, ["--help"], in: fixtures.root)
        #expect(help.status == 0)
        #expect(help.stdout.contains("EXIT CODES"))
        #expect(NokoRun.exitStatus(for: CLIError("x")) == 1)
    }

    @Test func everySubcommandDocumentsItself() throws {
        for name in ["show", "list", "compare", "export", "logs", "diff", "checkout", "reproduce", "sweep", "sync", "report"] {
            let help = try Self.execute(Self.builtProduct("noko-run"), [name, "--help"], in: FileManager.default.temporaryDirectory)
            #expect(help.status == 0)
            #expect(help.stdout.contains("EXAMPLES"), "\(name)")
            if !["export", "logs", "diff", "report"].contains(name) { #expect(help.stdout.contains("JSON (--json)"), "\(name)") }
            // A doubled backslash at a line's end in the source prints instead of joining the lines.
            #expect(!help.stdout.contains("\\\n"), "\(name): \(help.stdout)")
        }
    }
}

/// A value written by one thread and read by another.
final class Locked<Value: Sendable>: @unchecked Sendable {
    // Guarded by `lock`; @unchecked because NSLock-protected state is not visible to the checker.
    private let lock = NSLock()
    private var stored: Value
    private var wasSet = false

    init(_ value: Value) { stored = value }

    func set(_ value: Value) {
        lock.withLock {
            stored = value
            wasSet = true
        }
    }

    var value: Value { lock.withLock { stored } }
    var isSet: Bool { lock.withLock { wasSet } }
}
