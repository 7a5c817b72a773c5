import Foundation
import NokoTestSupport
import Testing

@testable import Noko

/// Launch-time config through real child processes: real argv, real environment, the run
/// directory read back.
@Suite struct LaunchTests {
    private struct Launched {
        let child: Child
        let status: Int32
        var config: JSONValue? {
            child.lines.first { $0.hasPrefix("config ") }.flatMap { try? JSONValue(parsing: String($0.dropFirst(7))) }
        }
        var directory: URL? {
            child.lines.first { $0.hasPrefix("run ") }.map { URL(fileURLWithPath: String($0.dropFirst(4))) }
        }
        var program: String? { child.lines.first { $0.hasPrefix("program") }.map { String($0.dropFirst(8)) } }
    }

    private func launch(
        _ arguments: [String], environment: [String: String] = [:], runs: URL = temporaryDirectory(), mode: String = "launch"
    ) throws -> Launched {
        var environment = environment
        if environment["NOKO_RUNS_DIR"] == nil { environment["NOKO_RUNS_DIR"] = runs.path }
        let child = try Child([mode] + arguments, environment: environment)
        return Launched(child: child, status: child.wait())
    }

    @Test func overridesReachTheProgramAndEveryRecord() throws {
        let runs = temporaryDirectory()
        let launched = try launch(
            ["--verbose", "lr=1e-5", "model.layers=4", "model/width=32", "hidden[1]=256", "+dropout=0.5", "name=007", "optimizer=sgd", "input.txt"],
            runs: runs)
        #expect(launched.status == 0, "\(launched.child.stderr)")
        #expect(launched.program == "launch --verbose input.txt")
        let config = try #require(launched.config)
        #expect(config["lr"] == .double(1e-5))
        #expect(config["model"] == ["layers": 4, "width": 32])
        #expect(config["hidden"] == [64, 256])
        #expect(config["dropout"] == 0.5)
        #expect(config["name"] == "007")
        #expect(config["optimizer"] == "sgd")
        let directory = try #require(launched.directory)
        #expect(directory.deletingLastPathComponent().resolvingSymlinksInPath().path == runs.resolvingSymlinksInPath().path)
        #expect(directory.lastPathComponent == "code-name")
        let recorded = try readJSON(directory.appendingPathComponent("config.json"))
        #expect(recorded["model"]?["layers"] == 4)
        #expect(recorded["lr"] == .double(1e-5))
        let overrides = try #require(try OverridesFile.read(from: directory))
        #expect(overrides.overrides.map(\.text) == ["lr=1e-5", "model.layers=4", "model/width=32", "hidden[1]=256", "+dropout=0.5", "name=007", "optimizer=sgd"])
        #expect(overrides.overrides.map(\.path) == ["lr", "model.layers", "model.width", "hidden[1]", "dropout", "name", "optimizer"])
        #expect(overrides.overrides.map(\.value) == [.double(1e-5), 4, 32, 256, 0.5, "007", "sgd"])
        #expect(Set(overrides.overrides.map(\.source)) == ["argument"])
        #expect(overrides.defaults["lr"] == 0.1 && overrides.defaults["model"]?["layers"] == 2)
        #expect(overrides.defaults["dropout"] == nil)
        #expect(try readJSON(directory.appendingPathComponent("overrides.json"))["format_version"] == 1)
        let row = try LogFileLoader.loadTable("config", fromJournal: directory.appendingPathComponent("noko.ndjson").path)
        #expect(row["model/layers"] == [4])
    }

    @Test func everyPrecedenceLevelInOrder() throws {
        let files = temporaryDirectory()
        let environmentFile = files.appendingPathComponent("env.json")
        try Data(#"{"lr": 0.2, "name": "env-file", "seed": 1, "model": {"layers": 3}}"#.utf8).write(to: environmentFile)
        let argumentFile = files.appendingPathComponent("arg.yaml")
        try Data("lr: 0.3\nname: arg-file\nseed: 2\n".utf8).write(to: argumentFile)
        let launched = try launch(
            ["--config", argumentFile.path, "seed=4"],
            environment: ["NOKO_CONFIG": environmentFile.path, "NOKO_OVERRIDES": "name='env overrides' seed=3"])
        #expect(launched.status == 0, "\(launched.child.stderr)")
        let config = try #require(launched.config)
        #expect(config["model"]?["layers"] == 3)  // NOKO_CONFIG over the defaults
        #expect(config["lr"] == 0.3)  // --config over NOKO_CONFIG
        #expect(config["name"] == "env overrides")  // NOKO_OVERRIDES over --config
        #expect(config["seed"] == 4)  // arguments over NOKO_OVERRIDES
        let directory = try #require(launched.directory)
        let overrides = try #require(try OverridesFile.read(from: directory))
        #expect(overrides.configFiles.map(\.source) == ["NOKO_CONFIG", "--config"])
        #expect(overrides.configFiles.map(\.copy) == ["launch_config_1.json", "launch_config_2.yaml"])
        #expect(try Data(contentsOf: directory.appendingPathComponent("launch_config_2.yaml")) == Data(contentsOf: argumentFile))
        #expect(overrides.overrides.map(\.source) == ["NOKO_OVERRIDES", "NOKO_OVERRIDES", "argument"])
        #expect(try Seeding.Record.read(from: directory)?.root == 4)
        #expect(overrides.launchWords == ["NOKO_CONFIG=\(environmentFile.path)", "--config", argumentFile.path, "name=env overrides", "seed=3", "seed=4"])
    }

    @Test func errorsComeBeforeAnyDirectoryAndNameTheProblem() throws {
        let files = temporaryDirectory()
        let malformed = files.appendingPathComponent("bad.yaml")
        try Data("lr: 0.1\nmodel: [1\n".utf8).write(to: malformed)
        let cases: [([String], [String: String], String)] = [
            (["model.layrs=4"], [:], "config has no path 'model.layrs' (argument 'model.layrs=4'); did you mean 'model.layers'?"),
            (["lr=fast"], [:], "config 'lr' expects Double, found 'fast' (argument 'lr=fast')"),
            (["optimizer=adamw"], [:], "config 'optimizer' expects Optimizer (adam, sgd), found 'adamw'"),
            (["dropout=0.5"], [:], "add it with +dropout=0.5"),
            (["--config", malformed.path], [:], "--config \(malformed.path): line 3, column 1: malformed YAML"),
            ([], ["NOKO_OVERRIDES": "lr='0.1"], "NOKO_OVERRIDES: a single quote is not closed"),
            ([], ["NOKO_RUN_LINKS": "[1]"], "NOKO_RUN_LINKS: expected a JSON object"),
            ([], ["NOKO_RUN_LINKS": "{\"sweep\": "], "NOKO_RUN_LINKS: expected a JSON object; malformed JSON at line 1, column 11"),
        ]
        for (arguments, environment, message) in cases {
            let runs = temporaryDirectory()
            let launched = try launch(arguments, environment: environment, runs: runs)
            #expect(launched.status == 2, "\(arguments)")
            #expect(launched.child.stderr.contains(message), "\(arguments): \(launched.child.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: runs.path).isEmpty, "\(arguments)")
        }
    }

    @Test func aConfigPassedByValueRefusesOverrides() throws {
        let runs = temporaryDirectory()
        let refused = try launch(["lr=0.5"], runs: runs, mode: "launch-by-value")
        #expect(refused.status == 2)
        #expect(refused.child.stderr.contains("'lr=0.5' (an argument) would change the config, but initExtra(config:) got the config by value"))
        #expect(refused.child.stderr.contains("Noko.initExtra(config: &config)"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: runs.path).isEmpty)
        let fromEnvironment = try launch([], environment: ["NOKO_OVERRIDES": "lr=0.5"], mode: "launch-by-value")
        #expect(fromEnvironment.status == 2)
        #expect(fromEnvironment.child.stderr.contains("(NOKO_OVERRIDES) would change the config"))
        // Without overrides the by-value form runs as before.
        let plain = try launch(["input.txt"], mode: "launch-by-value")
        #expect(plain.status == 0, "\(plain.child.stderr)")
    }

    @Test func scopedInputsLeaveTheArgumentsToTheProgram() throws {
        let environmentOnly = try launch(
            ["lr=0.5", "--config", "mine.toml"], environment: ["NOKO_TEST_LAUNCH_INPUTS": "environment", "NOKO_OVERRIDES": "seed=9"])
        #expect(environmentOnly.status == 0, "\(environmentOnly.child.stderr)")
        #expect(environmentOnly.program == "launch lr=0.5 --config mine.toml")
        #expect(environmentOnly.config?["lr"] == 0.1)
        #expect(environmentOnly.config?["seed"] == 9)
        let none = try launch(["lr=0.5"], environment: ["NOKO_TEST_LAUNCH_INPUTS": "none", "NOKO_OVERRIDES": "seed=9"])
        #expect(none.status == 0, "\(none.child.stderr)")
        #expect(none.config?["seed"] == 5 && none.config?["lr"] == 0.1)
    }

    @Test func secretsInOverridesAndArgvAreRedactedEverywhere() throws {
        let files = temporaryDirectory()
        let secretFile = files.appendingPathComponent("secret.yaml")
        try Data("apiKey: sk-from-file\nlr: 0.4\n".utf8).write(to: secretFile)
        let launched = try launch(["apiKey=sk-from-argv", "--config", secretFile.path], environment: ["NOKO_OVERRIDES": "apiKey=sk-from-env"])
        #expect(launched.status == 0, "\(launched.child.stderr)")
        #expect(launched.config?["apiKey"] == "sk-from-argv")  // the program has its key
        let directory = try #require(launched.directory)
        // The program printed its config: the console capture keeps what the program wrote,
        // as it wrote it; every file noko itself records is checked.
        let console: Set = [RunLayout.outputLogName, RunLayout.outputIndexName]
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where !console.contains(file) {
            let bytes = try Data(contentsOf: directory.appendingPathComponent(file))
            #expect(bytes.range(of: Data("sk-from".utf8)) == nil, "\(file)")
        }
        let overrides = try #require(try OverridesFile.read(from: directory))
        #expect(overrides.overrides.map(\.text) == ["apiKey=<redacted>", "apiKey=<redacted>"])
        #expect(overrides.configFiles.map(\.copy) == ["launch_config_1.json"])
        #expect(try readJSON(directory.appendingPathComponent("launch_config_1.json"))["lr"] == "0.4")
        #expect(try RunMetadata.read(from: directory).argv?.contains("apiKey=<redacted>") == true)
        #expect(launched.child.stderr.contains("holds secrets (apiKey)"))
    }

    @Test func launcherEnvironmentWinsOverRunOptions() throws {
        let runs = temporaryDirectory()
        let launched = try launch(
            [], environment: ["NOKO_RUNS_DIR": runs.path, "NOKO_RUN_NAME": "placed", "NOKO_RUN_LINKS": #"{"sweep": {"name": "s1", "trial": 3}}"#])
        #expect(launched.status == 0, "\(launched.child.stderr)")
        let directory = runs.appendingPathComponent("placed")
        #expect(launched.directory?.standardizedFileURL == directory.standardizedFileURL)
        let metadata = try RunMetadata.read(from: directory)
        #expect(metadata.links == ["sweep": ["name": "s1", "trial": 3]])
        #expect(metadata.environment?["NOKO_RUN_NAME"] == "placed")
        #expect(!FileManager.default.fileExists(atPath: "code-runs"))
    }

    @Test func withRunHandsTheBodyTheEffectiveConfig() throws {
        let launched = try launch(["lr=0.75"], environment: ["NOKO_TEST_WITH_RUN": "1"])
        #expect(launched.status == 0, "\(launched.child.stderr)")
        #expect(launched.config?["lr"] == 0.75)
        let directory = try #require(launched.directory)
        #expect(try readJSON(directory.appendingPathComponent("config.json"))["lr"] == 0.75)
        #expect(try RunMetadata.read(from: directory).status == "finished")
    }

    @Test func helpListsThePathsAndExitsZeroWithoutARun() throws {
        let runs = temporaryDirectory()
        let launched = try launch(["--noko-help"], runs: runs)
        #expect(launched.status == 0)
        let text = launched.child.lines.joined(separator: "\n")
        #expect(text.contains("model.layers"))
        #expect(text.contains("Double?"))
        #expect(text.contains("Optimizer (adam, sgd)"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: runs.path).isEmpty)
    }

    @Test func metadataRecordsTheBuildAndPackageResolvedIsCopied() throws {
        let launched = try launch(["lr=0.25"])
        #expect(launched.status == 0, "\(launched.child.stderr)")
        let directory = try #require(launched.directory)
        let build = try #require(try RunMetadata.read(from: directory).build)
        let executable = try #require(build.absolutePath)
        #expect(executable == FileManager.default.currentDirectoryPath + "/" + (build.path ?? "") || executable == build.path)
        #expect(build.product == "noko-test-child")
        #expect(build.configuration == "debug")
        #expect(build.compiler?.hasPrefix("6.") == true)
        #expect(build.targetTriple?.split(separator: "-").count ?? 0 >= 3)
        #expect((build.cores ?? 0) >= 1)
        #expect(build.cpu?.isEmpty == false)
        let root = try #require(build.packageRoot)
        #expect(FileManager.default.fileExists(atPath: root + "/Package.swift"))
        // The digest is sha256sum's.
        let sha256sum = Process()
        sha256sum.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sha256sum.arguments = ["sha256sum", executable]
        let pipe = Pipe()
        sha256sum.standardOutput = pipe
        try sha256sum.run()
        sha256sum.waitUntilExit()
        let expected = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(64)
        #expect(build.sha256 == String(expected))
        if FileManager.default.fileExists(atPath: root + "/Package.resolved") {
            #expect(try Data(contentsOf: directory.appendingPathComponent("Package.resolved")) == Data(contentsOf: URL(fileURLWithPath: root + "/Package.resolved")))
        }
    }

    @Test func theRecordRelaunchesToAByteIdenticalConfig() throws {
        let files = temporaryDirectory()
        let configFile = files.appendingPathComponent("c.yaml")
        try Data("model:\n  width: 8\n".utf8).write(to: configFile)
        let first = try launch(
            ["--config", configFile.path, "lr=0.003", "hidden=[1,2,3]", "+dropout=0.125"], environment: ["NOKO_OVERRIDES": "seed=11 name='a b'"])
        #expect(first.status == 0, "\(first.child.stderr)")
        let directory = try #require(first.directory)
        // Relaunch from the record alone: the binary from metadata.build, the argument
        // overrides and the copied files from overrides.json.
        let build = try #require(try RunMetadata.read(from: directory).build)
        let record = try #require(try OverridesFile.read(from: directory))
        let binary = try #require(build.absolutePath)
        var arguments = ["launch"]
        for file in record.configFiles { arguments += ["--config", directory.appendingPathComponent(file.copy).path] }
        arguments += record.overrides.filter { $0.source == "argument" }.map(\.text)
        let environmentOverrides = record.overrides.filter { $0.source == "NOKO_OVERRIDES" }
            .map { "'" + $0.text.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }.joined(separator: " ")
        #expect(binary == childPath || FileManager.default.contentsEqual(atPath: binary, andPath: childPath))
        let runs = temporaryDirectory()
        let second = try launch(arguments, environment: ["NOKO_OVERRIDES": environmentOverrides, "NOKO_RUNS_DIR": runs.path])
        #expect(second.status == 0, "\(second.child.stderr)")
        let again = try #require(second.directory)
        #expect(try Data(contentsOf: again.appendingPathComponent("config.json")) == Data(contentsOf: directory.appendingPathComponent("config.json")))
    }
}
