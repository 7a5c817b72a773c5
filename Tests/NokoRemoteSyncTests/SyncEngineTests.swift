import Foundation
import NokoCore
import NokoPlatform
import NokoRemoteSync
import NokoTestSupport
import NokoWandbTestSupport
import Synchronization
import Testing

/// The engine with a remote that is not wandb: a minimal protocol (open, numbered batches,
/// an end marker) over a loopback server, so that what the engine does for every remote
/// (cursor, batching, retries, resume, finishing, offline) is tested on its own.
@Suite struct SyncEngineTests {
    @Test func streamsEveryRowOnceInBatchesAndFinishes() throws {
        let server = try ListServer()
        let run = JournalFixture()
        for i in 0..<10 { run.log(i) }
        let progress = Locked<[SyncProgress]>([])
        let (outcome, messages) = runToEnd(run, server, exitCode: 3) { p in progress.update { $0.append(p) } }
        #expect(outcome == .finished)
        #expect(server.rows == Array(0..<10))
        #expect(server.ended == 3)
        // Batches of at most three rows, serial; the last one carries the end.
        #expect(server.batchSizes == [3, 3, 3, 1])
        let cursor = try #require(try ListCursor.load(from: run.directory, remote: "list"))
        #expect(cursor.finished && cursor.exitCode == 3 && cursor.rowsOnServer == 10)
        #expect(cursor.journals["noko.ndjson"] == JournalProgress(offset: run.size, rows: 10))
        #expect(progress.value.last == SyncProgress(rowsUploaded: 10, bytesUploaded: run.size, bytesTotal: run.size))
        #expect(messages.all.filter { $0.level >= .warning }.isEmpty)
    }

    @Test func retriesByTheRequestsRuleThenStopsAtAFatalAnswerAndResumesLater() throws {
        let server = try ListServer()
        let run = JournalFixture()
        for i in 0..<5 { run.log(i) }
        server.failures.update { $0 = [500, 500, 418] }
        let (first, messages) = runToEnd(run, server, exitCode: 0)
        #expect(first == .failed("the list server refused uploading rows with HTTP 418"))
        let warnings = messages.all.filter { $0.level == .warning }.map(\.text)
        // One warning for the first failure; the second retry is at debug level.
        #expect(warnings.count == 1 && warnings[0].hasPrefix("uploading rows failed (HTTP 500); retrying in "), "\(warnings)")
        #expect(server.rows.isEmpty)
        let failed = try #require(try ListCursor.load(from: run.directory, remote: "list"))
        #expect(failed.lastError == "the list server refused uploading rows with HTTP 418")
        #expect(failed.journals["noko.ndjson"]?.offset ?? 0 == 0)

        for i in 5..<7 { run.log(i) }
        let (second, _) = runToEnd(run, server, exitCode: 0)
        #expect(second == .finished)
        #expect(server.rows == Array(0..<7))
        let done = try #require(try ListCursor.load(from: run.directory, remote: "list"))
        #expect(done.lastError == nil && done.finished)
    }

    @Test func aCrashAfterTheServerTookABatchButBeforeTheCursorWasSavedDuplicatesNothing() throws {
        let server = try ListServer()
        let run = JournalFixture()
        for i in 0..<4 { run.log(i) }
        // The server applies the first batch but the answer never arrives; the session
        // ends (no retries), as a killed process would, before the cursor moved.
        // (libcurl itself re-sends once on a fresh connection when a reused one drops.)
        server.dropsAfterApplying.update { $0 = 2 }
        let (first, _) = runToEnd(run, server, exitCode: 0, retries: 0)
        guard case .failed = first else { Issue.record("expected a failure, got \(first)"); return }
        server.dropsAfterApplying.update { $0 = 0 }
        #expect(server.rows == [0, 1, 2])
        let (second, _) = runToEnd(run, server, exitCode: 0)
        #expect(second == .finished)
        // Re-sent at the same offsets: replaced, not appended.
        #expect(server.rows == [0, 1, 2, 3])
    }

    @Test func neverConsumesATornLineAndWarnsOnceAboutBadLines() throws {
        let server = try ListServer()
        let run = JournalFixture()
        run.log(0)
        run.append("not json\n")
        run.append("{\"x\": 1}\n")
        run.append("also not json\n")
        run.log(1)
        run.append("{\"$table\": \"t\", \"i\": 2")
        let (outcome, messages) = runToEnd(run, server, exitCode: 0)
        #expect(outcome == .finished)
        #expect(server.rows == [0, 1])
        let warnings = messages.all.filter { $0.level == .warning }.map(\.text)
        #expect(warnings.count == 2, "\(warnings)")
        #expect(warnings.contains { $0.contains("not a JSON object") })
        #expect(warnings.contains { $0.contains("no \"i\"") })
        let cursor = try #require(try ListCursor.load(from: run.directory, remote: "list"))
        // The torn row stays for the next session.
        #expect(cursor.journals["noko.ndjson"]?.offset == run.size - Int64("{\"$table\": \"t\", \"i\": 2".utf8.count))
    }

    @Test func aRemoteWithoutHeartbeatsSendsNothingWhileIdle() throws {
        let server = try ListServer()
        let run = JournalFixture()
        let control = SyncControl<ListRecord>(record: ListRecord(id: nil), userSummary: [:], messages: { _ in }, onRecordChange: nil)
        let remote = ListRemote(server: server, batchLimit: 3, retries: 5)
        RemoteSync.launch(directory: run.directory, remote: remote, cursor: ListCursor(), control: control, progress: nil, live: false)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(server.requestCount == 1)  // the open
        control.shared.withLock { $0.finishExitCode = 0 }
        control.wake.signal()
        control.done.wait()
        #expect(control.shared.withLock { $0.outcome } == .finished)
        #expect(server.requestCount == 2)
    }

    @Test func offlineKeepsTheUsersSummaryKeysInTheCursorAndSendsNothing() throws {
        let server = try ListServer()
        let run = JournalFixture()
        run.log(0)
        let control = SyncControl<ListRecord>(record: ListRecord(id: nil), userSummary: [:], messages: { _ in }, onRecordChange: nil)
        let session = LiveSession(
            directory: run.directory, remoteName: "list", control: control,
            lock: try SyncLock.acquire(in: run.directory, remote: "list"), finishTimeout: .seconds(5))
        let remote = ListRemote(server: server, batchLimit: 3, retries: 5, online: false)
        RemoteSync.launch(directory: run.directory, remote: remote, cursor: ListCursor(), control: control, progress: nil, live: true)
        session.setSummary("best", to: 0.5)
        #expect(throws: SyncLockError.self) { try SyncLock.acquire(in: run.directory, remote: "list") }
        let result = session.finish(exitCode: 0, timeout: nil)
        #expect(result == .leftForLater(command: RemoteSync.syncCommand(for: run.directory, remote: "list"), reason: "offline mode"))
        #expect(server.requestCount == 0)
        let cursor = try #require(try ListCursor.load(from: run.directory, remote: "list"))
        #expect(cursor.userSummary == ["best": 0.5])
        // The lock is released once the session ended.
        _ = try SyncLock.acquire(in: run.directory, remote: "list")
    }

    private func runToEnd(
        _ run: JournalFixture, _ server: ListServer, exitCode: Int32, retries: Int = 5,
        progress: (@Sendable (SyncProgress) -> Void)? = nil
    ) -> (SyncOutcome, Messages) {
        let messages = Messages()
        let cursor = ((try? ListCursor.load(from: run.directory, remote: "list")) ?? nil) ?? ListCursor()
        let control = SyncControl<ListRecord>(
            record: ListRecord(id: cursor.runID), userSummary: cursor.userSummary, messages: messages.handler, onRecordChange: nil)
        control.shared.withLock { $0.finishExitCode = exitCode }
        let remote = ListRemote(server: server, batchLimit: 3, retries: retries)
        let outcome = RemoteSync.runToEnd(directory: run.directory, remote: remote, cursor: cursor, control: control, progress: progress)
        return (outcome, messages)
    }
}

// MARK: - A minimal remote

/// The server side of the list protocol: `POST /open` answers `{"id": …}`; `POST /batch`
/// with `{"offset": n, "rows": [i…], "end": code?}` puts the rows at `offset…` (so a re-sent
/// batch replaces, never appends).
struct ServerState: Sendable {
    var rows: [Int] = []
    var sizes: [Int] = []
    var ended: Int?
    var requests = 0
}

final class ListServer: Sendable {
    private let http: LoopbackHTTPServer
    private let state = Locked<ServerState>(ServerState())
    let failures = Locked<[Int]>([])
    let dropsAfterApplying = Locked(0)

    init() throws {
        let state = self.state
        let failures = self.failures
        let drops = self.dropsAfterApplying
        http = try LoopbackHTTPServer { request in
            state.update { $0.requests += 1 }
            if request.path == "/batch", let status = failures.update({ $0.isEmpty ? nil : $0.removeFirst() }) {
                return .respond(status: status, headers: [], body: [])
            }
            if request.path == "/open" { return .respond(status: 200, headers: [], body: Array(#"{"id": "r1"}"#.utf8)) }
            guard let json = try? JSONValue(parsing: request.body), let offset = json["offset"]?.intValue else {
                return .respond(status: 400, headers: [], body: [])
            }
            let rows = json["rows"]?.arrayValue?.compactMap(\.intValue).map(Int.init) ?? []
            state.update { s in
                s.rows = Array(s.rows.prefix(Int(offset))) + rows
                if !rows.isEmpty { s.sizes.append(rows.count) }
                if let end = json["end"]?.intValue { s.ended = Int(end) }
            }
            if drops.update({ count in
                guard count > 0 else { return false }
                count -= 1
                return true
            }) { return .drop }
            return .respond(status: 200, headers: [], body: Array("{}".utf8))
        }
    }

    var baseURL: String { "http://127.0.0.1:\(http.port)" }
    var rows: [Int] { state.value.rows }
    var batchSizes: [Int] { state.value.sizes }
    var ended: Int? { state.value.ended }
    var requestCount: Int { state.value.requests }
}

struct ListRecord: RemoteRecord {
    var id: String?
    var url: String? { id.map { "list://\($0)" } }
    var jsonValue: JSONValue { ["id": id.map(JSONValue.string) ?? .null] }
}

struct ListCursor: SyncCursor {
    static let formatVersion: Int64 = 1
    var journals: [String: JournalProgress] = [:]
    var uploadsOtherRanks: Bool { false }
    var rowsOnServer: Int64 = 0
    var rowsAcknowledged: Int64 { rowsOnServer }
    var userSummary: [String: JSONValue] = [:]
    var finished = false
    var exitCode: Int64?
    var lastError: String?
    var runID: String?

    init() {}

    var jsonValue: JSONValue {
        var journalMembers: [String: JSONValue] = [:]
        for (path, progress) in journals {
            journalMembers[path] = ["offset": .int(progress.offset), "rows": .int(progress.rows)]
        }
        return [
            "format_version": .int(Self.formatVersion), "journals": .object(journalMembers), "rows": .int(rowsOnServer),
            "user_summary": .object(userSummary), "finished": .bool(finished), "exit_code": exitCode.map(JSONValue.int) ?? .null,
            "last_error": lastError.map(JSONValue.string) ?? .null, "run_id": runID.map(JSONValue.string) ?? .null,
        ]
    }

    init(json: JSONValue, path: String) throws(SyncCursorError) {
        for (path, progress) in json["journals"]?.objectValue ?? [:] {
            guard let offset = progress["offset"]?.intValue else { throw .invalid("journal \(path) has no offset") }
            journals[path] = JournalProgress(offset: offset, rows: progress["rows"]?.intValue ?? 0)
        }
        rowsOnServer = json["rows"]?.intValue ?? 0
        userSummary = json["user_summary"]?.objectValue ?? [:]
        finished = json["finished"]?.boolValue ?? false
        exitCode = json["exit_code"]?.intValue
        lastError = json["last_error"]?.stringValue
        runID = json["run_id"]?.stringValue
    }
}

final class ListRemote: SyncRemote {
    private let server: ListServer
    private let batchLimit: Int
    private let retries: Int
    let isOnline: Bool
    private var batch: [Int] = []

    init(server: ListServer, batchLimit: Int, retries: Int, online: Bool = true) {
        self.server = server
        self.batchLimit = batchLimit
        self.retries = retries
        self.isOnline = online
    }

    let name = "list"
    var http: HTTPClientConfiguration { HTTPClientConfiguration(connectTimeout: .seconds(2)) }
    var tracesHTTP: Bool { false }
    var pacing: SyncPacing { SyncPacing(transmitInterval: .milliseconds(5), heartbeatInterval: nil) }

    func record(of cursor: ListCursor) -> ListRecord { ListRecord(id: cursor.runID) }

    private func request(_ path: String, _ body: JSONValue, what: String) -> RemoteRequest {
        RemoteRequest(
            url: server.baseURL + path, body: body.serializedBytes(), timeout: .seconds(5),
            rule: RetryRule(
                fatalStatuses: [400, 418], retries: retries,
                backoff: Backoff(minimumWait: .milliseconds(5), maximumWait: .milliseconds(20), maximumRetryAfter: .seconds(1))),
            what: what)
    }

    func open(_ cursor: inout ListCursor, link: RemoteLink) -> RemoteStep {
        switch link.send(request("/open", [:], what: "opening the run")) {
        case .ok(let response):
            cursor.runID = (try? JSONValue(parsing: response.body))?["id"]?.stringValue
            return .done
        case .failed(let message): return .failed(message)
        case .cancelled: return .cancelled
        }
    }

    func beginBatch(_ cursor: ListCursor) { batch = [] }

    func add(_ line: UnsafeRawBufferPointer, rank: Int) -> RowFate {
        guard let row = try? JSONValue(parsing: line), row.objectValue != nil else { return .malformed("not an object") }
        guard let i = row["i"]?.intValue else { return .invalid("no \"i\"") }
        if batch.count >= batchLimit { return .full }
        batch.append(Int(i))
        return .accepted
    }

    func endBatch() -> BatchExtras { .none }

    func update(_ update: RunUpdate, cursor: inout ListCursor, link: RemoteLink) -> RemoteStep { .done }

    func send(_ batch: SyncBatch, cursor: inout ListCursor, link: RemoteLink) -> RemoteStep {
        var body: [String: JSONValue] = ["offset": .int(cursor.rowsOnServer), "rows": .array(self.batch.map { .int(Int64($0)) })]
        if let code = batch.exitCode { body["end"] = .int(Int64(code)) }
        switch link.send(request("/batch", .object(body), what: "uploading rows")) {
        case .ok: return .done
        case .failed(let message): return .failed(message)
        case .cancelled: return .cancelled
        }
    }

    func commit(_ batch: SyncBatch, to cursor: inout ListCursor) {
        cursor.rowsOnServer += Int64(self.batch.count)
    }

    func heartbeat(_ cursor: ListCursor, link: RemoteLink) -> RemoteStep {
        Issue.record("a remote without a heartbeat interval got a heartbeat")
        return .done
    }

    func describeRefusal(status: Int, what: String, serverMessage: String?) -> String {
        "the list server refused \(what) with HTTP \(status)"
    }
}

// MARK: - Fixtures

final class JournalFixture: Sendable {
    let directory = temporaryDirectory("engine")

    func log(_ i: Int) {
        append("{\"$table\": \"t\", \"$step\": \(i), \"i\": \(i)}\n")
    }

    func append(_ text: String) {
        let path = directory.appendingPathComponent("noko.ndjson").path
        let file = try! FileDescriptor.open(path, .append)
        try! file.writeAll(Array(text.utf8))
        file.closeIgnoringErrors()
    }

    var size: Int64 { Int64(FileSystem.info(directory.appendingPathComponent("noko.ndjson").path)?.size ?? 0) }
}

final class Messages: Sendable {
    private let messages = Mutex<[SyncMessage]>([])
    var handler: @Sendable (SyncMessage) -> Void { { [self] message in messages.withLock { $0.append(message) } } }
    var all: [SyncMessage] { messages.withLock { $0 } }
}

final class Locked<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>
    init(_ value: Value) { storage = Mutex(value) }
    var value: Value { storage.withLock { $0 } }
    func update<R: Sendable>(_ body: (inout Value) -> R) -> R { storage.withLock { body(&$0) } }
}
