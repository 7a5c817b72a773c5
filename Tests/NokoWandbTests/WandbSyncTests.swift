import Foundation
import NokoCore
@testable import NokoWandb
import NokoRemoteSync
import NokoWandbTestSupport
import Testing

/// The live engine end to end, against the loopback wandb server.
@Suite struct WandbSyncTests {
    @Test func createsTheRunStreamsRowsAndFinishes() throws {
        let server = try WandbTestServer()
        let run = RunFixture()
        let log = MessageLog()
        let records = Locked<[WandbRemoteRecord]>([])
        var options = testOptions(server)
        options.entity = nil
        options.group = "g"
        options.tags = ["t1", "t2"]
        options.notes = "some notes"
        options.jobType = "train"
        let sync = try started(WandbSync.start(
            options: options, run: run.runInfo(), environment: testEnvironment(server), messages: log.handler,
            onRecordChange: { record in records.update { $0.append(record) } }))
        for i in 0..<20 {
            run.log("train", ["loss": .double(1 / Double(i + 1)), "acc": .double(Double(i) * 0.1)])
            if i % 5 == 4 { run.log("eval", ["acc": .double(0.5 + Double(i) / 100)]) }
        }
        run.log("train", ["loss": .double(.nan), "inf": .double(.infinity)])
        sync.setSummary("best", to: 0.5)
        #expect(sync.finish(exitCode: 0) == .finished(url: "\(server.baseURL)/e/p/runs/testrun1"))

        let remote = try #require(server.run("testrun1"))
        // UpsertBucket: the run's parameters first; entity null, filled in by the server.
        let first = try #require(remote.upserts.first)
        #expect(first["entity"] == .null)
        #expect(first["project"] == "p")
        #expect(first["displayName"] == .string(run.directory.lastPathComponent))
        #expect(first["groupName"] == "g")
        #expect(first["tags"] == ["t1", "t2"])
        #expect(first["notes"] == "some notes")
        #expect(first["jobType"] == "train")
        #expect(first["host"] == "testhost")
        #expect(first["program"] == "train.swift")
        #expect(first["commit"] == "2222222222222222222222222222222222222222")
        #expect(first["repo"] == "https://example.com/me/repo.git")
        let config = try JSONValue(parsing: try #require(remote.config))
        #expect(config["lr"] == ["value": 0.1])
        #expect(config["nested"] == ["value": ["a": 1]])
        // Each table got its x-axis, declared by a re-upsert when it first appeared.
        #expect(config["_wandb"]?["value"]?["m"] == [
            ["1": "train/$step", "6": [3], "7": []], ["2": "train/*", "5": 1, "6": [1], "7": []],
            ["1": "eval/$step", "6": [3], "7": []], ["2": "eval/*", "5": 3, "6": [1], "7": []],
        ])
        for later in remote.upserts.dropFirst() {
            #expect(later["entity"] == "e")
            #expect(later["host"] == .null)
        }

        // History: every row once, in journal order, `_step` = line offset.
        #expect(remote.gaps.isEmpty)
        #expect(remote.changedLines == 0)
        let lines = parsedLines(remote)
        #expect(lines.count == 25)
        for (i, line) in lines.enumerated() { #expect(line["_step"] == .int(Int64(i))) }
        #expect(lines[0]["train/loss"] == 1)
        #expect(lines[0]["train/$step"] == 0)
        #expect(lines[0]["_timestamp"] == .double(run.startTime))
        #expect(lines[0]["_runtime"] == 0)
        #expect(lines[5]["eval/acc"] == .double(0.5 + 4.0 / 100))
        #expect(lines[5]["eval/$step"] == 0)
        #expect(lines[5]["train/loss"] == nil)
        #expect(lines[24]["train/$step"] == 20)
        #expect(remote.history[24]?.contains("\"train/loss\":NaN") == true)
        #expect(remote.history[24]?.contains("\"train/inf\":Infinity") == true)

        // ValueColumns: last value of every key, the user's key, and the bookkeeping.
        let summary = try ExtendedJSON.parse(try #require(remote.summary))
        #expect(summary["best"] == 0.5)
        #expect(summary["train/loss"] == "NaN")
        #expect(summary["train/acc"] == .double(19 * 0.1))
        #expect(summary["eval/acc"] == .double(0.5 + 19.0 / 100))
        #expect(summary["eval/$step"] == 3)
        #expect(summary["train/$step"] == 20)
        #expect(summary["_step"] == 24)
        // Runtime is the whole run's at finish (the fixture's run started days ago), not the last row's 10 s.
        let runtime = try #require(summary["_wandb"]?["runtime"]?.intValue)
        #expect(abs(Double(runtime) - (Date().timeIntervalSince1970 - run.startTime)) < 60, "\(runtime)")
        #expect(summary["_runtime"] == 10)
        #expect(remote.complete)
        #expect(remote.exitCode == 0)

        // Every request carried the key as Basic auth but the uploads of run files, which
        // carried none, and none came after `complete`.
        let requests = server.requests
        let uploads = requests.filter { if case .upload = $0.kind { true } else { false } }
        #expect(!uploads.isEmpty)
        #expect(uploads.allSatisfy { $0.header("Authorization") == nil })
        #expect(requests.filter { if case .upload = $0.kind { false } else { true } }.allSatisfy {
            $0.header("Authorization") == "Basic " + Data("api:\(server.apiKey)".utf8).base64EncodedString()
        })
        #expect(requests.last?.json?["complete"] == true)

        // The record for metadata.json, and the state on disk.
        let record = WandbRemoteRecord(entity: "e", project: "p", runID: "testrun1", url: "\(server.baseURL)/e/p/runs/testrun1", mode: "online")
        #expect(sync.record == record)
        #expect(records.value.last == record)
        #expect(record.jsonValue == ["entity": "e", "project": "p", "run_id": "testrun1", "url": .string(record.url!), "mode": "online"])
        let state = try #require(run.syncState)
        #expect(state["journals"]?["noko.ndjson"]?["offset"] == .int(run.journalSize))
        #expect(state["history_lines"] == 25)
        #expect(state["finished"] == true)
        #expect(state["exit_code"] == 0)
        #expect(state["run_id"] == "testrun1")
        #expect(state["entity"] == "e")
        #expect(state["tables"] == ["train", "eval"])
        #expect(state["user_summary"] == ["best": 0.5])
        #expect(log.texts(atLeast: .warning).isEmpty)
    }

    @Test func isOffUnlessAskedForAndOnlyRankZeroSyncs() throws {
        let run = RunFixture()
        #expect(WandbSync.start(options: nil, run: run.runInfo(), environment: [:]) == nil)
        var info = run.runInfo()
        info.rank = 1
        #expect(WandbSync.start(options: WandbOptions(mode: .offline), run: info, environment: [:]) == nil)
        #expect(!FileManager.default.fileExists(atPath: run.directory.appendingPathComponent("sync").path))
    }

    @Test func offlineRecordsLocallyAndSyncRunUploadsLater() throws {
        let server = try WandbTestServer()
        let run = RunFixture(status: "running")
        let log = MessageLog()
        var options = testOptions(server)
        options.mode = .offline
        let sync = try started(WandbSync.start(options: options, run: run.runInfo(), environment: [:], messages: log.handler))
        #expect(sync.mode == .offline)
        for i in 0..<30 { run.log("train", ["x": .int(Int64(i))]) }
        sync.setSummary("best", to: ["epoch": 3, "loss": 0.25])
        let result = sync.finish(exitCode: 0)
        #expect(result == .leftForLater(command: WandbSync.syncCommand(for: run.directory), reason: "offline mode"))
        #expect(server.requests.isEmpty)
        #expect(log.texts(atLeast: .info).contains { $0.contains("noko-run sync \(run.directory.path)") })
        run.writeMetadata(status: "finished", exitCode: 0)

        let progress = Locked<[WandbSyncProgress]>([])
        let report = try WandbSync.syncRun(
            directory: run.directory, environment: testEnvironment(server), messages: log.handler,
            progress: { p in progress.update { $0.append(p) } })
        #expect(report.rowsUploaded == 30)
        #expect(report.historyLines == 30)
        #expect(!report.alreadySynced)
        #expect(report.exitCode == 0)
        #expect(report.record.mode == "online")
        let remote = try #require(server.run("testrun1"))
        #expect(remote.lines.count == 30)
        #expect(remote.complete && remote.exitCode == 0)
        #expect(try ExtendedJSON.parse(remote.summary!)["best"] == ["epoch": 3, "loss": 0.25])
        #expect(progress.value.last == WandbSyncProgress(rowsUploaded: 30, bytesUploaded: run.journalSize, bytesTotal: run.journalSize))

        // A second sync has nothing to do and sends nothing.
        let before = server.requests.count
        let again = try WandbSync.syncRun(directory: run.directory, environment: testEnvironment(server), messages: log.handler)
        #expect(again.alreadySynced)
        #expect(server.requests.count == before)
    }

    @Test func syncRunCreatesARunForADirectoryThatNeverSynced() throws {
        let server = try WandbTestServer()
        let run = RunFixture(status: "failed", exitCode: 3)
        run.writeConfig(["lr": 0.01, "token": "<redacted>"])
        for i in 0..<5 { run.log("t", ["i": .int(Int64(i))]) }
        var options = WandbOptions(project: "later", baseURL: server.baseURL)
        options.runID = "fromdir1"
        let report = try WandbSync.syncRun(directory: run.directory, options: options, environment: testEnvironment(server), messages: { _ in })
        #expect(report.exitCode == 3)
        let remote = try #require(server.run("fromdir1"))
        #expect(remote.project == "later")
        #expect(remote.lines.count == 5)
        #expect(remote.exitCode == 3)
        #expect(try JSONValue(parsing: remote.config!)["token"] == ["value": "<redacted>"])
        #expect(remote.upserts.first?["displayName"] == .string(run.directory.lastPathComponent))
        // The dashboard's commit is HEAD (others can open it); the checkpoint is in _wandb.
        #expect(remote.upserts.first?["commit"] == "1111111111111111111111111111111111111111")
        #expect(try JSONValue(parsing: remote.config!)["_wandb"]?["value"]?["noko"]?["checkpoint"] == "2222222222222222222222222222222222222222")
    }

    @Test func theSystemTableFeedsTheSystemTabNotTheCharts() throws {
        let server = try WandbTestServer()
        let run = RunFixture(status: "finished", exitCode: 0)
        run.log("train", ["loss": 1.0])
        let gib = 1_073_741_824.0
        for i in 0..<3 {
            run.log("system", [
                "process/cpu_percent": .double(150), "cpu/cores": .int(4), "process/threads": .int(Int64(5 + i)),
                "process/rss_bytes": .double(0.5 * gib), "memory/used_bytes": .double(6 * gib),
                "memory/total_bytes": .double(24 * gib), "memory/available_bytes": .double(18 * gib),
                "network/sent_bytes": .int(1000 * Int64(i)), "load/1m": .double(0.5),
                "gpu/0/utilization_percent": .double(87), "gpu/0/memory_used_bytes": .double(4 * gib),
                "gpu/0/memory_total_bytes": .double(16 * gib),
            ])
        }
        run.log("train", ["loss": 0.5])
        var options = WandbOptions(project: "p", baseURL: server.baseURL)
        options.runID = "system1"
        _ = try WandbSync.syncRun(directory: run.directory, options: options, environment: testEnvironment(server), messages: { _ in })
        let remote = try #require(server.run("system1"))
        #expect(remote.lines.count == 2, "only the train rows are history")
        #expect(!(remote.summary ?? "").contains("system/"), "system keys stay out of the summary")
        #expect(remote.events.count == 3 && remote.eventGaps.isEmpty)
        let event = try JSONValue(parsing: remote.events[2])
        #expect(event["_wandb"] == true)
        #expect(event["system.cpu"] == 37.5, "150 % of one core on 4 cores")
        #expect(event["system.proc.cpu.threads"] == 7)
        #expect(event["system.proc.memory.rssMB"] == 512)
        #expect(event["system.memory_percent"] == 25)
        #expect(event["system.proc.memory.availableMB"] == 18432)
        #expect(event["system.network.sent"] == 2000)
        #expect(event["system.gpu.0.gpu"] == 87)
        #expect(event["system.gpu.0.memoryAllocated"] == 25)
        #expect(event["system.load/1m"] == nil && event["load/1m"] == nil, "no System-tab name, not sent")
        #expect(event["_timestamp"] != nil && event["_runtime"] != nil)
    }

    @Test func theDashboardsRuntimeIsTheWholeRunNotTheLastRow() throws {
        let server = try WandbTestServer()
        let run = RunFixture(status: "finished", exitCode: 0)
        for i in 0..<4 { run.log("t", ["i": .int(Int64(i))]) }  // rows at +0 … +1.5 s
        // The run went on for 95 s after its last row (an evaluation, a checkpoint save).
        run.writeMetadata(status: "finished", exitCode: 0, extra: ["end_time": .double(run.startTime + 96.7)])
        var options = WandbOptions(project: "p", baseURL: server.baseURL)
        options.runID = "runtime1"
        _ = try WandbSync.syncRun(directory: run.directory, options: options, environment: testEnvironment(server), messages: { _ in })
        let remote = try #require(server.run("runtime1"))
        let summary = try JSONValue(parsing: try #require(remote.summary))
        #expect(summary["_wandb"]?["runtime"] == 96, "\(summary)")
        #expect(summary["_runtime"] == 1.5, "the last row's own _runtime is kept")
    }

    @Test func syncRunRefusesWhatItCannotDo() throws {
        let server = try WandbTestServer()
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        #expect(throws: WandbSyncError.notARunDirectory(empty.path)) {
            try WandbSync.syncRun(directory: empty, environment: testEnvironment(server))
        }
        let run = RunFixture(status: "finished", exitCode: 0)
        #expect(throws: WandbSyncError.noAPIKey(host: "127.0.0.1")) {
            try WandbSync.syncRun(directory: run.directory, options: WandbOptions(baseURL: server.baseURL), environment: ["HOME": "/nonexistent"], netrcPath: "/nonexistent")
        }
        #expect(throws: WandbSyncError.disabled) {
            try WandbSync.syncRun(directory: run.directory, environment: ["WANDB_MODE": "disabled"])
        }
        // A run whose process is alive on this host is not finished under its feet.
        run.writeMetadata(status: "running", extra: ["pid": .int(Int64(getpid())), "host": .null])
        #expect(throws: WandbSyncError.self) {
            try WandbSync.syncRun(directory: run.directory, options: WandbOptions(baseURL: server.baseURL), environment: testEnvironment(server))
        }
        // The live process holds the lock: `noko-run sync` waits its turn.
        let live = RunFixture(status: "finished", exitCode: 0)
        var options = testOptions(server)
        options.mode = .offline
        let sync = try started(WandbSync.start(options: options, run: live.runInfo(), environment: [:], messages: { _ in }))
        #expect {
            try WandbSync.syncRun(directory: live.directory, environment: testEnvironment(server), messages: { _ in })
        } throws: { error in
            guard case .busy(let message) = error as? WandbSyncError else { return false }
            return message.contains("pid \(getpid())")
        }
        sync.finish()
        _ = try WandbSync.syncRun(directory: live.directory, environment: testEnvironment(server), messages: { _ in })
        #expect(server.run("testrun1")?.complete == true)
        #expect(server.requests.allSatisfy { $0.kind != .other })
    }

    @Test func theAPIKeyReachesNoFileAndNoMessage() throws {
        let server = try WandbTestServer(apiKey: "0123456789abcdef0123456789abcdef01234567")
        let run = RunFixture()
        let log = MessageLog()
        var options = testOptions(server)
        options.debugHTTP = true
        server.inject(.status(500), on: .fileStream)
        server.inject(.status(401), on: .graphQL("UpsertBucket"), after: 2)
        let sync = try started(WandbSync.start(options: options, run: run.runInfo(), environment: testEnvironment(server), messages: log.handler))
        run.log("train", ["x": 1])
        #expect(server.wait { $0.run("testrun1")?.lines.count == 1 })
        run.log("eval", ["x": 2])  // a new table: the re-upsert gets the 401
        _ = sync.finish(exitCode: 0, timeout: .seconds(10))
        let basic = Data("api:\(server.apiKey)".utf8).base64EncodedString()
        let messages = log.all.map(\.text)
        #expect(messages.contains { $0.hasPrefix("http > POST /graphql") })
        #expect(messages.contains("http > Authorization: <redacted>"))
        #expect(messages.contains { $0.contains("wandb rejected the API key") })
        for text in messages {
            #expect(!text.contains(server.apiKey) && !text.contains(basic), "\(text)")
        }
        let files = run.allFiles()
        #expect(files.contains { $0.0 == "sync/wandb.json" })
        for (path, data) in files {
            let text = String(decoding: data, as: UTF8.self)
            #expect(!text.contains(server.apiKey) && !text.contains(basic), "the key is in \(path)")
        }
    }
}

extension WandbSyncTests {
    @Test func reportsStatusAndDrawsAProgressBar() throws {
        let server = try WandbTestServer()
        let run = RunFixture(status: "finished", exitCode: 0)
        #expect(try WandbSync.status(directory: run.directory) == nil)
        var options = testOptions(server)
        options.mode = .offline
        let sync = try started(WandbSync.start(options: options, run: run.runInfo(), environment: [:], messages: { _ in }))
        for i in 0..<4 { run.log("t", ["i": .int(Int64(i))]) }
        sync.finish()
        let pending = try #require(try WandbSync.status(directory: run.directory))
        #expect(pending.record.mode == "offline")
        #expect(pending.bytesUploaded == 0 && pending.bytesTotal == run.journalSize)
        #expect(!pending.isComplete)
        _ = try WandbSync.syncRun(directory: run.directory, environment: testEnvironment(server), messages: { _ in })
        let done = try #require(try WandbSync.status(directory: run.directory))
        #expect(done.isComplete && done.historyLines == 4 && done.exitCode == 0 && done.lastError == nil)
        #expect(done.record.url == "\(server.baseURL)/e/p/runs/testrun1")

        let half = WandbSyncProgress(rowsUploaded: 94_000, bytesUploaded: 46_000_000, bytesTotal: 92_000_000)
        #expect(half.bar(width: 10) == "[#####.....]  50%  94000 rows  46.0/92.0 MB")
        #expect(WandbSyncProgress(rowsUploaded: 0, bytesUploaded: 0, bytesTotal: 0).fraction == 1)
    }
}
