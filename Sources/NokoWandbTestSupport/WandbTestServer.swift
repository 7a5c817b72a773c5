import Foundation
import NokoCore
import Synchronization

/// A wandb server on 127.0.0.1 that answers like the real one as far as noko needs
/// (the recordings in `reference/wandb-golden/`): GraphQL `UpsertBucket`, `Viewer` and
/// `CreateRunFiles`, `/files/<entity>/<project>/<run>/file_stream`, and the `PUT`s of run
/// files to the upload URLs it hands out (`/storage/<entity>/<project>/<run>/<file>`). It records every request and keeps
/// each run's history by line offset (a line re-sent at the same offset overwrites), its
/// summary, config and `complete`/`exitcode`, and it can misbehave on demand: statuses
/// (500, 429 with `Retry-After`, 400, 401…), slow answers, dropped connections, answers
/// that never come, a stop request, and a restart that loses nothing.
package final class WandbTestServer: Sendable {
    /// The key requests must carry (`Authorization: Basic base64("api:" + key)`).
    package let apiKey: String
    /// The entity a run gets when the client sends none.
    package let defaultEntity: String
    private let core: Core
    private let http: LoopbackHTTPServer

    /// Starts a server on an ephemeral port. `recordBodies: false` keeps request bodies
    /// out of ``requests`` (benchmarks upload hundreds of megabytes).
    package init(apiKey: String = String(repeating: "k", count: 40), defaultEntity: String = "e", recordBodies: Bool = true) throws {
        self.apiKey = apiKey
        self.defaultEntity = defaultEntity
        let core = Core(apiKey: apiKey, defaultEntity: defaultEntity, recordBodies: recordBodies)
        self.core = core
        self.http = try LoopbackHTTPServer { request in core.handle(request) }
    }

    /// `http://127.0.0.1:<port>`.
    package var baseURL: String { "http://127.0.0.1:\(http.port)" }

    /// The port.
    package var port: Int { http.port }

    // MARK: - Faults

    /// Which requests a fault or delay applies to.
    package enum Endpoint: Sendable, Equatable {
        case fileStream
        /// A run file's `PUT`.
        case upload
        /// GraphQL with this operation name, or any GraphQL request when nil.
        case graphQL(String?)
        case any
    }

    /// A way to misbehave.
    package enum Fault: Sendable {
        /// Answer with this status (and `Retry-After` when given); nothing is stored.
        case status(Int, retryAfter: String? = nil)
        /// Close the connection without an answer, after storing the request's data or not.
        case drop(afterApplying: Bool)
        /// Store the data, then never answer (the client times out or dies waiting).
        case hold
    }

    /// Misbehaves on `times` requests to `endpoint`, after letting `after` of them through
    /// (faults queue in order).
    package func inject(_ fault: Fault, on endpoint: Endpoint, times: Int = 1, after: Int = 0) {
        core.state.withLock {
            $0.faults.append(Core.PendingFault(endpoint: endpoint, fault: fault, remaining: times, skip: after))
        }
    }

    /// Delays every answer to `endpoint` by `delay` (nil: answer at once again).
    package func setResponseDelay(_ delay: Duration?, on endpoint: Endpoint) {
        core.state.withLock { state in
            state.delays.removeAll { $0.endpoint == endpoint }
            if let delay { state.delays.append((endpoint, delay)) }
        }
    }

    /// Makes file_stream answers for `runID` carry `"stopped": true`.
    package func requestStop(runID: String) {
        core.state.withLock { _ = $0.stoppedRuns.insert(runID) }
    }

    /// Stops listening and drops every connection, then listens again on the same port
    /// after `pause`; stored runs survive.
    package func restart(after pause: Duration = .zero) throws {
        try http.restart(after: pause)
    }

    /// Stops listening (clients get connection refused).
    package func stop() {
        http.stop()
    }

    // MARK: - What it saw

    /// Every request so far, in arrival order.
    package var requests: [RecordedRequest] {
        core.state.withLock { $0.requests }
    }

    /// The run `runID`'s stored data.
    package func run(_ runID: String) -> RunRecord? {
        core.state.withLock { state in state.runs.values.first { $0.runID == runID } }
    }

    /// All stored runs.
    package var runs: [RunRecord] {
        core.state.withLock { Array($0.runs.values) }
    }

    /// Polls until `condition` holds or `timeout` passes; true when it held.
    package func wait(timeout: Duration = .seconds(20), until condition: (WandbTestServer) -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(self) { return true }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return condition(self)
    }

    /// One request as received, with what was done about it.
    package struct RecordedRequest: Sendable {
        package enum Kind: Sendable, Equatable {
            case graphQL(operation: String?)
            case fileStream(runID: String)
            case upload(runID: String, file: String)
            case other
        }

        package var method: String
        package var path: String
        package var headers: [(name: String, value: String)]
        package var body: [UInt8]
        package var connectionID: Int
        /// Seconds since the server started.
        package var time: Double
        package var kind: Kind
        /// The status answered, nil when dropped or held (or not answered yet).
        package var status: Int?
        /// True once the server has decided to hold this request unanswered (`Fault.hold`).
        package var held = false

        /// The first header named `name` (case-insensitive).
        package func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        /// The body as JSON (strict; request bodies always are), or nil.
        package var json: JSONValue? { try? JSONValue(parsing: body) }

        /// The body as text.
        package var text: String { String(decoding: body, as: UTF8.self) }

        /// For file_stream: the history offset and lines, if the request had any.
        package var history: (offset: Int64, lines: [String])? {
            guard let file = json?["files"]?["wandb-history.jsonl"], let offset = file["offset"]?.intValue else { return nil }
            return (offset, file["content"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        }
    }

    /// What the server holds for one run.
    package struct RunRecord: Sendable {
        package var entity: String
        package var project: String
        package var runID: String
        /// History lines by offset; nil where a gap was left.
        package var history: [String?] = []
        /// The last summary line.
        package var summary: String?
        package var complete = false
        package var exitCode: Int64?
        /// The last config string sent with UpsertBucket.
        package var config: String?
        /// The variables of every UpsertBucket for this run, in order.
        package var upserts: [JSONValue] = []
        /// Lines re-sent at an offset already held: same text, and different text.
        package var resentLines = 0
        package var changedLines = 0
        /// Requests whose history offset left a gap, as "offset X > count Y".
        package var gaps: [String] = []
        /// The history offset of every file_stream request that carried history.
        package var historyOffsets: [Int64] = []
        /// Heartbeats (`{}`) received.
        package var heartbeats = 0
        /// `wandb-events.jsonl` lines (the System tab) by offset; gaps are recorded in `eventGaps`.
        package var events: [String] = []
        package var eventGaps: [String] = []
        /// `output.log` lines (the Logs tab) by offset; a line re-sent at an offset overwrites it.
        package var console: [String] = []
        /// Requests whose `output.log` offset left a gap, and lines re-sent at an offset held.
        package var consoleGaps: [String] = []
        package var consoleResent = 0
        /// Run files by name, as last uploaded, and how many times each was uploaded.
        package var files: [String: [UInt8]] = [:]
        package var uploads: [String: Int] = [:]
        /// Uploads that carried an `Authorization` header (signed URLs must get none).
        package var uploadsWithCredentials = 0
        /// Every name listed in a file_stream `uploaded` array, in order.
        package var uploadedListed: [String] = []

        /// The history lines, when there is no gap.
        package var lines: [String] { history.compactMap { $0 } }
    }
}

/// The shared state and the request handler (the HTTP server's threads call it).
private final class Core: Sendable {
    struct PendingFault {
        var endpoint: WandbTestServer.Endpoint
        var fault: WandbTestServer.Fault
        var remaining: Int
        var skip: Int
    }

    struct State {
        var requests: [WandbTestServer.RecordedRequest] = []
        var runs: [String: WandbTestServer.RunRecord] = [:]
        var faults: [PendingFault] = []
        var delays: [(endpoint: WandbTestServer.Endpoint, delay: Duration)] = []
        var stoppedRuns: Set<String> = []
    }

    let state = Mutex(State())
    let expectedAuthorization: String
    let defaultEntity: String
    let recordBodies: Bool
    let started = ContinuousClock.now

    init(apiKey: String, defaultEntity: String, recordBodies: Bool) {
        expectedAuthorization = "Basic " + Data("api:\(apiKey)".utf8).base64EncodedString()
        self.defaultEntity = defaultEntity
        self.recordBodies = recordBodies
    }

    func handle(_ request: LoopbackHTTPServer.Request) -> LoopbackHTTPServer.Action {
        let path = request.path
        let json = try? JSONValue(parsing: request.body)
        let kind: WandbTestServer.RecordedRequest.Kind
        if path == "/graphql" {
            kind = .graphQL(operation: json?["operationName"]?.stringValue)
        } else if path.hasPrefix("/files/"), path.hasSuffix("/file_stream") {
            let parts = path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
            kind = parts.count == 5 ? .fileStream(runID: parts[3]) : .other
        } else if path.hasPrefix("/storage/"), request.method == "PUT" {
            let parts = path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
            kind = parts.count == 5 ? .upload(runID: parts[3], file: parts[4]) : .other
        } else {
            kind = .other
        }
        let elapsed = ContinuousClock.now - started
        let index = state.withLock { state -> Int in
            state.requests.append(
                WandbTestServer.RecordedRequest(
                    method: request.method, path: path, headers: request.headers, body: recordBodies ? request.body : [],
                    connectionID: request.connectionID, time: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                    kind: kind, status: nil))
            return state.requests.count - 1
        }
        func answer(_ status: Int, _ body: JSONValue, headers: [(String, String)] = []) -> LoopbackHTTPServer.Action {
            state.withLock { $0.requests[index].status = status }
            return .respond(status: status, headers: headers, body: body.serializedBytes())
        }

        guard kind != .other, request.method == "POST" || request.method == "PUT" else {
            return answer(404, ["error": "not found"])
        }
        // An upload URL authorizes itself, as a signed storage URL does.
        if case .upload = kind {} else if request.header("Authorization") != expectedAuthorization {
            return answer(401, ["error": "invalid API key"])
        }
        let (fault, delay) = state.withLock { state -> (WandbTestServer.Fault?, Duration?) in
            let delay = state.delays.first { Core.matches($0.endpoint, kind) }?.delay
            guard let i = state.faults.firstIndex(where: { $0.remaining > 0 && Core.matches($0.endpoint, kind) }) else {
                return (nil, delay)
            }
            if state.faults[i].skip > 0 {
                state.faults[i].skip -= 1
                return (nil, delay)
            }
            state.faults[i].remaining -= 1
            let fault = state.faults[i].fault
            if state.faults[i].remaining == 0 { state.faults.remove(at: i) }
            return (fault, delay)
        }
        if let delay { Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18) }
        switch fault {
        case .status(let status, let retryAfter)?:
            return answer(status, ["error": "injected failure"], headers: retryAfter.map { [("Retry-After", $0)] } ?? [])
        case .drop(let applying)?:
            if applying { _ = apply(kind, json) }
            return .drop
        case .hold?:
            _ = apply(kind, json)
            state.withLock { $0.requests[index].held = true }
            return .hold
        case nil:
            if case .upload(let runID, let file) = kind {
                return answer(storeUpload(runID: runID, file: file, request.body, credentials: request.header("Authorization") != nil), [:])
            }
            if case .graphQL(operation: "CreateRunFiles"?) = kind, let json {
                return answer(200, createRunFiles(json["variables"] ?? .null, host: request.header("Host") ?? "127.0.0.1"))
            }
            guard let (status, body) = apply(kind, json) else { return answer(400, ["error": "malformed request"]) }
            return answer(status, body)
        }
    }

    /// Upload URLs on this server, as `CreateRunFiles` answers (`uploadHeaders` empty, as
    /// in the recordings).
    private func createRunFiles(_ variables: JSONValue, host: String) -> JSONValue {
        let entity = variables["entity"]?.stringValue ?? defaultEntity
        let project = variables["project"]?.stringValue ?? ""
        let run = variables["run"]?.stringValue ?? ""
        let names = variables["files"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let files: [JSONValue] = names.map { name in
            let path = [entity, project, run, name].map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? $0 }
            return ["name": .string(name), "uploadUrl": .string("http://\(host)/storage/" + path.joined(separator: "/"))]
        }
        let storageID = Data("Run:v1:\(run):\(project):\(entity)".utf8).base64EncodedString()
        return ["data": ["createRunFiles": ["runID": .string(storageID), "uploadHeaders": [], "files": .array(files)]]]
    }

    private func storeUpload(runID: String, file: String, _ body: [UInt8], credentials: Bool) -> Int {
        state.withLock { state in
            guard let key = state.runs.first(where: { $0.value.runID == runID })?.key else { return 404 }
            state.runs[key]!.files[file] = body
            state.runs[key]!.uploads[file, default: 0] += 1
            if credentials { state.runs[key]!.uploadsWithCredentials += 1 }
            return 200
        }
    }

    static func matches(_ endpoint: WandbTestServer.Endpoint, _ kind: WandbTestServer.RecordedRequest.Kind) -> Bool {
        switch (endpoint, kind) {
        case (.any, _): return true
        case (.fileStream, .fileStream): return true
        case (.upload, .upload): return true
        case (.graphQL(nil), .graphQL): return true
        case (.graphQL(let wanted?), .graphQL(let operation)): return wanted == operation
        default: return false
        }
    }

    /// Stores what the request says and makes the normal answer; nil for a malformed body.
    func apply(_ kind: WandbTestServer.RecordedRequest.Kind, _ json: JSONValue?) -> (Int, JSONValue)? {
        guard let json else { return nil }
        switch kind {
        case .graphQL(let operation):
            switch operation {
            case "UpsertBucket": return upsert(json["variables"] ?? .null)
            case "RunResumeStatus": return resumeStatus(json["variables"] ?? .null)
            case "Viewer":
                return (200, ["data": ["viewer": ["id": "VXNlcjp2MTpyZWNvcmRlcg==", "entity": .string(defaultEntity), "username": "recorder", "email": "recorder@example.invalid", "flags": "{}", "teams": ["edges": [["node": ["name": .string(defaultEntity)]]]]]]])
            default: return (200, ["data": [:]])
            }
        case .fileStream(let runID):
            return fileStream(runID: runID, json)
        case .upload, .other:
            return nil
        }
    }

    private func upsert(_ variables: JSONValue) -> (Int, JSONValue)? {
        guard let name = variables["name"]?.stringValue else { return nil }
        let project = variables["project"]?.stringValue ?? "uncategorized"
        let entity = variables["entity"]?.stringValue ?? defaultEntity
        let key = "\(entity)/\(project)/\(name)"
        let record = state.withLock { state -> WandbTestServer.RunRecord in
            var run = state.runs[key] ?? WandbTestServer.RunRecord(entity: entity, project: project, runID: name)
            run.upserts.append(variables)
            if let config = variables["config"]?.stringValue { run.config = config }
            state.runs[key] = run
            return run
        }
        let storageID = Data("Run:v1:\(name):\(project):\(entity)".utf8).base64EncodedString()
        let bucket: JSONValue = [
            "id": .string(storageID), "name": .string(name),
            "displayName": variables["displayName"]?.stringValue.map(JSONValue.string) ?? .string(name),
            "description": variables["notes"] ?? .null, "config": record.config.map(JSONValue.string) ?? .null,
            "sweepName": .null,
            "project": ["id": "UHJvamVjdA==", "name": .string(project), "entity": ["id": "RW50aXR5", "name": .string(entity)]],
            "historyLineCount": .int(Int64(record.history.count)),
        ]
        return (200, ["data": ["upsertBucket": ["bucket": bucket, "inserted": .bool(record.upserts.count == 1)]]])
    }

    /// What the server holds of a run, as wandb answers `RunResumeStatus`: the counts, the
    /// last 10 history lines, the config and summary (JSON strings), `bucket: null` for none.
    private func resumeStatus(_ variables: JSONValue) -> (Int, JSONValue)? {
        guard let name = variables["name"]?.stringValue else { return nil }
        let project = variables["project"]?.stringValue ?? "uncategorized"
        let entity = variables["entity"]?.stringValue ?? defaultEntity
        let run = state.withLock { $0.runs["\(entity)/\(project)/\(name)"] }
        let model: JSONValue = ["id": "UHJvamVjdA==", "name": .string(project), "entity": ["id": "RW50aXR5", "name": .string(entity)]]
        guard let run else {
            var empty = model.objectValue!
            empty["bucket"] = .null
            return (200, ["data": ["model": .object(empty)]])
        }
        let tail = JSONValue.array(run.history.suffix(10).map { .string($0 ?? "") }).serialized()
        var bucket: [String: JSONValue] = [
            "id": .string(Data("Run:v1:\(name):\(project):\(entity)".utf8).base64EncodedString()), "name": .string(name),
            "summaryMetrics": run.summary.map(JSONValue.string) ?? .null, "displayName": .string(name),
            "logLineCount": .int(Int64(run.console.count)), "historyLineCount": .int(Int64(run.history.count)),
            "eventsLineCount": .int(Int64(run.events.count)), "historyTail": .string(tail), "eventsTail": "[]",
            "config": run.config.map(JSONValue.string) ?? .null, "tags": [], "notes": .null, "wandbConfig": "{\"t\": {}}",
        ]
        if run.history.isEmpty { bucket["historyTail"] = "[]" }
        var answer = model.objectValue!
        answer["bucket"] = .object(bucket)
        return (200, ["data": ["model": .object(answer)]])
    }

    private func fileStream(runID: String, _ body: JSONValue) -> (Int, JSONValue)? {
        guard body.objectValue != nil else { return nil }
        let stopped = state.withLock { state -> Bool in
            guard let key = state.runs.first(where: { $0.value.runID == runID })?.key else { return false }
            var run = state.runs[key]!
            // A heartbeat: no rows, events or console, at most the summary it refreshes.
            let files = Set((body["files"]?.objectValue ?? [:]).keys)
            if body["complete"] == nil, files.isSubset(of: ["wandb-summary.json"]) { run.heartbeats += 1 }
            if let history = body["files"]?["wandb-history.jsonl"], let offset = history["offset"]?.intValue {
                run.historyOffsets.append(offset)
                let lines = history["content"]?.arrayValue?.compactMap(\.stringValue) ?? []
                if offset > Int64(run.history.count) {
                    run.gaps.append("offset \(offset) > count \(run.history.count)")
                    run.history.append(contentsOf: repeatElement(nil, count: Int(offset) - run.history.count))
                }
                for (i, line) in lines.enumerated() {
                    let at = Int(offset) + i
                    if at < run.history.count {
                        if let old = run.history[at] {
                            if old == line { run.resentLines += 1 } else { run.changedLines += 1 }
                        }
                        run.history[at] = line
                    } else {
                        run.history.append(line)
                    }
                }
            }
            if let events = body["files"]?["wandb-events.jsonl"], let offset = events["offset"]?.intValue {
                let lines = events["content"]?.arrayValue?.compactMap(\.stringValue) ?? []
                if offset != Int64(run.events.count) { run.eventGaps.append("offset \(offset) with \(run.events.count) held") }
                run.events = Array(run.events.prefix(Int(offset))) + lines
            }
            if let log = body["files"]?["output.log"], let offset = log["offset"]?.intValue {
                let lines = log["content"]?.arrayValue?.compactMap(\.stringValue) ?? []
                if offset > Int64(run.console.count) {
                    run.consoleGaps.append("offset \(offset) > count \(run.console.count)")
                    run.console.append(contentsOf: repeatElement("", count: Int(offset) - run.console.count))
                }
                for (i, line) in lines.enumerated() {
                    let at = Int(offset) + i
                    if at < run.console.count {
                        run.consoleResent += 1
                        run.console[at] = line
                    } else {
                        run.console.append(line)
                    }
                }
            }
            run.uploadedListed += body["uploaded"]?.arrayValue?.compactMap(\.stringValue) ?? []
            if let summary = body["files"]?["wandb-summary.json"]?["content"]?.arrayValue?.last?.stringValue {
                run.summary = summary
            }
            if body["complete"]?.boolValue == true {
                run.complete = true
                run.exitCode = body["exitcode"]?.intValue
            }
            state.runs[key] = run
            return state.stoppedRuns.contains(runID)
        }
        var answer: [String: JSONValue] = ["exitcode": .null, "limits": .object([:])]
        if stopped { answer["stopped"] = true }
        return (200, .object(answer))
    }
}
