import Foundation
import NokoTestSupport
import NokoWandbTestSupport
import Testing

@testable import Noko

/// `initExtra` wires the checkpoint and the wandb mirror: checked end to end, in child
/// processes, against a loopback wandb server and a real git repository.
@Suite struct RunRemoteTests {
    @Test func aRunMirrorsItsConfigAndRowsOnWandb() throws {
        let server = try WandbTestServer()
        defer { server.stop() }
        let runs = temporaryDirectory()
        let child = try Child(
            ["extra", runs.path, "mirrored", "5"],
            environment: [
                "WANDB_MODE": "online", "WANDB_PROJECT": "proj", "WANDB_ENTITY": "team", "WANDB_BASE_URL": server.baseURL,
                "WANDB_API_KEY": server.apiKey,
            ])
        #expect(child.wait() == 0, "\(child.stderr)")
        let dir = runs.appendingPathComponent("mirrored")
        let metadata = try RunMetadata.read(from: dir)
        let remote = try #require(metadata.remotes?["wandb"])
        #expect(remote["entity"] == "team")
        #expect(remote["project"] == "proj")
        let runID = try #require(remote["run_id"]?.stringValue)
        let record = try #require(server.run(runID))
        #expect(record.complete)
        #expect(record.exitCode == 0)
        let config = try JSONValue(parsing: try #require(record.config))
        #expect(config["lr"]?["value"] == 0.1)
        #expect(config["apiKey"]?["value"] == "<redacted>", "secrets are redacted on wandb as in config.json")
        let history = try record.lines.map { try ExtendedJSON.parse($0) }
        let rows = history.filter { $0["t/i"] != nil }
        #expect(rows.compactMap { $0["t/i"]?.intValue } == [0, 1, 2, 3, 4])
        #expect(rows.compactMap { $0["t/$step"]?.intValue } == [0, 1, 2, 3, 4])
        // The config panel shows the config: its table stays in the journal.
        #expect(!history.contains { $0["config/lr"] != nil }, "the config table is not history")
        // The key never lands in the run directory.
        let files = FileManager.default.enumerator(atPath: dir.path)!.compactMap { $0 as? String }
        for file in files {
            let data = (try? Data(contentsOf: dir.appendingPathComponent(file))) ?? Data()
            #expect(data.range(of: Data(server.apiKey.utf8)) == nil, "\(file)")
        }
    }

    @Test func aConfigNameTagsAndNotesChangedDuringTheRunAreRecordedAndSent() throws {
        let server = try WandbTestServer()
        defer { server.stop() }
        let runs = temporaryDirectory()
        let child = try Child(
            ["extra", runs.path, "changed", "3"],
            environment: [
                "WANDB_MODE": "online", "WANDB_PROJECT": "proj", "WANDB_ENTITY": "team", "WANDB_BASE_URL": server.baseURL,
                "WANDB_API_KEY": server.apiKey, "WANDB_RUN_ID": "changed1", "NOKO_TEST_CONFIG_CHANGE": "1",
            ])
        #expect(child.wait() == 0, "\(child.stderr)")
        #expect(child.lines.contains("config error: the config cannot be encoded at 'when': a value of type Opaque is not Encodable"), "\(child.lines)")
        #expect(child.stderr.contains("config key 'optimizer/password'"), "the redaction warning names the key: \(child.stderr)")
        let dir = runs.appendingPathComponent("changed")

        // config.json holds the whole config, changed keys replaced, secrets redacted.
        let config = try #require(try ConfigFile.read(from: dir))
        #expect(config["lr"] == 0.05)
        #expect(config["seed"] == 7)
        #expect(config["warmup"] == 500)
        #expect(config["optimizer"] == ["lr": 0.003, "password": "<redacted>"])
        #expect(config["when"] == nil)
        #expect(config["apiKey"] == "<redacted>")

        // The config table has the start config and then the change, flattened.
        var rows: [JournalRecord] = []
        try JournalScanner.forEachRecord(RunLayout(dir).journal.path) { record in
            if record.table == ConfigTable.name { rows.append(record) }
            return true
        }
        #expect(rows.count == 2)
        let change = Dictionary(try #require(rows.last).members.map { ($0.0, $0.1) }, uniquingKeysWith: { $1 })
        #expect(change["warmup"] == .int(500))
        #expect(change["optimizer/lr"] == .double(0.003))
        #expect(change["optimizer/password"] == .string("<redacted>"))
        #expect(change["seed"] == nil, "only the changed keys")

        // wandb's config panel got the new config by a later UpsertBucket.
        let record = try #require(server.run("changed1"))
        let remote = try JSONValue(parsing: try #require(record.config))
        #expect(remote["warmup"]?["value"] == 500)
        #expect(remote["lr"]?["value"] == 0.05)
        #expect(remote["optimizer"]?["value"]?["password"] == "<redacted>")
        #expect(remote["apiKey"]?["value"] == "<redacted>")
        #expect(record.upserts.contains { ($0["config"]?.stringValue ?? "").contains("\"warmup\"") })
        #expect(record.complete)

        // The new name, tags and notes reached the dashboard; the bad tags were left out.
        let described = try #require(record.upserts.last { $0["displayName"] == "renamed" })
        #expect(described["tags"] == ["a", "b"])
        #expect(described["notes"] == "changed")
        #expect(child.stderr.contains("tag ' ' is empty; left out"))
        #expect(child.stderr.contains("tag 'a' is given twice; left out"))
    }

    @Test func stopOnTheDashboardEndsALoopThatNeverPollsAsKilled() throws {
        let server = try WandbTestServer()
        defer { server.stop() }
        let runs = temporaryDirectory()
        let child = try Child(
            ["extra", runs.path, "stopped", "forever"],
            environment: [
                "WANDB_MODE": "online", "WANDB_PROJECT": "proj", "WANDB_ENTITY": "team", "WANDB_BASE_URL": server.baseURL,
                "WANDB_API_KEY": server.apiKey, "WANDB_RUN_ID": "stopme",
            ])
        #expect(child.waitFor { $0 == "logged 3" } != nil, "\(child.stderr)")
        server.requestStop(runID: "stopme")
        let status = child.wait()
        #expect(child.process.terminationReason == .uncaughtSignal && status == SIGTERM, "\(status) \(child.stderr)")
        #expect(child.stderr.contains("the run was stopped from the wandb UI; ending the program with SIGTERM"), "\(child.stderr)")
        let metadata = try RunMetadata.read(from: runs.appendingPathComponent("stopped"))
        #expect(metadata.status == "killed", "\(String(describing: metadata.status))")
    }

    @Test func aRunInARepositoryIsCheckpointed() throws {
        let repo = temporaryDirectory()
        func git(_ args: String...) throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["git", "-c", "user.name=T", "-c", "user.email=t@example.com"] + args
            p.currentDirectoryURL = repo
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "git \(args)")
        }
        try git("init", "-q", "-b", "main")
        try "print(1)\n".write(to: repo.appendingPathComponent("train.swift"), atomically: true, encoding: .utf8)
        try "runs/\n".write(to: repo.appendingPathComponent(".gitignore"), atomically: true, encoding: .utf8)
        try git("add", "-A")
        try git("commit", "-q", "-m", "first")
        try "print(2)\n".write(to: repo.appendingPathComponent("train.swift"), atomically: true, encoding: .utf8)
        let server = try WandbTestServer()
        defer { server.stop() }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: childPath)
        child.arguments = ["extra", repo.appendingPathComponent("runs").path, "coded", "1"]
        child.currentDirectoryURL = repo
        child.environment = [
            "NOKO_TEST_CHECKPOINT": "1", "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin",
            "WANDB_MODE": "online", "WANDB_PROJECT": "proj", "WANDB_ENTITY": "team", "WANDB_BASE_URL": server.baseURL,
            "WANDB_API_KEY": server.apiKey, "WANDB_RUN_ID": "coded1",
        ]
        child.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        child.standardError = err
        try child.run()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        #expect(child.terminationStatus == 0, "\(errors)")
        let dir = repo.appendingPathComponent("runs/coded")
        let git = try #require(try RunMetadata.read(from: dir).git)
        #expect(git["branch"] == "main")
        #expect(git["dirty"] == true)
        #expect(git["checkpoint"]?.stringValue?.count == 40)
        let diff = try String(contentsOf: dir.appendingPathComponent("from_head.diff"), encoding: .utf8)
        #expect(diff.contains("-print(1)") && diff.contains("+print(2)"))
        // wandb's commit link is HEAD, which everyone with the repository has; the checkpoint
        // (only in this repository) rides in the config's _wandb.
        let record = try #require(server.run("coded1"))
        #expect(record.upserts.first?["commit"] == git["head"])
        let config = try JSONValue(parsing: try #require(record.config))
        #expect(config["_wandb"]?["value"]?["noko"]?["checkpoint"] == git["checkpoint"])
    }
}
