import Foundation
import NokoRemoteSync
import NokoTestSupport
import Testing

@testable import Noko

/// The MLflow remote against a real `mlflow server` (SQLite), started per test. Under
/// `make test` (`NOKO_REQUIRE_INTEROP=1`) a missing `mlflow` fails them; a bare `swift test`
/// skips them.
@Suite(.serialized, .enabled(if: MLflowServer.isAvailable, "needs Python's mlflow (pip install mlflow==3.17.2)"))
struct MLflowTests {
    @Test func aRunMirrorsItsConfigRowsChangesAndStatusOnARealServer() throws {
        let server = try MLflowServer()
        defer { server.stop() }
        let runs = temporaryDirectory()
        let child = try Child(
            ["extra", runs.path, "mlrun", "5"],
            environment: [
                "MLFLOW_TRACKING_URI": server.baseURL, "MLFLOW_EXPERIMENT_NAME": "noko-tests", "NOKO_TEST_CONFIG_CHANGE": "1",
                "MLFLOW_TRACKING_PASSWORD": "not-a-real-password-0123",
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
        // The password is in no file of the run and in no message.
        #expect(!child.stderr.contains("not-a-real-password-0123"))
        let files = FileManager.default.enumerator(atPath: dir.path)!.compactMap { $0 as? String }
        for file in files {
            let data = (try? Data(contentsOf: dir.appendingPathComponent(file))) ?? Data()
            #expect(data.range(of: Data("not-a-real-password-0123".utf8)) == nil, "\(file)")
        }
    }

    @Test func syncToMLflowMapsKeysAndNonFiniteValuesAndContinuesWithoutDoubling() throws {
        let server = try MLflowServer()
        defer { server.stop() }
        let dir = temporaryDirectory().appendingPathComponent("offline")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let start = 1_795_769_873.0
        func metadata(_ status: String) throws {
            let value: JSONValue = [
                "format_version": 1, "run_name": "offline", "status": .string(status), "start_time": .double(start),
                "end_time": .double(start + 60), "exit_code": status == "finished" ? 0 : .null, "program": "train",
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

    @Test func aServerThatIsDownNeitherBlocksNorEndsTheRun() throws {
        let runs = temporaryDirectory()
        let child = try Child(
            ["extra", runs.path, "nomlflow", "3"],
            environment: ["MLFLOW_TRACKING_URI": "http://127.0.0.1:9", "NOKO_TEST_HEARTBEAT_MS": "200"])
        #expect(child.wait() == 0, "\(child.stderr)")
        #expect(child.lines.contains("logged 2"))
        #expect(child.stderr.contains("noko-run sync --to mlflow"), "the message says how to finish the upload: \(child.stderr)")
        let badURI = try Child(["extra", runs.path, "filestore", "1"], environment: ["MLFLOW_TRACKING_URI": "file:///tmp/mlruns"])
        #expect(badURI.wait() == 0)
        #expect(badURI.stderr.contains("is not a server"), "\(badURI.stderr)")
    }
}
