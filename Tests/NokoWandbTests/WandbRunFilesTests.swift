import Foundation
import NokoCore
import NokoRemoteSync
@testable import NokoWandb
import NokoWandbTestSupport
import Testing

/// The Files tab (run files through CreateRunFiles and a PUT each) and the Logs tab
/// (`output.log` over file_stream), against the loopback server.
@Suite("wandb run files and console", .serialized)
struct WandbRunFilesTests {
    static let endFiles: Set<String> = ["config.yaml", "noko-metadata.json", "output.log", "wandb-summary.json"]
    static let startFiles: Set<String> = ["wandb-metadata.json", "diff.patch", "noko-checkpoint.patch", "Package.resolved"]

    static let machine: [String: JSONValue] = [
        "kernel": "Linux 6.1.0 x86_64", "swift_version": "6.3", "noko_version": "0.1.0", "user": "ana",
        "argv": ["/opt/bin/train", "--lr", "0.1"], "cwd": "/home/ana/exp",
    ]

    /// A run directory with both diffs (one holding the API key), `Package.resolved` and
    /// console output on both streams.
    func fixture(_ server: WandbTestServer) -> RunFixture {
        let run = RunFixture()
        run.writeMetadata(status: "running", extra: Self.machine)
        run.writeFile("from_head.diff", "diff --git a/train.swift b/train.swift\n-let key = \"\(server.apiKey)\"\n+let lr = 0.1\n")
        run.writeFile("from_last_checkpoint.diff", "diff --git a/x b/x\n+y\n")
        run.writeFile("Package.resolved", "{\"pins\":[],\"version\":3}\n")
        run.writeConsole([(1, "epoch 0"), (2, "warning: slow step"), (1, "epoch 1")], time: run.startTime + 1)
        return run
    }

    @Test func everyFileGoesUpOnceWithItsContentAndNeverTheKey() throws {
        let server = try WandbTestServer()
        let run = fixture(server)
        let log = MessageLog()
        var options = testOptions(server)
        options.stopAction = .flag
        let sync = try started(WandbSync.start(options: options, run: run.runInfo(), environment: testEnvironment(server), messages: log.handler))
        run.log("train", ["loss": 1])
        #expect(server.wait { $0.run("testrun1")?.console.count == 3 })
        // Output written while the run goes on streams too, after what went before.
        run.writeConsole([(1, "epoch 2")], time: run.startTime + 2)
        run.log("train", ["loss": 0.5])
        #expect(server.wait { $0.run("testrun1")?.console.count == 4 })
        run.writeMetadata(status: "finished", exitCode: 0, extra: Self.machine)
        #expect(isFinished(sync.finish(exitCode: 0)))

        let remote = try #require(server.run("testrun1"))
        #expect(Set(remote.uploads.keys) == Self.startFiles.union(Self.endFiles))
        #expect(remote.uploads.values.allSatisfy { $0 == 1 }, "\(remote.uploads)")
        #expect(remote.uploadsWithCredentials == 0)
        #expect(Set(remote.uploadedListed) == Self.startFiles.union(Self.endFiles))
        #expect(remote.uploadedListed.count == remote.uploads.count)

        // The key reached no file and no request.
        let key = Array(server.apiKey.utf8)
        for (name, bytes) in remote.files { #expect(!bytes.contains(key), "\(name)") }
        for request in server.requests { #expect(!request.body.contains(key), "\(request.path)") }
        let diff = String(decoding: try #require(remote.files["diff.patch"]), as: UTF8.self)
        #expect(diff.hasPrefix("diff --git a/train.swift b/train.swift\n-let key = \""))
        #expect(diff.contains("+let lr = 0.1"))

        let metadata = try JSONValue(parsing: try #require(remote.files["wandb-metadata.json"]))
        #expect(metadata["os"] == "Linux-6.1.0-x86_64")
        #expect(metadata["python"] == "noko 0.1.0, Swift 6.3")
        #expect(metadata["startedAt"] == .string(ConsoleLine.isoUTC(run.startTime) + "Z"))
        #expect(metadata["host"] == "testhost")
        #expect(metadata["username"] == "ana")
        #expect(metadata["program"] == "train.swift")
        #expect(metadata["args"] == ["--lr", "0.1"])
        #expect(metadata["executable"] == "/opt/bin/train")
        #expect(metadata["root"] == "/home/ana/exp")
        #expect(metadata["git"] == ["remote": "https://example.com/me/repo.git", "commit": "1111111111111111111111111111111111111111"])

        #expect(metadata["writerId"] == "noko-run")
        // The Overview's environment block in the config, as the official client fills it.
        let config = try JSONValue(parsing: try #require(remote.config))
        #expect(config["_wandb"]?["value"]?["e"]?["noko-run"] == metadata)

        let noko = try JSONValue(parsing: try #require(remote.files["noko-metadata.json"]))
        #expect(noko["status"] == "finished")
        #expect(noko["git"]?["remote_url"] == "https://example.com/me/repo.git")
        #expect(noko["git"]?["checkpoint"] == "2222222222222222222222222222222222222222")
        #expect(remote.files["Package.resolved"] == Array("{\"pins\":[],\"version\":3}\n".utf8))
        #expect(remote.files["noko-checkpoint.patch"] == Array("diff --git a/x b/x\n+y\n".utf8))

        // The console: the Logs tab's lines, stderr marked, and the same text as output.log.
        let stamp1 = ConsoleLine.isoUTC(run.startTime + 1), stamp2 = ConsoleLine.isoUTC(run.startTime + 2)
        let expected = ["\(stamp1) epoch 0", "ERROR \(stamp1) warning: slow step", "\(stamp1) epoch 1", "\(stamp2) epoch 2"]
        #expect(remote.console == expected)
        #expect(remote.consoleGaps.isEmpty && remote.consoleResent == 0)
        #expect(remote.files["output.log"] == Array(expected.map { $0 + "\n" }.joined().utf8))

        // config.yaml says what the config panel shows, read by PyYAML.
        let yaml = String(decoding: try #require(remote.files["config.yaml"]), as: UTF8.self)
        let parsed = try PythonYAML.load(yaml)
        #expect(parsed["lr"] == ["value": 0.1])
        #expect(parsed["nested"] == ["value": ["a": 1]])
        #expect(parsed["_wandb"]?["value"]?["m"]?.arrayValue?.count == 2)
        #expect(parsed == (try JSONValue(parsing: try #require(remote.config))))

        let state = try #require(run.syncState)
        #expect(state["log_lines"] == 4)
        #expect(state["files_complete"] == true)
        #expect(log.texts(atLeast: .warning).isEmpty, "\(log.texts(atLeast: .warning))")
    }

    @Test func theOverviewGetsTheMachinesMemoryAndGPUsFromTheSystemTable() throws {
        func column(_ name: String, _ max: Double) -> ColumnStatistics {
            ColumnStatistics(name: name, type: "float", count: 2, nullCount: 0, nanCount: 0, last: .double(max), min: max / 2, max: max, series: nil)
        }
        let system = TableStatistics(
            name: "system", fileStem: "system", rows: 2, firstStep: 0, lastStep: 1, firstTime: 0, lastTime: 1, seriesWidth: 0, seriesSteps: [],
            columns: [
                column("memory/total_bytes", 25_276_063_744), column("gpu/0/utilization_percent", 90),
                column("gpu/0/memory_total_bytes", 42_949_672_960), column("gpu/1/utilization_percent", 10),
                column("gpu/0/mig/1/utilization_percent", 5),
            ])
        let metadata = try #require(RunFiles.wandbMetadata(["host": "h"], writer: nil, system: system))
        #expect(metadata["memory"] == ["total": "25276063744"], "as the client writes it: a string of bytes")
        #expect(metadata["gpu_count"] == 2, "MIG devices are not GPUs of their own")
        #expect(metadata["gpu_nvidia"] == [["memoryTotal": "42949672960"], [:]])
        #expect(RunFiles.wandbMetadata(["host": "h"], writer: nil, system: nil)?["memory"] == nil)
    }

    @Test func aFailedUploadIsAWarningAndSyncUploadsOnlyWhatIsMissing() throws {
        let server = try WandbTestServer()
        let run = fixture(server)
        let log = MessageLog()
        var options = testOptions(server)
        options.stopAction = .flag
        // The first PUT at the end (config.yaml, after the four of the start) is refused.
        server.inject(.status(403), on: .upload, after: 4)
        let sync = try started(WandbSync.start(options: options, run: run.runInfo(), environment: testEnvironment(server), messages: log.handler))
        run.log("train", ["loss": 1])
        run.writeMetadata(status: "finished", exitCode: 0, extra: Self.machine)
        #expect(isFinished(sync.finish(exitCode: 0)))
        var remote = try #require(server.run("testrun1"))
        #expect(remote.complete)
        #expect(remote.uploads["config.yaml"] == nil)
        #expect(remote.uploads["output.log"] == 1)
        let warnings = log.texts(atLeast: .warning)
        #expect(warnings.count == 1 && warnings[0].contains("uploading config.yaml") && warnings[0].contains("noko-run sync"), "\(warnings)")
        #expect(run.syncState?["files_complete"] == false)

        // noko-run sync of the finished run uploads the file it lacks; the others it already
        // holds as they are (the summary may differ: its runtime now comes from metadata.json).
        let report = try WandbSync.syncRun(directory: run.directory, environment: testEnvironment(server), messages: log.handler)
        #expect(report.rowsUploaded == 0)
        remote = try #require(server.run("testrun1"))
        #expect(remote.uploads["config.yaml"] == 1)
        #expect(remote.uploads.filter { $0.key != "wandb-summary.json" }.values.allSatisfy { $0 == 1 }, "\(remote.uploads)")
        #expect(remote.history.count == 1)
        #expect(run.syncState?["files_complete"] == true)
        // A second sync has nothing left to do.
        let requests = server.requests.count
        #expect(try WandbSync.syncRun(directory: run.directory, environment: testEnvironment(server), messages: log.handler).alreadySynced)
        #expect(server.requests.count == requests)
    }

    @Test func syncAfterAnInterruptedSessionStreamsTheRestOfTheConsoleOnce() throws {
        let server = try WandbTestServer()
        let run = fixture(server)
        let log = MessageLog()
        var options = testOptions(server)
        options.stopAction = .flag
        let sync = try started(WandbSync.start(options: options, run: run.runInfo(), environment: testEnvironment(server), messages: log.handler))
        run.log("train", ["loss": 1])
        #expect(server.wait { $0.run("testrun1")?.console.count == 3 })
        // The session ends before the run does (as a kill would leave it): uploads of the
        // end are cut off wherever they were.
        server.setResponseDelay(.seconds(2), on: .upload)
        _ = sync.finish(exitCode: 0, timeout: .milliseconds(50))
        server.setResponseDelay(nil, on: .upload)
        run.writeConsole((3..<40).map { (1, "line \($0)") }, time: run.startTime + 3)
        run.log("train", ["loss": 0.5])
        run.writeMetadata(status: "finished", exitCode: 0, extra: Self.machine)

        _ = try WandbSync.syncRun(directory: run.directory, environment: testEnvironment(server), messages: log.handler)
        let remote = try #require(server.run("testrun1"))
        #expect(remote.complete)
        #expect(remote.console.count == 40)
        #expect(remote.consoleGaps.isEmpty)
        let stamp = ConsoleLine.isoUTC(run.startTime + 3)
        #expect(Array(remote.console.suffix(37)) == (3..<40).map { "\(stamp) line \($0)" })
        #expect(Set(remote.uploads.keys) == Self.startFiles.union(Self.endFiles))
        let output = String(decoding: try #require(remote.files["output.log"]), as: UTF8.self)
        #expect(output == remote.console.map { $0 + "\n" }.joined())
        #expect(remote.history.count == 2)
    }
}

private func isFinished(_ result: WandbFinishResult) -> Bool {
    if case .finished = result { return true }
    return false
}

@Suite struct WandbConfigChangeTests {
    @Test func aLiveConfigChangeIsReUpsertedAndRecordedInTheCursor() throws {
        let server = try WandbTestServer()
        let run = RunFixture()
        var options = testOptions(server)
        options.stopAction = .flag
        let sync = try started(WandbSync.start(options: options, run: run.runInfo(), environment: testEnvironment(server)))
        run.log("train", ["loss": 1])
        #expect(server.wait { $0.run("testrun1")?.history.count == 1 })
        sync.update(RunUpdate(config: ["lr": 0.05, "seed": 3, "nested": ["a": 1], "warmup": 500]))
        #expect(server.wait { ($0.run("testrun1")?.config ?? "").contains("warmup") })
        #expect(isFinished(sync.finish(exitCode: 0)))
        let config = try JSONValue(parsing: try #require(server.run("testrun1")?.config))
        #expect(config["warmup"]?["value"] == 500)
        #expect(config["lr"]?["value"] == 0.05)
        #expect(config["_wandb"]?["value"]?["m"]?.arrayValue?.count == 2, "the table axes stay declared")
        #expect(run.syncState?["run"]?["config"]?["warmup"] == 500)
    }

    @Test func syncSendsTheConfigAsConfigJSONHoldsItAtTheEnd() throws {
        let server = try WandbTestServer()
        let run = RunFixture()
        var options = testOptions(server)
        options.mode = .offline
        let sync = try started(WandbSync.start(options: options, run: run.runInfo(), environment: [:]))
        run.log("train", ["loss": 1])
        _ = sync.finish(exitCode: 0)
        // Changed after the start (run.updateConfig rewrites config.json), while offline.
        run.writeConfig(["lr": 0.05, "seed": 3, "nested": ["a": 1], "warmup": 500])
        run.writeMetadata(status: "finished", exitCode: 0)
        _ = try WandbSync.syncRun(directory: run.directory, environment: testEnvironment(server))
        let config = try JSONValue(parsing: try #require(server.run("testrun1")?.config))
        #expect(config["warmup"]?["value"] == 500)
        #expect(config["lr"]?["value"] == 0.05)
    }
}

/// Reads YAML with the real PyYAML, as wandb's tooling reads `config.yaml`.
enum PythonYAML {
    struct Failed: Error, CustomStringConvertible { var description: String }

    static func load(_ text: String) throws -> JSONValue {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))"]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let problem = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failed(description: "PyYAML could not read config.yaml: " + String(decoding: problem, as: UTF8.self))
        }
        return try JSONValue(parsing: [UInt8](data))
    }
}

extension Array where Element == UInt8 {
    fileprivate func contains(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, count >= needle.count else { return false }
        return (0...(count - needle.count)).contains { self[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}
