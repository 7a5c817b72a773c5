import Foundation
import NokoRemoteSync
import NokoTestSupport
import Testing

@testable import Noko
@testable import NokoMLflow

/// The MLflow remote against a real `mlflow server` (SQLite, one for the suite; PostgreSQL and
/// a restarted server in tests of their own). Under
/// `make test` (`NOKO_REQUIRE_INTEROP=1`) a missing `mlflow` fails them; a bare `swift test`
/// skips them.
@Suite(.serialized, .enabled(if: MLflowServer.isAvailable, "needs Python's mlflow (pip install mlflow==3.17.2)"))
struct MLflowTests {
    @Test func aRunMirrorsItsConfigRowsChangesAndStatusOnARealServer() throws {
        let server = try MLflowServer.shared()
        let runs = temporaryDirectory()
        let child = try Child(
            ["extra", runs.path, "mlrun", "5"],
            environment: [
                "MLFLOW_TRACKING_URI": server.baseURL, "MLFLOW_EXPERIMENT_NAME": "noko-tests", "NOKO_TEST_CONFIG_CHANGE": "1",
                "MLFLOW_TRACKING_PASSWORD": "not-a-real-password-0123", "NOKO_SYSTEM": "0.2", "NOKO_TEST_MLFLOW_INTERVAL_MS": "200",
                "NOKO_TEST_MLFLOW_TABLES": "1",
            ])
        #expect(child.wait() == 0, "\(child.stderr)")
        let dir = runs.appendingPathComponent("mlrun")
        let metadata = try RunMetadata.read(from: dir)
        let record = try #require(metadata.remotes?["mlflow"])
        let runID = try #require(record["run_id"]?.stringValue)
        let experimentID = try #require(record["experiment_id"]?.stringValue)
        #expect(record["url"]?.stringValue == "\(server.baseURL)/#/experiments/\(experimentID)/runs/\(runID)")
        #expect(try server.api("experiments/get?experiment_id=\(experimentID)")["experiment"]?["name"] == "noko-tests")

        let run = try server.run(runID)
        #expect(run.info["status"] == "FINISHED")
        #expect(run.info["end_time"]?.intValue ?? 0 > run.info["start_time"]?.intValue ?? .max)
        // The start config as params (secrets redacted), the change as tags.
        #expect(run.params["lr"] == "0.1")
        #expect(run.params["nested/depth"] == "3")
        #expect(run.params["apiKey"] == "<redacted>")
        #expect(run.tags["noko.config.lr"] == "0.05")
        #expect(run.tags["noko.config.warmup"] == "500")
        #expect(run.tags["noko.config.optimizer/password"] == "<redacted>")
        #expect(child.stderr.contains("MLflow params cannot change, so the new values are tags noko.config.<key>"))
        // Name, tags and notes from run.updateDescription; noko's own tags.
        #expect(run.info["run_name"] == "renamed")
        #expect(run.tags["a"] == "" && run.tags["b"] == "")
        #expect(run.tags["mlflow.note.content"] == "changed")
        #expect(run.tags["mlflow.source.name"] == "noko-test-child")
        #expect(run.tags["noko.run_dir"] == dir.path)
        // Rows as metrics table/key, at the row's step; the config table is not a metric.
        #expect(try server.history(runID, "t/i").map(\.step) == [0, 1, 2, 3, 4, 5])
        #expect(try server.history(runID, "t/i").map { $0.value.doubleValue } == [0, 1, 2, 3, 4, 5])
        #expect(try server.history(runID, "t/x").map { $0.value.doubleValue } == [0, 0.5, 1, 1.5, 2, 0])
        #expect(!run.metrics.keys.contains { $0.hasPrefix("config/") })
        // Every numeric column: as many points as the journal has rows of its table.
        let rows = try journal(dir)
        for key in ["i", "x", "r"] { #expect(try server.history(runID, "t/" + key).count == rows.filter { $0["$table"] == "t" }.count, "t/\(key)") }
        // The system table under MLflow's own names, the rest beside them.
        let systemRows = rows.filter { $0["$table"] == "system" }
        #expect(!systemRows.isEmpty)
        for (key, column) in [
            ("system/cpu_utilization_percentage", "cpu/percent"), ("system/system_memory_usage_megabytes", "memory/used_bytes"),
            ("system/system_memory_usage_percentage", "memory/used_bytes"), ("system/process/rss_bytes", "process/rss_bytes"),
        ] {
            let sampled = systemRows.filter { $0[column]?.doubleValue != nil }.count
            let points = try server.history(runID, key).count
            #expect(sampled > 0 && points == sampled, "\(key): \(points) points, \(sampled) samples")
        }
        let memory = try server.history(runID, "system/system_memory_usage_megabytes").first?.value.doubleValue ?? 0
        #expect(abs(memory - (systemRows[0]["memory/used_bytes"]?.doubleValue ?? 0) / 1e6) < 1e-6)
        #expect(run.metrics["system/memory/used_bytes"] == nil, "a renamed column is not sent twice")
        // Artifacts: the files as they are in the run directory (metadata.json as it ended).
        let artifacts = try server.artifacts(runID, experimentID: experimentID)
        #expect(
            Set(artifacts.keys) == [
                "config.json", "overrides.json", "Package.resolved", "metadata.json", "output.log", "tables/t.csv", "tables/system.csv",
                "tables/config.csv",
            ], "\(artifacts.keys.sorted())")
        for (name, local) in [("config.json", "config.json"), ("overrides.json", "overrides.json"), ("output.log", "output.log"), ("tables/t.csv", "t.csv")] {
            #expect(artifacts[name] == Array(try Data(contentsOf: dir.appendingPathComponent(local))), "\(name)")
        }
        let uploadedMetadata = try JSONValue(parsing: artifacts["metadata.json"] ?? [])
        #expect(uploadedMetadata["status"] == "finished")
        #expect(uploadedMetadata["remotes"]?["mlflow"]?["run_id"]?.stringValue == runID)
        // MLflow's own Python client reads the same run.
        let python = try pythonClient(server, """
            r = c.get_run(run_id)
            h = c.get_metric_history(run_id, "t/i")
            print(json.dumps({"status": r.info.status, "lr": r.data.params.get("lr"), "steps": [m.step for m in h], "artifacts": sorted(a.path for a in c.list_artifacts(run_id))}))
            """, runID: runID)
        #expect(python["status"] == "FINISHED")
        #expect(python["lr"] == "0.1")
        #expect(python["steps"] == [0, 1, 2, 3, 4, 5])
        #expect(python["artifacts"] == ["Package.resolved", "config.json", "metadata.json", "output.log", "overrides.json", "tables"])
        // The password is in no file of the run and in no message.
        #expect(!child.stderr.contains("not-a-real-password-0123"))
        let files = FileManager.default.enumerator(atPath: dir.path)!.compactMap { $0 as? String }
        for file in files {
            let data = (try? Data(contentsOf: dir.appendingPathComponent(file))) ?? Data()
            #expect(data.range(of: Data("not-a-real-password-0123".utf8)) == nil, "\(file)")
        }
    }

    @Test func syncToMLflowMapsKeysAndNonFiniteValuesAndContinuesWithoutDoubling() throws {
        let server = try MLflowServer.shared()
        let dir = temporaryDirectory().appendingPathComponent("offline")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let start = 1_795_769_873.0
        func metadata(_ status: String) throws {
            let value: JSONValue = [
                "format_version": 1, "run_name": "offline", "status": .string(status), "start_time": .double(start),
                "end_time": .double(start + 60), "exit_code": status == "finished" ? 0 : .null, "program": "train",
                "git": ["head": "1111111111111111111111111111111111111111", "branch": "main", "remote_url": "https://ana:ghp-secret-token@example.com/me/repo.git"],
            ]
            try Data(value.serializedBytes()).write(to: dir.appendingPathComponent("metadata.json"))
        }
        try metadata("crashed")
        try Data(#"{"lr": 0.1, "layers": [64, 32], "name": "baseline"}"#.utf8).write(to: dir.appendingPathComponent("config.json"))
        let journal = dir.appendingPathComponent("noko.ndjson")
        func append(_ rows: Range<Int>) throws {
            var text = ""
            for i in rows {
                text += #"{"$table":"train","$step":\#(i),"$level":20,"$utc_timestamp":\#(start + Double(i)),"loss":\#(i == 2 ? "\"NaN\"" : "\(1.0 / Double(i + 1))"),"x[0]":\#(i),"inf":"Infinity","note":"text"}"# + "\n"
            }
            let handle = FileManager.default.fileExists(atPath: journal.path) ? try FileHandle(forWritingTo: journal) : nil
            if let handle {
                handle.seekToEndOfFile()
                handle.write(Data(text.utf8))
                try handle.close()
            } else {
                try Data(text.utf8).write(to: journal)
            }
        }
        try append(0..<5)
        let environment = ["MLFLOW_TRACKING_URI": server.baseURL + "/", "MLFLOW_EXPERIMENT_NAME": "synced"]
        var messages: [String] = []
        let collected = Locked<[String]>([])
        let report = try MLflowSync.syncRun(directory: dir, environment: environment, messages: { m in collected.withLock { $0.append(m.text) } })
        messages = collected.withLock { $0 }
        #expect(report.rowsUploaded == 5)
        let runID = try #require(report.record.runID)
        var run = try server.run(runID)
        #expect(run.info["status"] == "FAILED", "a crashed run ends failed")
        #expect(run.info["end_time"]?.intValue == Int64((start + 60) * 1000))
        #expect(run.params["layers"] == "[64,32]")
        #expect(run.tags["mlflow.source.git.commit"] == "1111111111111111111111111111111111111111")
        #expect(run.tags["mlflow.source.git.branch"] == "main")
        #expect(run.tags["mlflow.source.git.repoURL"] == "https://example.com/me/repo.git", "without credentials")
        #expect(run.params["name"] == "baseline")
        // `x[0]` maps reversibly (`[` is 5b, `]` 5d); strings are not metrics.
        #expect(try server.history(runID, "train/x:5b0:5d").map { $0.value.doubleValue } == [0, 1, 2, 3, 4])
        #expect(run.metrics["train/note"] == nil)
        let loss = try server.history(runID, "train/loss")
        #expect(loss.count == 5)
        #expect(loss[2].value.doubleValue?.isNaN == true || loss[2].value.stringValue == "NaN", "\(loss[2].value)")
        let inf = try server.history(runID, "train/inf")
        // MLflow's SQL store keeps ±infinity as ±Double.greatestFiniteMagnitude.
        #expect(inf.first?.value.doubleValue == .greatestFiniteMagnitude, "\(String(describing: inf.first))")
        #expect(messages.filter { $0.contains("metric train/loss: nan goes up as MLflow stores it (NaN)") }.count == 1, "one warning per key: \(messages)")
        #expect(messages.filter { $0.contains("metric train/inf: inf goes up as MLflow stores it (1.8e308") }.count == 1, "\(messages)")

        // Again: nothing new. Then the run goes on (resumed) and is synced once more.
        #expect(try MLflowSync.syncRun(directory: dir, environment: environment, messages: { _ in }).alreadySynced)
        try append(5..<8)
        try metadata("finished")
        let again = try MLflowSync.syncRun(directory: dir, environment: environment, messages: { _ in })
        #expect(again.rowsUploaded == 3)
        #expect(again.record.runID == runID)
        run = try server.run(runID)
        #expect(run.info["status"] == "FINISHED")
        #expect(try server.history(runID, "train/x:5b0:5d").map(\.step) == Array(0..<8).map(Int64.init), "no row twice")
    }

    @Test func longValuesLongKeysAndAFiveThousandKeyRowGoUpAsDocumented() throws {
        let server = try MLflowServer.shared()
        let dir = temporaryDirectory().appendingPathComponent("wide")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let start = 1_795_769_873.0
        let metadata: JSONValue = [
            "format_version": 1, "run_name": "wide", "status": "finished", "start_time": .double(start), "end_time": .double(start + 5),
            "exit_code": 0,
        ]
        try Data(metadata.serializedBytes()).write(to: dir.appendingPathComponent("metadata.json"))
        let long = String(repeating: "abcdefghij", count: 700)
        let config: JSONValue = ["prompt": .string(long), "lr": 0.1]
        try Data(config.serializedBytes()).write(to: dir.appendingPathComponent("config.json"))
        let longKey = String(repeating: "k", count: 300)
        var wide: [String: JSONValue] = ["$table": "wide", "$step": 0, "$level": 20, "$utc_timestamp": .double(start)]
        for k in 0..<5000 { wide["w\(k)"] = .double(Double(k)) }
        let lines = [
            JSONValue.object(wide).serialized(),
            #"{"$table":"train","$step":0,"$level":20,"$utc_timestamp":\#(start + 1),"\#(longKey)":1.5,"loss":0.5}"#,
        ]
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: dir.appendingPathComponent("noko.ndjson"))
        let collected = Locked<[String]>([])
        let report = try MLflowSync.syncRun(
            directory: dir, environment: ["MLFLOW_TRACKING_URI": server.baseURL, "MLFLOW_EXPERIMENT_NAME": "wide"],
            messages: { m in collected.withLock { $0.append(m.text) } })
        let messages = collected.withLock { $0 }
        #expect(report.rowsUploaded == 2)
        let runID = try #require(report.record.runID)
        let run = try server.run(runID)
        #expect(run.info["status"] == "FINISHED")
        // 5,000 metrics of one row, in five requests: every one there.
        #expect(run.metrics.keys.filter { $0.hasPrefix("wide/w") }.count == 5000)
        #expect(run.metrics["wide/w4999"]?.doubleValue == 4999)
        // A param over MLflow's 6,000 characters is shortened, with a warning; the artifact is whole.
        #expect(run.params["prompt"]?.count == 6000)
        #expect(messages.contains { $0.contains("config key prompt: its value has 7000 characters, more than MLflow keeps (6000)") }, "\(messages)")
        let artifacts = try server.artifacts(runID, experimentID: try #require(report.record.experimentID))
        #expect(try JSONValue(parsing: artifacts["config.json"] ?? [])["prompt"]?.stringValue == long)
        // A key over 250 characters: its first 240, `~` and a hash, with one warning.
        let shortKey = try #require(run.metrics.keys.first { $0.hasPrefix("train/kkkk") })
        #expect(shortKey.count == 250 && shortKey.dropLast(8).hasSuffix("-"))
        #expect(run.metrics[shortKey]?.doubleValue == 1.5)
        #expect(messages.filter { $0.contains("more than MLflow takes (250); it goes up as \(shortKey)") }.count == 1, "\(messages)")
    }

    @Test func aResumedRunWhoseParamChangedIsWarnedAboutNeverFailed() throws {
        let server = try MLflowServer.shared()
        let runs = temporaryDirectory()
        var environment = [
            "MLFLOW_TRACKING_URI": server.baseURL, "MLFLOW_EXPERIMENT_NAME": "resumed", "NOKO_TEST_MLFLOW_INTERVAL_MS": "100",
            "NOKO_TEST_SEED": "1",
        ]
        let first = try Child(["extra", runs.path, "again", "2"], environment: environment)
        #expect(first.wait() == 0, "\(first.stderr)")
        environment["NOKO_TEST_RESUME"] = "1"
        environment["NOKO_TEST_SEED"] = "2"
        let second = try Child(["extra", runs.path, "again", "2"], environment: environment)
        #expect(second.wait() == 0, "\(second.stderr)")
        #expect(second.stderr.contains("config key seed: the MLflow run keeps its earlier value"), "\(second.stderr)")
        let record = try #require(try RunMetadata.read(from: runs.appendingPathComponent("again")).remotes?["mlflow"])
        let run = try server.run(try #require(record["run_id"]?.stringValue))
        #expect(run.params["seed"] == "1")
        #expect(run.params["lr"] == "0.1")
        #expect(run.info["status"] == "FINISHED")
        #expect(try server.history(try #require(record["run_id"]?.stringValue), "t/i").map(\.step) == [0, 1, 2, 3])
    }

    @Test func aKilledRunIsFinishedBySyncAndAReplayedUploadDoublesNothing() throws {
        let server = try MLflowServer.shared()
        try killThenSync(server: server, experiment: "killed")
    }

    @Test func aServerStoppedMidRunAndRestartedIsCompleteAfterSync() throws {
        let server = try MLflowServer()
        defer { server.stop() }
        let runs = temporaryDirectory()
        let child = try Child(
            ["extra", runs.path, "outage", "forever"],
            environment: ["MLFLOW_TRACKING_URI": server.baseURL, "MLFLOW_EXPERIMENT_NAME": "outage", "NOKO_TEST_MLFLOW_INTERVAL_MS": "100"])
        defer { child.signal(SIGKILL) }
        _ = child.waitFor { $0 == "logged 300" }
        let dir = runs.appendingPathComponent("outage")
        let cursor = dir.appendingPathComponent("sync/mlflow.json")
        #expect(try waitUntil { ((try? readJSON(cursor))?["rows_uploaded"]?.intValue ?? 0) > 0 }, "some rows went up before the outage")
        server.stop()
        let before = child.lastLogged ?? 0
        _ = child.waitFor { $0 == "logged \(before + 2000)" }
        child.signal(SIGTERM)
        #expect(child.wait() != 0)
        #expect(child.stderr.contains("noko-run sync --to mlflow"), "\(child.stderr)")
        try server.restart()
        let report = try MLflowSync.syncRun(directory: dir, environment: ["MLFLOW_TRACKING_URI": server.baseURL], messages: { _ in })
        let runID = try #require(report.record.runID)
        let rows = try journal(dir).filter { $0["$table"] == "t" }
        #expect(rows.count > before + 2000)
        let steps = try server.history(runID, "t/i").map(\.step)
        let expected = rows.map { $0["$step"]?.intValue ?? -1 }
        #expect(steps == expected, "no gap, no duplicate: \(gaps(steps, expected))")
        #expect(try server.run(runID).info["status"] == "KILLED")
    }

    @Test(.enabled(if: PostgresServer.isAvailable, "needs root, postgresql and psycopg2-binary"))
    func theTeamSetupPostgreSQLAndTheArtifactProxy() throws {
        let postgres = try PostgresServer()
        defer { postgres.stop() }
        let server = try MLflowServer(backendStoreURI: try postgres.database("mlflow"))
        defer { server.stop() }
        try killThenSync(server: server, experiment: "team")
    }

    /// A child logging to `server` is killed with SIGKILL, `noko-run sync --to mlflow` finishes
    /// the run; then the cursor is rewound and the whole run uploaded again, which the server's
    /// database store takes as the points it has (same key, step, timestamp and value).
    private func killThenSync(server: MLflowServer, experiment: String) throws {
        let runs = temporaryDirectory()
        let child = try Child(
            ["extra", runs.path, "killed", "forever"],
            environment: [
                "MLFLOW_TRACKING_URI": server.baseURL, "MLFLOW_EXPERIMENT_NAME": experiment, "NOKO_TEST_MLFLOW_INTERVAL_MS": "50",
                "NOKO_SYSTEM": "0.1",
            ])
        _ = child.waitFor { $0 == "logged 3000" }
        child.signal(SIGKILL)
        _ = child.wait()
        let dir = runs.appendingPathComponent("killed")
        // `noko-run sync` sends the run where it was mirrored, the server of its cursor.
        let synced = try program(productPath("noko-run"), ["sync", dir.path, "--json"], environment: ["MLFLOW_TRACKING_URI": ""])
        #expect(synced.status == 0, "\(synced.stderr)")
        let entries = try JSONValue(parsing: Array(synced.stdout.utf8))["runs"]?.arrayValue ?? []
        #expect(entries.count == 1 && entries.first?["remote"] == "mlflow" && entries.first?["ok"] == true, "\(synced.stdout)")
        let report = try MLflowSync.syncRun(directory: dir, environment: ["MLFLOW_TRACKING_URI": server.baseURL], messages: { _ in })
        #expect(report.alreadySynced)
        let runID = try #require(report.record.runID)
        // `noko-run show` lists the MLflow run under remote, its upload complete.
        let shown = try program(productPath("noko-run"), ["show", dir.path, "--json"])
        let remote = try JSONValue(parsing: Array(shown.stdout.utf8))["remote"]?["mlflow"]
        #expect(remote?["url"]?.stringValue == report.record.url)
        #expect(remote?["sync"]?["complete"] == true, "\(String(describing: remote))")
        let text = try program(productPath("noko-run"), ["show", dir.path], environment: ["NO_COLOR": "1"]).stdout
        #expect(text.contains("mlflow") && text.contains(report.record.url ?? "-") && text.contains("complete: "), "\(text)")
        let rows = try journal(dir).filter { $0["$table"] == "t" }
        #expect(rows.count >= 3000)
        func check() throws {
            for key in ["i", "x"] {
                let history = try server.history(runID, "t/" + key)
                #expect(history.map(\.step) == rows.map { $0["$step"]?.intValue ?? -1 }, "t/\(key): no gap, no duplicate")
                #expect(history.map { $0.value.doubleValue } == rows.map { $0[key]?.doubleValue }, "t/\(key): the journal's values")
            }
        }
        try check()
        #expect(try server.run(runID).info["status"] == "FAILED", "a run killed by SIGKILL ended without an exit code")
        let artifacts = try server.artifacts(runID, experimentID: try #require(report.record.experimentID))
        #expect(artifacts["output.log"] == Array(try Data(contentsOf: dir.appendingPathComponent("output.log"))))
        // Replayed from the start: nothing doubles.
        let cursor = dir.appendingPathComponent("sync/mlflow.json")
        var state = try readJSON(cursor).objectValue ?? [:]
        state["journals"] = .object([:])
        state["rows_uploaded"] = 0
        state["finished"] = false
        try Data(JSONValue.object(state).serializedBytes()).write(to: cursor)
        let again = try MLflowSync.syncRun(directory: dir, environment: ["MLFLOW_TRACKING_URI": server.baseURL], messages: { _ in })
        #expect(again.rowsUploaded > 0)
        try check()
    }

    @Test func credentialsComeFromTheEnvironmentAsMLflowsClientReadsThem() throws {
        func settings(_ environment: [String: String]) -> MLflowSettings? {
            if case .on(let settings) = MLflowSettings.resolve(options: nil, environment: environment) { return settings }
            return nil
        }
        let token = settings(["MLFLOW_TRACKING_URI": "https://user:pw@mlflow.example/", "MLFLOW_TRACKING_TOKEN": "tok-0123456789"])
        #expect(token?.token == "tok-0123456789" && token?.username == nil)
        #expect(token?.trackingURI == "https://mlflow.example", "no credentials and no trailing slash in the URI")
        let basic = settings([
            "MLFLOW_TRACKING_URI": "http://127.0.0.1:5000", "MLFLOW_TRACKING_USERNAME": "u", "MLFLOW_TRACKING_PASSWORD": "p",
            "MLFLOW_TRACKING_TOKEN": "tok-0123456789",
        ])
        #expect(basic?.username == "u" && basic?.password == "p" && basic?.token == nil, "basic auth wins, as in MLflow's client")
        #expect(settings(["MLFLOW_TRACKING_TOKEN": "tok"]) == nil, "no server, no mirror")
    }

    @Test func aServerThatIsDownNeitherBlocksNorEndsTheRun() throws {
        let runs = temporaryDirectory()
        let child = try Child(
            ["extra", runs.path, "nomlflow", "3"],
            environment: ["MLFLOW_TRACKING_URI": "http://127.0.0.1:9", "NOKO_TEST_HEARTBEAT_MS": "200", "NOKO_TEST_MLFLOW_INTERVAL_MS": "100"])
        _ = child.waitFor { $0 == "logged 2" }
        let rowsDone = Date()
        #expect(child.wait() == 0, "\(child.stderr)")
        // `finish()` gave up after MLflowOptions.finishTimeout (5 s), not the run's 30 s.
        #expect(Date().timeIntervalSince(rowsDone) < 20, "finish took \(Date().timeIntervalSince(rowsDone)) s")
        #expect(child.lines.contains("logged 2"))
        #expect(child.stderr.contains("noko-run sync --to mlflow"), "the message says how to finish the upload: \(child.stderr)")
        // Started offline, finished later against a server that is up.
        let server = try MLflowServer.shared()
        let report = try MLflowSync.syncRun(
            directory: runs.appendingPathComponent("nomlflow"), environment: ["MLFLOW_TRACKING_URI": server.baseURL], messages: { _ in })
        let runID = try #require(report.record.runID)
        #expect(try server.history(runID, "t/i").map(\.step) == [0, 1, 2])
        #expect(try server.run(runID).info["status"] == "FINISHED")
        let badURI = try Child(["extra", runs.path, "filestore", "1"], environment: ["MLFLOW_TRACKING_URI": "file:///tmp/mlruns"])
        #expect(badURI.wait() == 0)
        #expect(badURI.stderr.contains("is not a server"), "\(badURI.stderr)")
    }

    /// What `steps` lacks and holds twice, against `expected`, for a failure's message.
    private func gaps(_ steps: [Int64], _ expected: [Int64]) -> String {
        let counts = Dictionary(steps.map { ($0, 1) }, uniquingKeysWith: +)
        let missing = expected.filter { counts[$0] == nil }
        let twice = counts.filter { $0.value > 1 }.keys.sorted()
        return "\(steps.count) points for \(expected.count) rows; missing \(missing.prefix(20)) (\(missing.count)), twice \(twice.prefix(20)) (\(twice.count))"
    }

    /// The journal's rows, in order.
    private func journal(_ dir: URL) throws -> [JSONValue] {
        let text = try String(contentsOf: dir.appendingPathComponent("noko.ndjson"), encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONValue(parsing: Array($0.utf8)) }
    }

    /// Runs `body` in Python with `c` an `mlflow.MlflowClient` of `server` and `run_id` set;
    /// returns the JSON it prints.
    private func pythonClient(_ server: MLflowServer, _ body: String, runID: String) throws -> JSONValue {
        let script = "import json, mlflow\nc = mlflow.MlflowClient(\"\(server.baseURL)\")\nrun_id = \"\(runID)\"\n" + body
        let result = try program("/usr/bin/env", ["python3", "-c", script])
        guard result.status == 0, let line = result.stdout.split(separator: "\n").last else {
            throw MLflowServer.Failed(description: "python: \(result.stderr.suffix(800))")
        }
        return try JSONValue(parsing: Array(line.utf8))
    }

    /// Runs a program to its end, its environment this process's with `environment` on top
    /// (an empty value removes the variable).
    private func program(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value.isEmpty ? nil : value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // stderr on its own thread, so neither pipe fills while the other is read.
        let errors = Locked<Data>(Data())
        let read = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let data = err.fileHandleForReading.readDataToEndOfFile()
            errors.withLock { $0 = data }
            read.signal()
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        read.wait()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self), String(decoding: errors.withLock { $0 }, as: UTF8.self))
    }

    private func productPath(_ name: String) -> String {
        URL(fileURLWithPath: childPath).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// Polls `condition` every 20 ms for at most 60 s.
    private func waitUntil(_ condition: () throws -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return false
    }
}
