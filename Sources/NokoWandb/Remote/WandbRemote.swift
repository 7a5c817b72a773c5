import Foundation
import NokoCore
import NokoRemoteSync

/// wandb as a remote of the sync engine: the run is created (and its config and table axes
/// declared) by GraphQL `UpsertBucket`, rows go as history lines through `file_stream`,
/// with the summary, and the last request marks the run complete
/// (docs/wandb-protocol.md).
///
/// The first request goes at once, then at most one per transmit interval; `{}` is the
/// heartbeat; a request is at most `maxRequestBytes`, history lines counted as they go out.
final class WandbRemote: SyncRemote {
    private let settings: WandbSettings
    private var translator: HistoryTranslator

    // The batch being gathered: drafts until the server acknowledges it.
    private var content: [UInt8] = []
    private var lineCount = 0
    private var historyStart: Int64 = 0
    /// The `system` table's rows, as `wandb-events.jsonl` lines (JSON string literals).
    private var events: [UInt8] = []
    private var eventCount = 0
    private var eventScanner = JournalScanner(path: "")
    /// The run's start (Unix seconds; 0 when unknown): events' `_runtime` counts from it, as history's does.
    private var runStart: Double = 0
    private var summary: [String: JSONValue] = [:]
    private var tables: [String] = []
    private var knownTables: Set<String> = []
    private var budget = 0

    private var summaryEverSent = false
    private var lastSummarySize = 0

    init(settings: WandbSettings, cursor: SyncState) {
        self.settings = settings
        self.translator = HistoryTranslator(
            startTime: cursor.spec.startTime, minimumLevel: cursor.minimumLevel,
            skippedTables: cursor.sendsConfigTable ? [] : [ConfigTable.name])
    }

    let name = SyncState.remoteName
    var isOnline: Bool { settings.mode == .online }
    var tracesHTTP: Bool { settings.debugHTTP }

    var http: HTTPClientConfiguration {
        HTTPClientConfiguration(
            username: "api", password: settings.apiKey, connectTimeout: settings.options.connectTimeout,
            proxy: settings.proxy, userAgent: "noko-swift")
    }

    var pacing: SyncPacing {
        SyncPacing(transmitInterval: settings.options.transmitInterval, heartbeatInterval: settings.options.heartbeatInterval)
    }

    func record(of cursor: SyncState) -> WandbRemoteRecord { cursor.remoteRecord }

    func describeRefusal(status: Int, what: String, serverMessage: String?) -> String {
        RetryRules.fatalMessage(status: status, what: what, serverMessage: serverMessage)
    }

    // MARK: - Requests

    private var graphQLURL: String { settings.baseURL + "/graphql" }

    private func fileStreamURL(_ cursor: SyncState) -> String {
        let segments = [cursor.entity ?? "", cursor.project, cursor.runID].map(WandbSettings.percentEncoded)
        return settings.baseURL + "/files/" + segments.joined(separator: "/") + "/file_stream"
    }

    private func upsertBucket(_ body: [UInt8], what: String) -> RemoteRequest {
        RemoteRequest(
            url: graphQLURL, body: body, timeout: settings.options.graphQLTimeout,
            rule: RetryRules.rule(for: .upsertBucket, policy: settings.options.retry), what: what)
    }

    private func fileStream(_ body: [UInt8], cursor: SyncState, what: String) -> RemoteRequest {
        RemoteRequest(
            url: fileStreamURL(cursor), body: body, timeout: settings.options.fileStreamTimeout,
            rule: RetryRules.rule(for: .fileStream, policy: settings.options.retry), what: what)
    }

    /// The session's first UpsertBucket: creates the run, or finds it.
    func open(_ cursor: inout SyncState, link: RemoteLink) -> RemoteStep {
        let body = UpsertBucket.body(
            runID: cursor.runID, project: cursor.project, entity: cursor.entity, spec: cursor.spec, tables: cursor.tables,
            withRunParameters: true)
        switch link.send(upsertBucket(body, what: "creating the run (UpsertBucket)")) {
        case .cancelled:
            return .cancelled
        case .failed(let message):
            return .failed(message)
        case .ok(let response):
            switch UpsertBucket.parse(response.body) {
            case .failure(let error):
                return .failed("wandb refused to create the run: \(describe(error, link))")
            case .success(let result):
                if !cursor.created {
                    // A run ID that already has history (given by the user) is appended to.
                    // Saved before any row is sent, so that after a crash the server's extra
                    // lines are known to be ours and get overwritten, not appended to.
                    cursor.created = true
                    if result.historyLineCount > 0 {
                        cursor.historyLines = result.historyLineCount
                        link.emit(.info, "run \(result.runID) already has \(result.historyLineCount) history lines on the server; appending after them")
                    }
                }
                let firstTime = cursor.entity == nil || cursor.url == nil
                cursor.runID = result.runID
                cursor.project = result.project
                cursor.entity = result.entity
                cursor.url = WandbSettings.runURL(appURL: settings.appURL, entity: result.entity, project: result.project, runID: result.runID)
                cursor.mode = .online
                link.emit(firstTime ? .info : .debug, "syncing run \(cursor.spec.displayName ?? cursor.spec.runName) to \(cursor.url!)")
                return .done
            }
        }
    }

    func heartbeat(_ cursor: SyncState, link: RemoteLink) -> RemoteStep {
        switch link.send(fileStream(Array("{}".utf8), cursor: cursor, what: "heartbeat (file_stream)")) {
        case .cancelled: return .cancelled
        case .failed(let message): return .failed(message)
        case .ok(let response):
            noteStop(response, link)
            return .done
        }
    }

    // MARK: - Batches

    func beginBatch(_ cursor: SyncState) {
        content.removeAll(keepingCapacity: true)
        lineCount = 0
        historyStart = cursor.historyLines
        events.removeAll(keepingCapacity: true)
        eventCount = 0
        runStart = cursor.spec.startTime
        summary = cursor.summary
        tables = cursor.tables
        knownTables = Set(cursor.tables)
        let limit = settings.options.maxRequestBytes
        budget = max(limit / 2, limit - 2 * lastSummarySize - 4096)
    }

    func add(_ line: UnsafeRawBufferPointer, rank: Int) -> RowFate {
        if rank == 0, SystemEvents.isSystemRow(line) { return addEvent(line) }
        let mark = content.count
        let first = lineCount == 0
        switch translator.append(line, rank: rank, historyStep: historyStart + Int64(lineCount), first: first, to: &content) {
        case .skipped: return .skipped
        case .malformed(let problem): return .malformed(problem)
        case .invalid(let reason): return .invalid(reason)
        case .appended(let table):
            guard content.count + events.count <= budget else {
                content.removeSubrange(mark...)
                guard first else { return .full }
                return .tooBig(
                    table: table,
                    reason: "as a history line it is larger than the \(settings.options.maxRequestBytes)-byte request limit")
            }
            translator.accept(line)
            if knownTables.insert(table).inserted { tables.append(table) }
            lineCount += 1
            return .accepted
        }
    }

    func endBatch() {
        translator.drainSummary(into: &summary)
    }

    /// A row of the `system` table: a line of `wandb-events.jsonl` for the System tab.
    private func addEvent(_ line: UnsafeRawBufferPointer) -> RowFate {
        let members: [(String, Scalar)]
        do {
            members = try eventScanner.record(line, number: 0).members
        } catch {
            return .malformed("\(error)")
        }
        let start = runStart > 0 ? runStart : translator.startTime
        guard let event = SystemEvents.line(members, startTime: start > 0 ? start : nil) else { return .skipped }
        var text = WireWriter(capacity: 512)
        text.write(event)
        let mark = events.count
        if eventCount > 0 { events.append(0x2C) }
        var literal = WireWriter(capacity: text.bytes.count + 16)
        literal.writeEscaped(text.bytes)
        events.append(contentsOf: literal.bytes)
        guard content.count + events.count <= budget else {
            events.removeSubrange(mark...)
            return lineCount + eventCount == 0 ? .skipped : .full
        }
        eventCount += 1
        return .accepted
    }


    func send(_ batch: SyncBatch, cursor: inout SyncState, link: RemoteLink) -> RemoteStep {
        if tables != cursor.tables {
            let declared = upsertConfig(cursor, link: link)
            if declared != .done { return declared }
        }
        let isFinal = batch.exitCode != nil
        // The run's whole runtime, for the dashboard's Runtime: the last row's `_runtime`
        // misses whatever ran after it.
        let runtime = batch.endTime.map { max(0, $0 - (cursor.spec.startTime > 0 ? cursor.spec.startTime : translator.startTime)) }
        let sendSummary =
            lineCount > 0 || batch.userSummaryChanged || (isFinal && (runtime != nil || (!summaryEverSent && !cursor.summary.isEmpty)))
        let summaryObject =
            sendSummary ? FileStreamBody.summaryObject(derived: summary, user: batch.userSummary, runtime: runtime) : nil
        let body = FileStreamBody.make(
            historyOffset: cursor.historyLines, historyContent: content, historyLineCount: lineCount,
            summary: summaryObject, exitCode: batch.exitCode.map(Int64.init), eventsOffset: cursor.eventLines,
            eventsContent: events, eventsLineCount: eventCount)
        switch link.send(fileStream(body, cursor: cursor, what: "uploading rows (file_stream)")) {
        case .cancelled:
            return .cancelled
        case .failed(let message):
            return .failed(message)
        case .ok(let response):
            if summaryObject != nil {
                summaryEverSent = true
                lastSummarySize = body.count - content.count
            }
            noteStop(response, link)
            return .done
        }
    }

    func commit(_ batch: SyncBatch, to cursor: inout SyncState) {
        cursor.historyLines += Int64(lineCount)
        cursor.eventLines += Int64(eventCount)
        cursor.summary = summary
        cursor.tables = tables
        if cursor.spec.startTime <= 0 { cursor.spec.startTime = translator.startTime }
    }

    /// Re-sends the config when a new table needs its x-axis declared.
    private func upsertConfig(_ cursor: SyncState, link: RemoteLink) -> RemoteStep {
        let body = UpsertBucket.body(
            runID: cursor.runID, project: cursor.project, entity: cursor.entity, spec: cursor.spec, tables: tables,
            withRunParameters: false)
        switch link.send(upsertBucket(body, what: "declaring table axes (UpsertBucket)")) {
        case .cancelled:
            return .cancelled
        case .failed(let message):
            return .failed(message)
        case .ok(let response):
            if case .failure(let error) = UpsertBucket.parse(response.body) {
                return .failed("wandb refused the config update: \(describe(error, link))")
            }
            return .done
        }
    }

    private func describe(_ error: ProtocolError, _ link: RemoteLink) -> String {
        switch error {
        case .graphQL(let message): return link.redact(message)
        case .malformedResponse(let message): return message
        }
    }

    private func noteStop(_ response: HTTPResponse, _ link: RemoteLink) {
        guard FileStreamBody.stopRequested(in: response.body), link.requestStop() else { return }
        if link.stopEndsTheProgram {
            link.emit(
                .warning,
                "the run was stopped from the wandb UI; ending the program with SIGTERM, so the run finishes as killed (WandbOptions.stopAction = .flag only sets `run.stopRequested`)")
            link.endTheProgram()
        } else {
            link.emit(.warning, "the run was stopped from the wandb UI; `run.stopRequested` is now true")
        }
    }
}
