import Foundation
import NokoCore
@testable import NokoWandb
import NokoRemoteSync
import NokoWandbTestSupport
import Testing

/// The engine against a misbehaving server: retries, fatal answers, slowness, drops,
/// restarts; in every case the server ends with each row exactly once, or sync stops
/// with one clear error while the journal goes on.
@Suite struct WandbSyncFaultTests {
    private func start(_ server: WandbTestServer, _ run: RunFixture, _ log: MessageLog, _ change: (inout WandbOptions) -> Void = { _ in }) throws -> WandbSync {
        var options = testOptions(server)
        change(&options)
        return try started(WandbSync.start(options: options, run: run.runInfo(), environment: testEnvironment(server), messages: log.handler))
    }

    /// Every journal row exactly once, in order, `_step` = offset.
    private func expectComplete(_ server: WandbTestServer, rows: Int, runID: String = "testrun1", exitCode: Int64? = 0) throws {
        let remote = try #require(server.run(runID))
        #expect(remote.gaps.isEmpty)
        #expect(remote.changedLines == 0)
        let lines = parsedLines(remote)
        #expect(lines.count == rows)
        for (i, line) in lines.enumerated() {
            #expect(line["_step"] == .int(Int64(i)))
            #expect(line["t/i"] == .int(Int64(i)), "line \(i): \(remote.history[i] ?? "missing")")
        }
        if let exitCode {
            #expect(remote.complete)
            #expect(remote.exitCode == exitCode)
        }
    }

    private func logRows(_ run: RunFixture, _ range: Range<Int>) {
        for i in range { run.log("t", ["i": .int(Int64(i))]) }
    }

    @Test func retries500sWithoutSendingAnythingElseMeanwhile() throws {
        let server = try WandbTestServer()
        server.inject(.status(500), on: .fileStream, times: 3)
        let run = RunFixture()
        let log = MessageLog()
        let sync = try start(server, run, log)
        logRows(run, 0..<10)
        #expect(sync.finish() == .finished(url: "\(server.baseURL)/e/p/runs/testrun1"))
        try expectComplete(server, rows: 10)
        let streams = server.requests.filter { if case .fileStream = $0.kind { return true } else { return false } }
        #expect(Array(streams.prefix(3).map(\.status)) == [500, 500, 500])
        // The retried request is the failed one, byte for byte.
        #expect(streams[0].body == streams[1].body && streams[1].body == streams[3].body)
        #expect(log.texts(atLeast: .warning).filter { $0.contains("HTTP 500") }.count == 1)
    }

    @Test func honoursRetryAfterOn429() throws {
        let server = try WandbTestServer()
        server.inject(.status(429, retryAfter: "1"), on: .fileStream)
        let run = RunFixture()
        let sync = try start(server, run, MessageLog())
        logRows(run, 0..<3)
        #expect(sync.finish() == .finished(url: "\(server.baseURL)/e/p/runs/testrun1"))
        let streams = server.requests.filter { if case .fileStream = $0.kind { return true } else { return false } }
        #expect(streams[0].status == 429)
        #expect(streams[1].time - streams[0].time >= 0.95)
        try expectComplete(server, rows: 3)
    }

    @Test func retriesTheRunsCreation() throws {
        let server = try WandbTestServer()
        server.inject(.status(500), on: .graphQL("UpsertBucket"), times: 2)
        server.inject(.drop(afterApplying: false), on: .graphQL("UpsertBucket"))
        let run = RunFixture()
        let sync = try start(server, run, MessageLog())
        logRows(run, 0..<4)
        #expect(sync.finish() == .finished(url: "\(server.baseURL)/e/p/runs/testrun1"))
        try expectComplete(server, rows: 4)
    }

    @Test func a400StopsSyncWithOneErrorAndLoggingGoesOn() throws {
        let server = try WandbTestServer()
        server.inject(.status(400), on: .fileStream)
        let run = RunFixture()
        let log = MessageLog()
        let sync = try start(server, run, log)
        logRows(run, 0..<5)
        #expect(server.wait { $0.requests.contains { $0.status == 400 } })
        let sent = server.requests.count
        logRows(run, 5..<10)  // the journal does not care
        let result = sync.finish()
        guard case .leftForLater(let command, let reason) = result else {
            Issue.record("finished despite a 400: \(result)")
            return
        }
        #expect(command == "noko-run sync \(run.directory.path)")
        #expect(reason.contains("HTTP 400"))
        #expect(server.requests.count == sent)
        #expect(server.run("testrun1")?.complete == false)
        let errors = log.texts(atLeast: .error)
        #expect(errors.count == 1)
        #expect(errors.first?.contains("local logging goes on") == true)
        #expect(run.syncState?["last_error"]?.stringValue?.contains("HTTP 400") == true)
        #expect(run.journalSize > 0)

        // Later, `noko-run sync` finishes the job.
        run.writeMetadata(status: "finished", exitCode: 0)
        _ = try WandbSync.syncRun(directory: run.directory, environment: testEnvironment(server), messages: { _ in })
        try expectComplete(server, rows: 10)
    }

    @Test func a401SaysTheKeyWasRejected() throws {
        let server = try WandbTestServer()
        let run = RunFixture()
        let log = MessageLog()
        var options = testOptions(server)
        options.retry.graphQLRetries = 0
        let sync = try started(WandbSync.start(
            options: options, run: run.runInfo(), environment: ["WANDB_API_KEY": "wrong-key-0123456789"], messages: log.handler))
        logRows(run, 0..<2)
        guard case .leftForLater(_, let reason) = sync.finish() else {
            Issue.record("finished with a wrong key")
            return
        }
        #expect(reason.hasPrefix("wandb rejected the API key"))
        #expect(log.texts(atLeast: .error).count == 1)
        #expect(server.requests.count == 1)
        #expect(server.requests[0].status == 401)
    }

    @Test func finishWaitsAtMostItsTimeoutThenLeavesTheRestForLater() throws {
        let server = try WandbTestServer()
        server.setResponseDelay(.seconds(6), on: .fileStream)
        let run = RunFixture()
        let log = MessageLog()
        let sync = try start(server, run, log)
        logRows(run, 0..<50)
        let started = ContinuousClock.now
        let result = sync.finish(exitCode: 0, timeout: .milliseconds(300))
        #expect(ContinuousClock.now - started < .seconds(4), "finish gave up long before the server's 6 s answer")
        #expect(result == .leftForLater(command: "noko-run sync \(run.directory.path)", reason: "the upload did not finish within 0.3 s"))
        #expect(log.texts(atLeast: .warning).contains { $0.contains("Finish it with: noko-run sync \(run.directory.path)") })

        server.setResponseDelay(nil, on: .fileStream)
        run.writeMetadata(status: "finished", exitCode: 0)
        _ = try WandbSync.syncRun(directory: run.directory, environment: testEnvironment(server), messages: { _ in })
        try expectComplete(server, rows: 50)
    }

    @Test func anUnreachableServerNeverBlocksTheRun() throws {
        let server = try WandbTestServer()
        server.stop()
        let run = RunFixture()
        let started = ContinuousClock.now
        let sync = try start(server, run, MessageLog())
        #expect(ContinuousClock.now - started < .seconds(2), "starting does not wait for the server")
        logRows(run, 0..<5)
        let result = sync.finish(exitCode: 0, timeout: .milliseconds(300))
        #expect(ContinuousClock.now - started < .seconds(5))
        guard case .leftForLater = result else {
            Issue.record("finished without a server")
            return
        }
        // The lock is released: `noko-run sync` can take over.
        try server.restart()
        run.writeMetadata(status: "finished", exitCode: 0)
        _ = try WandbSync.syncRun(directory: run.directory, environment: testEnvironment(server), messages: { _ in })
        try expectComplete(server, rows: 5)
    }

    @Test func droppedConnectionsLoseAndDuplicateNothing() throws {
        let server = try WandbTestServer()
        server.inject(.drop(afterApplying: true), on: .fileStream, after: 1)
        server.inject(.drop(afterApplying: false), on: .fileStream, after: 3)
        let run = RunFixture()
        let sync = try start(server, run, MessageLog())
        // Rows in groups, each sent before the next is logged, so the second and fourth
        // requests carry rows whatever the machine's load (the engine might otherwise send
        // them all at once).
        for group in 0..<5 {
            logRows(run, (group * 8)..<(group * 8 + 8))
            #expect(server.wait { ($0.run("testrun1")?.lines.count ?? 0) >= group * 8 + 8 })
        }
        #expect(sync.finish() == .finished(url: "\(server.baseURL)/e/p/runs/testrun1"))
        try expectComplete(server, rows: 40)
        // The request whose answer was lost reached the server twice, at the same offset.
        #expect(try #require(server.run("testrun1")).resentLines > 0)
    }

    @Test func aServerRestartLosesNothing() throws {
        let server = try WandbTestServer()
        let run = RunFixture()
        let sync = try start(server, run, MessageLog())
        logRows(run, 0..<20)
        #expect(server.wait { $0.run("testrun1")?.lines.count == 20 })
        try server.restart(after: .milliseconds(300))
        logRows(run, 20..<40)
        #expect(sync.finish() == .finished(url: "\(server.baseURL)/e/p/runs/testrun1"))
        try expectComplete(server, rows: 40)
    }

    @Test func aStopFromTheDashboardRaisesTheFlag() throws {
        let server = try WandbTestServer()
        let run = RunFixture()
        let log = MessageLog()
        // .flag: the default, .terminate, would send this test process SIGTERM.
        let sync = try start(server, run, log) { $0.stopAction = .flag }
        #expect(!sync.stopRequested)
        server.requestStop(runID: "testrun1")
        logRows(run, 0..<3)
        #expect(server.wait { _ in sync.stopRequested })
        logRows(run, 3..<6)
        _ = sync.finish()
        #expect(log.texts(atLeast: .warning).filter { $0.contains("stopped from the wandb UI; `run.stopRequested` is now true") }.count == 1)
    }

    @Test func sendsAHeartbeatWhenIdle() throws {
        let server = try WandbTestServer()
        let run = RunFixture()
        let sync = try start(server, run, MessageLog()) { $0.heartbeatInterval = .milliseconds(100) }
        logRows(run, 0..<2)
        #expect(server.wait { ($0.run("testrun1")?.heartbeats ?? 0) >= 2 })
        // Each refreshes the dashboard's Runtime and keeps the summary's keys.
        let beat = try #require(server.requests.last { $0.history == nil && $0.json?["files"]?["wandb-summary.json"] != nil })
        let content = try #require(beat.json?["files"]?["wandb-summary.json"]?["content"]?.arrayValue?.last?.stringValue)
        let summary = try JSONValue(parsing: Array(content.utf8))
        #expect(summary["_wandb"]?["runtime"]?.intValue != nil, "\(summary)")
        #expect((summary.objectValue?.keys.filter { !$0.hasPrefix("_") }.count ?? 0) > 0, "the rows' summary keys too: \(summary)")
        _ = sync.finish()
        try expectComplete(server, rows: 2)
    }

    @Test func splitsLargeUploadsIntoConsecutiveRequests() throws {
        let server = try WandbTestServer()
        let run = RunFixture()
        run.writeMetadata(status: "finished", exitCode: 0)
        logRows(run, 0..<300)
        var options = WandbOptions(runID: "testrun1", baseURL: server.baseURL)
        options.maxRequestBytes = 8192
        let report = try WandbSync.syncRun(directory: run.directory, options: options, environment: testEnvironment(server), messages: { _ in })
        #expect(report.rowsUploaded == 300)
        let streams = server.requests.filter { $0.history != nil }
        #expect(streams.count > 3)
        var expected: Int64 = 0
        for request in streams {
            #expect(request.body.count <= 8192)
            #expect(request.history?.offset == expected)
            expected += Int64(request.history?.lines.count ?? 0)
        }
        #expect(server.requests.filter { $0.json?["complete"] == true }.count == 1)
        #expect(server.requests.last?.json?["complete"] == true)
        try expectComplete(server, rows: 300, runID: server.runs.first!.runID)
    }

    @Test func sendsAtMostOneRequestPerTransmitInterval() throws {
        let server = try WandbTestServer()
        let run = RunFixture()
        let began = Date()
        let sync = try start(server, run, MessageLog()) { $0.transmitInterval = .milliseconds(250) }
        for i in 0..<60 {
            run.log("t", ["i": .int(Int64(i))])
            Thread.sleep(forTimeInterval: 0.02)
        }
        let logging = Date().timeIntervalSince(began)
        _ = sync.finish()
        let streams = server.requests.filter { if case .fileStream = $0.kind { return true } else { return false } }
        #expect(streams.count >= 3)
        // The first goes at once, then at most one per 250 ms; the last (finish) ignores the
        // rate. Counted rather than timed one by one: the server's arrival times jitter on a
        // loaded machine, its count cannot exceed what the interval allows. Unpaced, a
        // request would go with every row, every 20 ms.
        let paced = streams.count - 1
        #expect(paced <= Int(logging / 0.25) + 1, "\(paced) requests in \(logging) s of logging")
        try expectComplete(server, rows: 60)
    }

    @Test func skipsRowsBelowTheLevelThreshold() throws {
        let server = try WandbTestServer()
        let run = RunFixture()
        let sync = try start(server, run, MessageLog()) { $0.minimumLevel = .info }
        run.log("t", ["i": 0], level: 20)
        run.log("dbg", ["x": 1], level: 10)
        run.log("t", ["i": 1], level: 35)
        _ = sync.finish()
        try expectComplete(server, rows: 2)
        #expect(run.syncState?["journals"]?["noko.ndjson"]?["offset"] == .int(run.journalSize))
        #expect(run.syncState?["journals"]?["noko.ndjson"]?["rows"] == 3)
    }

    @Test func uploadsOtherRanksWithPrefixedKeysWhenAsked() throws {
        let server = try WandbTestServer()
        let run = RunFixture()
        let rankDirectory = run.directory.appendingPathComponent("rank-1")
        try FileManager.default.createDirectory(at: rankDirectory, withIntermediateDirectories: true)
        let rankLine = #"{"loss":0.75,"$table":"train","$step":0,"$level":20,"$localtime":"x","$utc_timestamp":1795769873.5}"# + "\n"
        try rankLine.write(to: rankDirectory.appendingPathComponent("noko.ndjson"), atomically: true, encoding: .utf8)
        let sync = try start(server, run, MessageLog()) { $0.otherRanks = .prefixed }
        run.log("train", ["loss": 1])
        _ = sync.finish()
        let lines = parsedLines(try #require(server.run("testrun1")))
        #expect(lines.count == 2)
        #expect(lines.contains { $0["train/rank1/loss"] == 0.75 && $0["train/$step"] == 0 })
        #expect(lines.contains { $0["train/loss"] == 1 })
        #expect(run.syncState?["journals"]?["rank-1/noko.ndjson"]?["offset"] == .int(Int64(rankLine.utf8.count)))
        // By default other ranks stay local.
        let server2 = try WandbTestServer()
        let sync2 = try started(WandbSync.start(options: testOptions(server2), run: RunFixture().runInfo(), environment: testEnvironment(server2), messages: { _ in }))
        _ = sync2.finish()
        #expect(!(server2.runs.first?.lines.contains { $0.contains("rank1") } ?? false))
    }

    @Test func neverConsumesATornLineAndSkipsMalformedOnes() throws {
        let server = try WandbTestServer()
        let run = RunFixture()
        let log = MessageLog()
        let sync = try start(server, run, log)
        run.log("t", ["i": 0])
        run.appendRaw(Array("this is not json\n".utf8))
        run.log("t", ["i": 1])
        let partial = Array(#"{"i":2,"$table":"t","$step":2,"$level":20,"$utc_timestamp":1795769874}"#.utf8)
        run.appendRaw(Array(partial.prefix(20)))
        _ = sync.finish()
        try expectComplete(server, rows: 2)
        #expect(log.texts(atLeast: .warning).contains { $0.contains("not a JSON object") })
        let acknowledged = try #require(run.syncState?["journals"]?["noko.ndjson"]?["offset"]?.intValue)
        #expect(acknowledged == run.journalSize - 20)

        // The writer completes the line; the next sync picks it up.
        run.appendRaw(Array(partial.dropFirst(20)) + [0x0A])
        run.writeMetadata(status: "finished", exitCode: 0)
        _ = try WandbSync.syncRun(directory: run.directory, environment: testEnvironment(server), messages: { _ in })
        try expectComplete(server, rows: 3)
    }

    @Test func aResumedRunContinuesItsRemoteRun() throws {
        let server = try WandbTestServer()
        let run = RunFixture()
        let first = try start(server, run, MessageLog())
        logRows(run, 0..<10)
        first.setSummary("best", to: 1)
        #expect(first.finish() == .finished(url: "\(server.baseURL)/e/p/runs/testrun1"))
        // The same run directory starts again (initExtra resuming): same remote run.
        let log = MessageLog()
        let second = try start(server, run, log) { $0.runID = nil }
        #expect(second.record.runID == "testrun1")
        logRows(run, 10..<15)
        #expect(second.finish(exitCode: 2) == .finished(url: "\(server.baseURL)/e/p/runs/testrun1"))
        try expectComplete(server, rows: 15, exitCode: 2)
        #expect(try ExtendedJSON.parse(server.run("testrun1")!.summary!)["best"] == 1)
        #expect(log.texts(atLeast: .info).contains { $0.contains("resuming wandb run testrun1") })
        #expect(server.run("testrun1")!.historyOffsets.contains(10))
    }
}

extension WandbSyncFaultTests {
    @Test func aFirstRequestThatArrivedButWasNeverAnsweredIsOverwrittenNotAppendedTo() throws {
        let server = try WandbTestServer()
        server.inject(.hold, on: .fileStream)
        let run = RunFixture()
        let sync = try start(server, run, MessageLog())
        logRows(run, 0..<10)
        #expect(server.wait { $0.run("testrun1")?.lines.isEmpty == false })
        let held = try #require(server.run("testrun1")).lines.count
        guard case .leftForLater = sync.finish(exitCode: 0, timeout: .milliseconds(200)) else {
            Issue.record("finished although the server never answered")
            return
        }
        #expect(run.syncState?["history_lines"] == 0)
        #expect(run.syncState?["created"] == true)
        logRows(run, 10..<15)
        run.writeMetadata(status: "finished", exitCode: 0)
        _ = try WandbSync.syncRun(directory: run.directory, environment: testEnvironment(server), messages: { _ in })
        try expectComplete(server, rows: 15)
        // The held lines are the journal's: continued after, not re-sent and not doubled.
        #expect(held > 0)
        #expect(try #require(server.run("testrun1")).resentLines == 0)
    }

    @Test func aRunIDWithHistoryFromElsewhereIsAppendedTo() throws {
        let server = try WandbTestServer()
        let first = RunFixture(status: "finished", exitCode: 0)
        logRows(first, 0..<3)
        _ = try WandbSync.syncRun(directory: first.directory, options: WandbOptions(runID: "shared1", baseURL: server.baseURL), environment: testEnvironment(server), messages: { _ in })
        let second = RunFixture(status: "finished", exitCode: 0)
        logRows(second, 0..<2)
        let log = MessageLog()
        _ = try WandbSync.syncRun(directory: second.directory, options: WandbOptions(runID: "shared1", baseURL: server.baseURL), environment: testEnvironment(server), messages: log.handler)
        let remote = try #require(server.run("shared1"))
        #expect(remote.lines.count == 5)
        #expect(remote.changedLines == 0)
        #expect(parsedLines(remote).map { $0["_step"] } == [0, 1, 2, 3, 4])
        #expect(log.texts(atLeast: .warning).contains { $0.contains("has 3 history lines") && $0.contains("noko did not write") })
    }

    @Test func rowsAnotherClientAppendedAreNeverOverwrittenAndItsConfigIsKept() throws {
        let server = try WandbTestServer()
        let run = RunFixture()
        let log = MessageLog()
        let sync = try start(server, run, log)
        logRows(run, 0..<5)
        #expect(server.wait { $0.run("testrun1")?.lines.count == 5 })
        _ = sync.finish(exitCode: 0)
        // Another client (the official SDK resuming the run) writes two lines, a config key
        // and a summary key of its own.
        let client = try HTTPClient(configuration: HTTPClientConfiguration(username: "api", password: server.apiKey))
        func post(_ path: String, _ body: JSONValue) throws {
            let response = try client.post(url: server.baseURL + path, body: body.serializedBytes(), timeout: .seconds(5))
            #expect(response.status == 200)
        }
        try post("/files/e/p/testrun1/file_stream", [
            "files": ["wandb-history.jsonl": ["offset": 5, "content": ["{\"sdk/x\":1,\"_step\":5}", "{\"sdk/x\":2,\"_step\":6}"]],
                      "wandb-summary.json": ["offset": 0, "content": ["{\"sdk/x\":2,\"sdk_best\":0.9}"]]],
        ])
        try post("/graphql", [
            "query": .string(UpsertBucket.query), "operationName": "UpsertBucket",
            "variables": ["name": "testrun1", "project": "p", "entity": "e", "config": "{\"batch\":{\"value\":64},\"lr\":{\"value\":0.5}}"],
        ])
        // noko resumes the run and logs more.
        let second = try start(server, run, log) { $0.runID = nil }
        logRows(run, 5..<8)
        #expect(second.finish(exitCode: 0) == .finished(url: "\(server.baseURL)/e/p/runs/testrun1"))
        let remote = try #require(server.run("testrun1"))
        #expect(remote.changedLines == 0, "the other client's lines stay")
        #expect(remote.gaps.isEmpty)
        #expect(remote.lines.count == 10)
        #expect(remote.lines[5].contains("sdk/x") && remote.lines[6].contains("sdk/x"))
        #expect(parsedLines(remote)[7]["_step"] == 7)
        let config = try JSONValue(parsing: try #require(remote.config))
        #expect(config["batch"]?["value"] == 64, "the other client's key is kept")
        #expect(config["lr"]?["value"] == 0.1, "noko's own keys win")
        let summary = try ExtendedJSON.parse(try #require(remote.summary))
        #expect(summary["sdk_best"] == 0.9)
        #expect(log.texts(atLeast: .warning).contains { $0.contains("2 history lines after the 5 noko wrote that noko did not write") })
    }
}
