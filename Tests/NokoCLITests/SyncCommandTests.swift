import Foundation
import NokoCore
import NokoTestSupport
import NokoWandbTestSupport
import Testing

@testable import NokoCLI

@Suite struct SyncCommandTests {
    @Test func uploadsARunThenShowSaysItIsSynced() throws {
        let server = try WandbTestServer()
        let fixtures = Fixtures()
        try fixtures.finishedRun(wandb: false)
        let environment = [
            "WANDB_API_KEY": server.apiKey, "WANDB_BASE_URL": server.baseURL, "WANDB_ENTITY": "e", "WANDB_PROJECT": "p",
            "WANDB_RUN_ID": "run1", "HOME": "/nonexistent-home",
        ]
        let context = fixtures.context(environment: environment)
        let json = try JSONValue(parsing: fixtures.run(["sync", "runs/train_a", "--json"], context: context))
        let result = try #require(json["runs"]?.arrayValue?.first)
        #expect(result["ok"] == true)
        #expect(result["rows_uploaded"] == 133)
        #expect(result["already_synced"] == false)
        #expect(result["exit_code"] == 0)
        #expect(result["run_id"] == "run1")
        let remote = try #require(server.run("run1"))
        #expect(remote.history.count == 133)
        #expect(remote.complete)

        // Again: nothing left to upload.
        let again = try fixtures.run(["sync", "runs/train_a"], context: fixtures.context(environment: environment))
        #expect(again.hasPrefix("train_a: already synced (133 rows)"))

        let shown = try fixtures.run(["show", "runs/train_a"])
        #expect(shown.contains("  sync   complete: 133 rows uploaded"))
        let shownJSON = try JSONValue(parsing: fixtures.run(["show", "runs/train_a", "--json"]))
        #expect(shownJSON["remote"]?["wandb"]?["sync"]?["complete"] == true)
    }

    /// A deleted `sync/wandb.json` (hand-cleaned, or copied without it): the next sync must
    /// leave the server holding each row once.
    @Test func aDeletedCursorMustNotDuplicateRows() throws {
        let server = try WandbTestServer()
        let fixtures = Fixtures()
        let run = try fixtures.finishedRun(wandb: false)
        let environment = [
            "WANDB_API_KEY": server.apiKey, "WANDB_BASE_URL": server.baseURL, "WANDB_ENTITY": "e", "WANDB_PROJECT": "p",
            "WANDB_RUN_ID": "run2", "HOME": "/nonexistent-home",
        ]
        try fixtures.run(["sync", "runs/train_a"], context: fixtures.context(environment: environment))
        let first = try #require(server.run("run2")).history
        let cursor = RunLayout(run).syncCursor("wandb")
        #expect(FileManager.default.fileExists(atPath: cursor.path))
        try FileManager.default.removeItem(at: cursor)
        let json = try JSONValue(parsing: fixtures.run(["sync", "runs/train_a", "--json"], context: fixtures.context(environment: environment)))
        let result = try #require(json["runs"]?.arrayValue?.first)
        #expect(result["ok"] == true)
        #expect(result["rows_uploaded"] == 0, "the server had every row")
        let remote = try #require(server.run("run2"))
        #expect(remote.complete)
        // Without its cursor the engine reads the server's last lines (RunResumeStatus), finds
        // them to be the journal's, and continues after them: every row is there once.
        #expect(remote.history.count == 133)
        #expect(remote.history == first)
        #expect(remote.changedLines == 0 && remote.resentLines == 0)
    }

    @Test func aRunGoesWhereItWasMirroredUnlessToSaysOtherwise() throws {
        let run = temporaryDirectory().appendingPathComponent("r")
        let layout = RunLayout(run)
        try FileManager.default.createDirectory(at: layout.syncDirectory, withIntermediateDirectories: true)
        #expect(SyncCommand.destinations(nil, of: run) == [.wandb], "mirrored nowhere: wandb, as before")
        try Data("{}".utf8).write(to: layout.syncCursor("mlflow"))
        #expect(SyncCommand.destinations(nil, of: run) == [.mlflow])
        try Data("{}".utf8).write(to: layout.syncCursor("wandb"))
        #expect(SyncCommand.destinations(nil, of: run) == [.wandb, .mlflow])
        #expect(SyncCommand.destinations(.wandb, of: run) == [.wandb])
        #expect(SyncCommand.destinations(.all, of: temporaryDirectory()) == [.wandb, .mlflow])
    }

    @Test func failuresAreReportedAndExitWithOne() throws {
        let fixtures = Fixtures()
        try fixtures.finishedRun(wandb: false)
        let context = fixtures.context(environment: ["HOME": "/nonexistent-home", "WANDB_BASE_URL": "http://127.0.0.1:9"])
        do {
            try fixtures.run(["sync", "runs/train_a", "runs/missing"], context: context)
            Issue.record("sync without a key succeeded")
        } catch {
            #expect("\(error)" == "2 of 2 runs did not sync")
            #expect(NokoRun.exitStatus(for: error) == 1)
        }
        #expect(context.capturedError.contains("error: train_a (wandb): no wandb API key for"), "\(context.capturedError)")
        #expect(context.capturedError.contains("missing: no such run directory"))
    }
}
