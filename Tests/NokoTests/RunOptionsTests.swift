import Foundation
import NokoTestSupport
import Testing

@testable import Noko

/// What the README says `RunOptions` and `OutputOptions` do, checked on runs started in child
/// processes (`noko-test-child extra` and `outputs`).
@Suite struct RunOptionsTests {
    private func metadata(_ dir: URL) throws -> RunMetadata { try RunMetadata.read(from: dir) }
    private func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }

    @Test func redactSecretsFalseKeepsTheConfigAsGiven() throws {
        let runs = temporaryDirectory()
        let child = try Child(["extra", runs.path, "open", "1"], environment: ["NOKO_TEST_REDACT": "0"])
        #expect(child.wait() == 0, "\(child.stderr)")
        let dir = runs.appendingPathComponent("open")
        let config = try readJSON(dir.appendingPathComponent("config.json"))
        #expect(config["apiKey"] == "sk-very-secret")
        #expect(config["nested"]?["authToken"] == "tok-123")
        #expect(!child.stderr.contains("looks like a secret"))
        let row = try LogFileLoader.loadTable("config", fromJournal: dir.appendingPathComponent("noko.ndjson").path)
        #expect(row["apiKey"] == ["sk-very-secret"])
    }

    @Test func seedPolicyAlwaysRefusesAMissingOrNonIntegerSeed() throws {
        let runs = temporaryDirectory()
        let missing = try Child(["extra", runs.path, "a", "1"], environment: ["NOKO_TEST_SEED_POLICY": "always", "NOKO_TEST_SEED": "none"])
        #expect(missing.wait() != 0)
        #expect(missing.stderr.contains("the seed policy is .always but the config has no 'seed'"), "\(missing.stderr)")
        let text = try Child(["extra", runs.path, "b", "1"], environment: ["NOKO_TEST_SEED_POLICY": "always", "NOKO_TEST_SEED": "abc"])
        #expect(text.wait() != 0)
        #expect(text.stderr.contains("config 'seed' must be an integer, found \"abc\""), "\(text.stderr)")
        // The default policy only warns about the text seed, and the run goes on unseeded.
        let lenient = try Child(["extra", runs.path, "c", "1"], environment: ["NOKO_TEST_SEED": "abc"])
        #expect(lenient.wait() == 0, "\(lenient.stderr)")
        #expect(lenient.stderr.contains("config.seed is \"abc\", not an integer; the generators are not seeded"), "\(lenient.stderr)")
        #expect(try metadata(runs.appendingPathComponent("c")).seed == nil)
        // With an integer seed, .always seeds like the default.
        let seeded = try Child(["extra", runs.path, "d", "1"], environment: ["NOKO_TEST_SEED_POLICY": "always", "NOKO_TEST_SEED": "11"])
        #expect(seeded.wait() == 0, "\(seeded.stderr)")
        let seeds = try readJSON(runs.appendingPathComponent("d/seeds.json"))
        #expect(seeds["root_seed"] == 11)
        #expect(seeds["generators"]?["noko"] == .int(Int64(Seeding.derivedSeed(root: 11, name: "noko"))))
    }

    @Test func seedPolicyNeverLeavesTheGeneratorsAlone() throws {
        let runs = temporaryDirectory()
        // The config has seed 7: never seeded all the same, so two runs draw different numbers.
        var draws: [[String]] = []
        for name in ["n1", "n2"] {
            let child = try Child(["extra", runs.path, name, "3"], environment: ["NOKO_TEST_SEED_POLICY": "never"])
            #expect(child.wait() == 0, "\(child.stderr)")
            let dir = runs.appendingPathComponent(name)
            #expect(try metadata(dir).seed == nil)
            #expect(!exists(dir.appendingPathComponent("seeds.json")))
            draws.append(try LogFileLoader.loadTable("t", fromJournal: dir.appendingPathComponent("noko.ndjson").path)["r"]!.map(\.description))
        }
        #expect(draws[0] != draws[1])
        // The default policy seeds from the same config: the same draws every time.
        var seeded: [[String]] = []
        for name in ["s1", "s2"] {
            #expect(try Child(["extra", runs.path, name, "3"]).wait() == 0)
            seeded.append(
                try LogFileLoader.loadTable("t", fromJournal: runs.appendingPathComponent("\(name)/noko.ndjson").path)["r"]!.map(\.description))
        }
        #expect(seeded[0] == seeded[1])
    }

    @Test(arguments: [("SLURM_JOB_ID", "4242"), ("TORCHELASTIC_RUN_ID", "te-9")])
    func theRanksOfAJobShareARunNamedAfterItsID(variable: String, value: String) throws {
        let runs = temporaryDirectory()
        let ranks = try (0..<2).map { rank in
            try Child(["extra", runs.path, "-", "1"], environment: [variable: value, "RANK": "\(rank)", "WORLD_SIZE": "2"])
        }
        for child in ranks { #expect(child.wait() == 0, "\(child.stderr)") }
        let name = "noko-test-child_job\(value)"
        #expect(try FileManager.default.contentsOfDirectory(atPath: runs.path) == [name])
        #expect(try metadata(runs.appendingPathComponent(name)).runName == name)
        #expect(try metadata(runs.appendingPathComponent("\(name)/rank-1")).rank == 1)
    }

    @Test func runSummaryReachesMetadataJSON() throws {
        let runs = temporaryDirectory()
        let child = try Child(["extra", runs.path, "summed", "2"], environment: ["NOKO_TEST_SUMMARY": "1"])
        #expect(child.wait() == 0, "\(child.stderr)")
        let m = try metadata(runs.appendingPathComponent("summed"))
        #expect(m.summary == ["best_accuracy": 0.875, "verdict": "good"])
    }

    @Test(.enabled(if: HyperparameterReader.isAvailable, "python3 with tensorboard is not installed (pip install tensorboard)"))
    func tensorBoardHyperparametersPutTheConfigOnTheHParamsDashboard() throws {
        let runs = temporaryDirectory()
        let child = try Child(["extra", runs.path, "hp", "3"], environment: ["NOKO_TEST_TB_HPARAMS": "1"])
        #expect(child.wait() == 0, "\(child.stderr)")
        let found = try HyperparameterReader.read(runs.appendingPathComponent("hp"))
        let hparams = found["session_start"]
        #expect(hparams?["lr"]?.doubleValue == 0.1)
        #expect(hparams?["seed"]?.doubleValue == 7)
        #expect(hparams?["nested/depth"]?.doubleValue == 3)
        #expect(hparams?["nested/maxTokens"]?.doubleValue == 256)
        #expect(hparams?["apiKey"] == "<redacted>", "redacted on TensorBoard too")
        #expect(hparams?.objectValue?.count == 6, "\(String(describing: hparams))")
        #expect(found["session_end"] == true, "the session is closed when the run finishes")
        // Without the option, no hyperparameters (the session's end is written either way).
        #expect(try Child(["extra", runs.path, "plain", "3"]).wait() == 0)
        let plain = try HyperparameterReader.read(runs.appendingPathComponent("plain"))
        #expect(plain["session_start"] == nil, "\(plain)")
    }

    // MARK: - OutputOptions

    @Test func outputsTurnedOffWriteNoFile() throws {
        let runs = temporaryDirectory()
        let child = try Child(["outputs", runs.path, "off", "csv=off", "pprint=off", "statistics=off", "tensorboard=off"])
        #expect(child.wait() == 0, "\(child.stderr)")
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: runs.appendingPathComponent("off").path))
        #expect(files.contains("noko.ndjson"), "the journal is always on")
        #expect(files.filter { $0.hasSuffix(".csv") || $0.hasPrefix("events.out.tfevents") }.isEmpty, "\(files)")
        #expect(!files.contains("noko_pprint.log") && !files.contains("summary.json"), "\(files)")
        // The defaults write them all.
        #expect(try Child(["outputs", runs.path, "on"]).wait() == 0)
        let defaults = Set(try FileManager.default.contentsOfDirectory(atPath: runs.appendingPathComponent("on").path))
        #expect(defaults.isSuperset(of: ["noko.ndjson", "epoch.csv", "t.csv", "noko_pprint.log", "summary.json"]), "\(defaults)")
        #expect(defaults.contains { $0.hasPrefix("events.out.tfevents") })
    }

    @Test func thePrettyPrinterWritesToStandardOutputWhenAsked() throws {
        let runs = temporaryDirectory()
        let quiet = try Child(["outputs", runs.path, "quiet"])
        #expect(quiet.wait() == 0)
        #expect(quiet.lines.isEmpty, "off by default: \(quiet.lines)")
        let loud = try Child(["outputs", runs.path, "loud", "stdout=results"])
        #expect(loud.wait() == 0)
        let text = loud.lines.joined(separator: "\n")
        #expect(text.hasPrefix("epoch · step 0 · RESULTS · "), "\(text)")
        #expect(text.contains("  accuracy  0.75"))
        #expect(!text.contains("t · step"), "the INFO row is below the level")
        // At INFO, both rows.
        let all = try Child(["outputs", runs.path, "all", "stdout=info"])
        #expect(all.wait() == 0)
        #expect(all.lines.contains { $0.hasPrefix("t · step 0 · INFO · ") }, "\(all.lines)")
    }

    @Test func theStderrLevelFiltersNokosMessages() throws {
        let runs = temporaryDirectory()
        let warned = try Child(["outputs", runs.path, "warned"])
        #expect(warned.wait() == 0)
        #expect(warned.stderr.contains("'loss'") && warned.stderr.contains("NaN"), "the NaN warning at the default level: \(warned.stderr)")
        let quiet = try Child(["outputs", runs.path, "quiet", "stderr=error"])
        #expect(quiet.wait() == 0)
        #expect(quiet.stderr.isEmpty, "\(quiet.stderr)")
        // Still in debug.log, whatever the stderr level.
        let debugLog = try String(contentsOf: runs.appendingPathComponent("quiet/debug.log"), encoding: .utf8)
        #expect(debugLog.contains("'loss'") && debugLog.contains("NaN"), "\(debugLog)")
    }

    @Test func declaringASummarizerAgainReplacesItWithAWarning() throws {
        let runs = temporaryDirectory()
        let child = try Child(["outputs", runs.path, "declared"])
        #expect(child.wait() == 0)
        #expect(child.stderr.contains("was already declared; the new one replaces it"), "\(child.stderr)")
        let points = try LogFileLoader.loadTable("points", fromJournal: runs.appendingPathComponent("declared/noko.ndjson").path)
        #expect(points["p.x2"] == [3.0], "the second summarizer is the one used")
        #expect(points["p.x"] == nil)
    }
}

/// Reads a run's TensorBoard hyperparameters with the real tensorboard package
/// (`python/read_hparams.py`).
enum HyperparameterReader {
    static let interpreter: String? = {
        var candidates = ["/usr/bin/python3", "/usr/local/bin/python3"]
        if let path = ProcessInfo.processInfo.environment["PATH"] { candidates += path.split(separator: ":").map { "\($0)/python3" } }
        return candidates.first { candidate in
            guard FileManager.default.isExecutableFile(atPath: candidate) else { return false }
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: candidate)
            probe.arguments = ["-c", "import tensorboard.plugins.hparams.metadata"]
            probe.standardOutput = FileHandle.nullDevice
            probe.standardError = FileHandle.nullDevice
            guard (try? probe.run()) != nil else { return false }
            probe.waitUntilExit()
            return probe.terminationStatus == 0
        }
    }()

    /// Whether the test runs: under `NOKO_REQUIRE_INTEROP=1` a missing tensorboard fails it.
    static var isAvailable: Bool { interpreter != nil || ProcessInfo.processInfo.environment["NOKO_REQUIRE_INTEROP"] == "1" }

    static func read(_ run: URL) throws -> JSONValue {
        let python = try #require(interpreter, "python3 with tensorboard is required (pip install tensorboard)")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/read_hparams.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, run.path]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "read_hparams.py: \(String(decoding: data, as: UTF8.self))")
        return try JSONValue(parsing: [UInt8](data))
    }
}
