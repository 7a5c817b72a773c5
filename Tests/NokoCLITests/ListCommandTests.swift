import Foundation
import NokoCore
import Testing

@testable import NokoCLI

@Suite struct ListCommandTests {
    /// Three runs that differ in lr and optimizer, one of them killed; a Python noko run (no
    /// metadata or config: listed as unknown, its times from its rows) and a stray directory,
    /// which list leaves out.
    func threeRuns() throws -> Fixtures {
        let fixtures = Fixtures()
        try fixtures.finishedRun("train_a", lr: 0.1)
        try fixtures.finishedRun("train_b", lr: 0.05, optimizer: "adam")
        try fixtures.finishedRun("train_c", lr: 0.2, status: "killed", exitCode: 143)
        try fixtures.pythonRun()
        try FileManager.default.createDirectory(at: fixtures.url("runs/notes"), withIntermediateDirectories: true)
        return fixtures
    }

    @Test func listGolden() throws {
        let fixtures = try threeRuns()
        Golden.check(try fixtures.run(["list"]), "list.txt")
    }

    @Test func metricsGolden() throws {
        let fixtures = try threeRuns()
        let output = try fixtures.run(["list", "runs", "--metric", "epoch/test_accuracy", "--metric", "max:grad_step/loss"])
        Golden.check(output, "list-metrics.txt")
    }

    @Test func filtersAndSorting() throws {
        let fixtures = try threeRuns()
        func names(_ arguments: [String]) throws -> [String] {
            let json = try JSONValue(parsing: fixtures.run(["list", "--json"] + arguments))
            return try #require(json["runs"]?.arrayValue).compactMap { $0["name"]?.stringValue }
        }
        #expect(try names([]) == ["py_run", "train_a", "train_b", "train_c"])
        #expect(try names(["--where", "config.lr=0.10"]) == ["train_a"])
        #expect(try names(["--where", "config.lr>=0.1"]) == ["train_a", "train_c"])
        #expect(try names(["--where", "config.optimizer/name!=sgd"]) == ["py_run", "train_b"])
        #expect(try names(["--where", "config.optimizer/name~s*"]) == ["train_a", "train_c"])
        #expect(try names(["--where", "config.missing=1"]) == [])
        #expect(try names(["--where", "config.missing!=1"]) == ["py_run", "train_a", "train_b", "train_c"])
        #expect(try names(["--where", "metadata.host=gpu-node-1", "--where", "name~*_b"]) == ["train_b"])
        #expect(try names(["--where", "epoch/test_accuracy>0.9"]) == ["train_a", "train_c"])
        #expect(try names(["--status", "killed"]) == ["train_c"])
        #expect(try names(["--status", "unknown"]) == ["py_run"])
        #expect(try names(["--where", "w1_rows.py:133/reward>2"]) == ["py_run"], "metrics come from the Python run's rows")
        #expect(try names(["--status", "finished", "--status", "killed"]) == ["train_a", "train_b", "train_c"])
        #expect(try names(["--sort", "config.lr"]) == ["train_b", "train_a", "train_c", "py_run"], "runs without the value go last")
        #expect(try names(["--sort", "epoch/test_accuracy", "--reverse"]) == ["py_run", "train_c", "train_a", "train_b"])
        #expect(try names(["--sort", "name", "--reverse"]) == ["train_c", "train_b", "train_a", "py_run"])
        #expect(try names(["--sort", "duration"]) == ["py_run", "train_a", "train_b", "train_c"], "29 s of rows before 1 h runs")
    }

    @Test func jsonShape() throws {
        let fixtures = try threeRuns()
        let json = try JSONValue(parsing: fixtures.run(["list", "--json", "--metric", "epoch/test_loss"]))
        #expect(Set(json.objectValue!.keys) == ["runs_dir", "config_keys", "metrics", "runs", "sweeps"])
        #expect(json["config_keys"] == ["lr", "optimizer/name"])
        #expect(json["metrics"] == ["epoch/test_loss"])
        #expect(json["runs_dir"]?.stringValue == fixtures.url("runs").path)
        let runs = try #require(json["runs"]?.arrayValue)
        let first = try #require(runs.first { $0["name"] == "train_a" })
        let python = try #require(runs.first { $0["name"] == "py_run" })
        #expect(python["status"] == "unknown")
        #expect(python["duration"] == 29.0, "from its first row to its last")
        #expect(python["config"] == [:])
        #expect(python["metrics"]?["epoch/test_loss"] == .null)
        #expect(Set(first.objectValue!.keys) == ["name", "path", "status", "start_time", "end_time", "duration", "config", "metrics", "overridden"])
        #expect(first["config"]?["optimizer/momentum"] == 0.9)
        #expect(first["metrics"]?["epoch/test_loss"]?.doubleValue == 1.0 / 13)
        #expect(first["status"] == "finished")
        #expect(first["duration"] == 3723.5)
    }

    @Test func pythonRunsWhoseRowsGiveNoTimeAreListedWithBlankTimes() throws {
        let fixtures = Fixtures()
        try fixtures.finishedRun("train_a", lr: 0.1)
        // A directory with a CSV that is not noko's (no $utc_timestamp), and a Python run
        // whose journal has a malformed line.
        try FileManager.default.createDirectory(at: fixtures.url("runs/data"), withIntermediateDirectories: true)
        try Data("id,label\n1,cat\n2,dog\n".utf8).write(to: fixtures.url("runs/data/labels.csv"))
        try FileManager.default.createDirectory(at: fixtures.url("runs/broken"), withIntermediateDirectories: true)
        try Data("{\"$table\": \"t\", \"$step\": 0, \"$utc_timestamp\": 1795777200.0, \"x\": 1}\nnot json\n".utf8)
            .write(to: fixtures.url("runs/broken/noko.ndjson"))
        let context = fixtures.context()
        let json = try JSONValue(parsing: fixtures.run(["list", "--json"], context: context))
        let runs = try #require(json["runs"]?.arrayValue)
        #expect(runs.map { $0["name"] } == ["train_a", "broken", "data"], "runs without a start go last")
        for name in ["broken", "data"] {
            let run = try #require(runs.first { $0["name"]?.stringValue == name })
            #expect(run["status"] == "unknown")
            #expect(run["start_time"] == .null, "\(name): no time rather than 1970")
            #expect(run["duration"] == .null)
        }
        #expect(context.capturedError.contains("broken: no start or duration"), "\(context.capturedError)")
        #expect(context.capturedError.contains("noko.ndjson:2:"), "the unreadable line is named")
    }

    @Test func configGlobChoosesTheColumns() throws {
        let fixtures = try threeRuns()
        let json = try JSONValue(parsing: fixtures.run(["list", "--json", "--config", "batch*,seed"]))
        #expect(json["config_keys"] == ["batch_size", "seed"])
    }

    @Test func usageErrorsAreValidationErrors() throws {
        let fixtures = try threeRuns()
        for arguments in [["list", "--status", "sleeping"], ["list", "--where", "lr=0.1"], ["list", "--metric", "loss"], ["list", "--sort", "bogus"]] {
            #expect(throws: (any Error).self) { try fixtures.run(arguments) }
            do {
                _ = try NokoRun.parseCommand(arguments)
            } catch {
                #expect(NokoRun.exitStatus(for: error) == 64, "\(arguments)")
            }
        }
    }

    @Test func anEmptyOrMissingDirectory() throws {
        let fixtures = Fixtures()
        #expect(try fixtures.run(["list"]) == "no runs in runs (a run directory has a metadata.json)\n")
        #expect(throws: CLIError("\(fixtures.url("elsewhere").path): expected a directory of runs; it does not exist")) {
            try fixtures.run(["list", "elsewhere"])
        }
    }

    @Test func aRunWithUnreadableMetadataIsListedWithAWarning() throws {
        let fixtures = try threeRuns()
        try Data("{not json".utf8).write(to: fixtures.url("runs/train_b/metadata.json"))
        let context = fixtures.context()
        let output = try fixtures.run(["list"], context: context)
        #expect(output.contains("train_b"))
        #expect(context.capturedError.hasPrefix("warning: train_b: \(fixtures.url("runs/train_b/metadata.json").path): expected JSON"))
    }

    @Test func aRunOfANewerFormatIsSkippedWithAWarning() throws {
        let fixtures = try threeRuns()
        try Data(#"{"format_version": 99, "run_name": "train_b"}"#.utf8).write(to: fixtures.url("runs/train_b/metadata.json"))
        let context = fixtures.context()
        let output = try fixtures.run(["list"], context: context)
        #expect(!output.contains("train_b"))
        #expect(context.capturedError.hasPrefix("warning: skipping train_b: \(fixtures.url("runs/train_b/metadata.json").path): written by a newer noko"))
    }
}
