import Dispatch
import Foundation
import NokoCore
import Synchronization

/// The upload loop of one session, on its own thread: reads the journals from the
/// acknowledged offsets, sends file_stream requests one at a time, and saves
/// `sync/wandb.json` after every acknowledgement.
///
/// Timing follows wandb-core (wandb-protocol.md §6): the first request goes at once, then
/// at most one per transmit interval, except that a request which hit the size limit is
/// followed at once, and at finish everything goes without waiting; `{}` after the
/// heartbeat interval without a request. Retries follow §7.
final class Uploader {
    private let directory: URL
    private let settings: WandbSettings
    private var state: SyncState
    private let control: SyncControl
    private let progress: (@Sendable (WandbSyncProgress) -> Void)?
    /// Beside a running program (not `noko-run sync`, which reports failures itself).
    private let live: Bool
    private let redactor: Redactor
    private let clock = ContinuousClock()

    private var client: HTTPClient?
    private var sources: [JournalSource] = []
    private var lastRankScan: ContinuousClock.Instant?
    private var translator: HistoryTranslator
    private var runCreated = false
    private var lastRequestStart: ContinuousClock.Instant?
    private var lastRequestEnd: ContinuousClock.Instant
    private var sentUserSummaryVersion: Int
    private var summaryEverSent = false
    private var lastSummarySize = 0
    private var previousBatchWasFull = false
    private var warnedSaveFailure = false

    init(
        directory: URL, settings: WandbSettings, state: SyncState, control: SyncControl,
        progress: (@Sendable (WandbSyncProgress) -> Void)?, live: Bool
    ) {
        self.directory = directory
        self.live = live
        self.settings = settings
        self.state = state
        self.control = control
        self.progress = progress
        self.redactor = Redactor(secrets: [settings.apiKey, settings.proxy.proxy.flatMap(ProxySettings.password(in:))])
        self.translator = HistoryTranslator(startTime: state.spec.startTime, minimumLevel: state.minimumLevel)
        self.lastRequestEnd = clock.now
        // A user summary restored from the state still has to reach the server.
        self.sentUserSummaryVersion = state.userSummary.isEmpty ? 0 : -1
    }

    /// Runs the session to its end.
    func run() -> UploadOutcome {
        if settings.mode == .offline { return runOffline() }
        return runOnline()
    }

    // MARK: - Offline

    /// Offline, nothing leaves the machine: the journal already holds the rows, so only the
    /// user's summary keys need saving, for `noko-run sync` to upload later.
    private func runOffline() -> UploadOutcome {
        var savedVersion = 0
        while true {
            let (exitCode, version, user) = control.shared.withLock { ($0.finishExitCode, $0.userSummaryVersion, $0.userSummary) }
            if version != savedVersion {
                state.userSummary = user
                save()
                savedVersion = version
            }
            if exitCode != nil || control.isCancelled {
                save()
                return exitCode != nil ? .offline : .cancelled
            }
            _ = control.wake.wait(timeout: .now() + .seconds(1))
        }
    }

    // MARK: - Online

    private var transmitInterval: Duration { settings.options.transmitInterval }
    private var heartbeatInterval: Duration { settings.options.heartbeatInterval }
    /// How often the journal is checked for new rows while idle.
    private var pollInterval: Duration {
        min(max(transmitInterval / 4, .milliseconds(10)), .seconds(1))
    }

    private func runOnline() -> UploadOutcome {
        var trace: (@Sendable (String) -> Void)?
        if settings.debugHTTP {
            let messages = control.messages
            trace = { line in messages(WandbMessage(level: .debug, text: "http \(line)")) }
        }
        do {
            let client = try HTTPClient(
                configuration: HTTPClientConfiguration(
                    username: "api", password: settings.apiKey, connectTimeout: settings.options.connectTimeout,
                    proxy: settings.proxy, userAgent: "noko-swift", trace: trace))
            self.client = client
            control.register(client.cancellation)
        } catch {
            return fail("cannot start the HTTP client: \(error)")
        }
        openSources()
        while true {
            if control.isCancelled { return .cancelled }
            if !runCreated {
                if let outcome = createRun() { return outcome }
                runCreated = true
                continue
            }
            let (exitCode, userVersion, userSummary) = control.shared.withLock {
                ($0.finishExitCode, $0.userSummaryVersion, $0.userSummary)
            }
            let finishing = exitCode != nil
            if !finishing, !previousBatchWasFull, let start = lastRequestStart, clock.now < start + transmitInterval {
                wait(until: start + transmitInterval)
                continue
            }

            let batch: Batch
            do {
                batch = try gather()
            } catch {
                return fail("cannot read the journal: \(error)")
            }
            previousBatchWasFull = batch.full
            let userChanged = userVersion != sentUserSummaryVersion
            let isFinal = finishing && !batch.full
            if batch.lineCount == 0 && !userChanged && !isFinal {
                if batch.advanced { commit(batch, userSummary: userSummary, userVersion: userVersion, response: nil) }
                if clock.now - lastRequestEnd >= heartbeatInterval {
                    if let outcome = sendHeartbeat() { return outcome }
                } else {
                    wait(until: min(clock.now + pollInterval, lastRequestEnd + heartbeatInterval))
                }
                continue
            }

            if batch.tables != state.tables, let outcome = upsertConfig(tables: batch.tables) { return outcome }
            let sendSummary = batch.lineCount > 0 || userChanged || (isFinal && !summaryEverSent && !state.summary.isEmpty)
            let summary = sendSummary ? FileStreamBody.summaryObject(derived: batch.summary, user: userSummary) : nil
            let body = FileStreamBody.make(
                historyOffset: state.historyLines, historyContent: batch.content, historyLineCount: batch.lineCount,
                summary: summary, exitCode: isFinal ? Int64(exitCode!) : nil)
            lastRequestStart = clock.now
            switch send(url: fileStreamURL, body: body, endpoint: .fileStream, timeout: settings.options.fileStreamTimeout, what: "uploading rows (file_stream)") {
            case .cancelled:
                return .cancelled
            case .fatal(let message):
                return fail(message)
            case .ok(let response):
                lastRequestEnd = clock.now
                if summary != nil {
                    summaryEverSent = true
                    lastSummarySize = body.count - batch.content.count
                }
                commit(batch, userSummary: userSummary, userVersion: userVersion, response: response)
                if isFinal {
                    state.finished = true
                    state.exitCode = Int64(exitCode!)
                    save()
                    return .finished
                }
            }
        }
    }

    // MARK: - Requests

    private var graphQLURL: String { settings.baseURL + "/graphql" }

    private var fileStreamURL: String {
        let segments = [state.entity ?? "", state.project, state.runID].map(WandbSettings.percentEncoded)
        return settings.baseURL + "/files/" + segments.joined(separator: "/") + "/file_stream"
    }

    /// The first UpsertBucket of the session; nil when the run exists on the server.
    private func createRun() -> UploadOutcome? {
        let body = UpsertBucket.body(
            runID: state.runID, project: state.project, entity: state.entity, spec: state.spec, tables: state.tables,
            withRunParameters: true)
        switch send(url: graphQLURL, body: body, endpoint: .upsertBucket, timeout: settings.options.graphQLTimeout, what: "creating the run (UpsertBucket)") {
        case .cancelled:
            return .cancelled
        case .fatal(let message):
            return fail(message)
        case .ok(let response):
            switch UpsertBucket.parse(response.body) {
            case .failure(let error):
                return fail("wandb refused to create the run: \(describe(error))")
            case .success(let result):
                if !state.created {
                    // A run ID that already has history (given by the user) is appended to.
                    // Saved before any row is sent, so that after a crash the server's extra
                    // lines are known to be ours and get overwritten, not appended to.
                    state.created = true
                    if result.historyLineCount > 0 {
                        state.historyLines = result.historyLineCount
                        emit(.info, "run \(result.runID) already has \(result.historyLineCount) history lines on the server; appending after them")
                    }
                }
                let firstTime = state.entity == nil || state.url == nil
                state.runID = result.runID
                state.project = result.project
                state.entity = result.entity
                state.url = WandbSettings.runURL(appURL: settings.appURL, entity: result.entity, project: result.project, runID: result.runID)
                state.mode = .online
                save()
                control.updateRecord(state.remoteRecord)
                emit(firstTime ? .info : .debug, "syncing run \(state.spec.displayName ?? state.spec.runName) to \(state.url!)")
                return nil
            }
        }
    }

    /// Re-sends the config when a new table needs its x-axis declared.
    private func upsertConfig(tables: [String]) -> UploadOutcome? {
        let body = UpsertBucket.body(
            runID: state.runID, project: state.project, entity: state.entity, spec: state.spec, tables: tables,
            withRunParameters: false)
        switch send(url: graphQLURL, body: body, endpoint: .upsertBucket, timeout: settings.options.graphQLTimeout, what: "declaring table axes (UpsertBucket)") {
        case .cancelled:
            return .cancelled
        case .fatal(let message):
            return fail(message)
        case .ok(let response):
            if case .failure(let error) = UpsertBucket.parse(response.body) {
                return fail("wandb refused the config update: \(describe(error))")
            }
            return nil
        }
    }

    private func sendHeartbeat() -> UploadOutcome? {
        lastRequestStart = clock.now
        switch send(url: fileStreamURL, body: Array("{}".utf8), endpoint: .fileStream, timeout: settings.options.fileStreamTimeout, what: "heartbeat (file_stream)") {
        case .cancelled: return .cancelled
        case .fatal(let message): return fail(message)
        case .ok(let response):
            lastRequestEnd = clock.now
            noteStop(response)
            return nil
        }
    }

    private enum SendResult {
        case ok(HTTPResponse)
        case fatal(String)
        case cancelled
    }

    /// One request, retried per §7 until it succeeds, fails fatally, runs out of tries or
    /// is cancelled. Requests are strictly serial: nothing else is sent meanwhile.
    private func send(url: String, body: [UInt8], endpoint: RetryRules.Endpoint, timeout: Duration, what: String) -> SendResult {
        guard let client else { return .fatal("no HTTP client") }
        let policy = settings.options.retry
        let limit = endpoint == .fileStream ? policy.fileStreamRetries : policy.graphQLRetries
        var attempt = 0
        while true {
            if control.isCancelled { return .cancelled }
            let reason: String
            var retryAfter: String?
            do throws(HTTPClientError) {
                let response = try client.post(url: url, body: body, timeout: timeout)
                switch RetryRules.verdict(status: response.status, endpoint: endpoint) {
                case .success:
                    if attempt > 0 { emit(.info, "\(what) went through after \(attempt) \(attempt == 1 ? "retry" : "retries")") }
                    return .ok(response)
                case .fatal:
                    return .fatal(RetryRules.fatalMessage(status: response.status, what: what, serverMessage: serverMessage(response.body)))
                case .retry:
                    reason = "HTTP \(response.status)"
                    retryAfter = response.header("Retry-After")
                }
            } catch {
                if case .cancelled = error { return .cancelled }
                reason = error.description
            }
            if attempt >= limit {
                return .fatal("gave up \(what) after \(attempt + 1) tries; last: \(reason)")
            }
            let delay = RetryRules.delay(attempt: attempt, retryAfter: retryAfter, policy: policy)
            emit(attempt == 0 ? .warning : .debug, "\(what) failed (\(reason)); retrying in \(format(delay))")
            if !sleep(for: delay) { return .cancelled }
            attempt += 1
        }
    }

    /// The server's own words about a refusal, short and redacted.
    private func serverMessage(_ body: [UInt8]) -> String? {
        guard !body.isEmpty else { return nil }
        var text: String?
        if let json = try? JSONValue(parsing: body) {
            text = json["error"]?.stringValue ?? json["errors"]?.arrayValue?.first?["message"]?.stringValue
                ?? json["message"]?.stringValue
        }
        if text == nil { text = String(decoding: body.prefix(300), as: UTF8.self) }
        guard var message = text?.trimmingCharacters(in: .whitespacesAndNewlines), !message.isEmpty else { return nil }
        if message.count > 200 { message = String(message.prefix(200)) + "…" }
        return redactor(message)
    }

    private func describe(_ error: ProtocolError) -> String {
        switch error {
        case .graphQL(let message): return redactor(message)
        case .malformedResponse(let message): return message
        }
    }

    private func noteStop(_ response: HTTPResponse) {
        if FileStreamBody.stopRequested(in: response.body), control.requestStop() {
            emit(.warning, "the run was stopped from the wandb UI; `run.stopRequested` is now true")
        }
    }

    // MARK: - Reading the journals

    private struct Batch {
        var content: [UInt8] = []
        var lineCount = 0
        var progress: [String: SyncState.JournalProgress]
        var summary: [String: JSONValue]
        var tables: [String]
        var full = false
        var advanced = false
    }

    private func openSources() {
        sources = [source(for: JournalSource.mainJournal, rank: 0)]
        refreshRankSources()
    }

    private func source(for path: String, rank: Int) -> JournalSource {
        let offset = state.journals[path]?.offset ?? 0
        let source = JournalSource(directory: directory, relativePath: path, rank: rank, offset: offset)
        if offset > 0 && source.fileSize < offset {
            emit(.warning, "\(source.reader.path) is shorter (\(source.fileSize) bytes) than what was already uploaded (\(offset) bytes); was it replaced? Only rows appended after byte \(offset) will be uploaded")
        }
        return source
    }

    private func refreshRankSources() {
        guard state.otherRanks == .prefixed else { return }
        if let last = lastRankScan, clock.now - last < .seconds(1) { return }
        lastRankScan = clock.now
        for (rank, path) in JournalSource.rankJournals(in: directory) where !sources.contains(where: { $0.relativePath == path }) {
            sources.append(source(for: path, rank: rank))
        }
    }

    /// What became of one journal line while gathering.
    private enum LineFate {
        case accepted(table: String)
        case skipped
        case malformed(String)
        case invalid(String)
        case tooBig(table: String)
        /// Does not fit in this request: read it again for the next one.
        case deferred
    }

    /// Reads every complete new row (up to the request size limit) into a batch. The
    /// batch's progress, summary and tables are drafts until the server acknowledges it.
    private func gather() throws -> Batch {
        refreshRankSources()
        var batch = Batch(progress: state.journals, summary: state.summary, tables: state.tables)
        var knownTables = Set(state.tables)
        let budget = max(settings.options.maxRequestBytes / 2, settings.options.maxRequestBytes - 2 * lastSummarySize - 4096)
        outer: for source in sources {
            var progress = batch.progress[source.relativePath] ?? SyncState.JournalProgress(offset: 0, rows: 0)
            defer { batch.progress[source.relativePath] = progress }
            while true {
                let step = state.historyLines + Int64(batch.lineCount)
                let first = batch.lineCount == 0
                let read = try source.reader.withNextLine { line -> (fate: LineFate, offset: Int64, end: Int64) in
                    let mark = batch.content.count
                    let fate: LineFate
                    switch translator.append(line.bytes, rank: source.rank, historyStep: step, first: first, to: &batch.content) {
                    case .skippedByLevel: fate = .skipped
                    case .malformed(let problem): fate = .malformed(problem)
                    case .invalid(let reason): fate = .invalid(reason)
                    case .appended(let table):
                        if batch.content.count <= budget {
                            translator.accept(line.bytes)
                            fate = .accepted(table: table)
                        } else {
                            batch.content.removeSubrange(mark...)
                            fate = first ? .tooBig(table: table) : .deferred
                        }
                    }
                    return (fate, Int64(line.offset), Int64(line.endOffset))
                }
                guard let (fate, offset, end) = read else { break }
                switch fate {
                case .deferred:
                    source.reader.seek(to: UInt64(offset))
                    batch.full = true
                    break outer
                case .accepted(let table):
                    if knownTables.insert(table).inserted { batch.tables.append(table) }
                    batch.lineCount += 1
                    progress.rows += 1
                case .skipped:
                    progress.rows += 1
                case .malformed(let problem):
                    if !source.warnedMalformed {
                        source.warnedMalformed = true
                        emit(.warning, "skipping a line of \(source.reader.path) at byte \(offset) that is not a JSON object (\(problem)); further bad lines of this file are skipped silently")
                    }
                case .invalid(let reason):
                    if !source.warnedInvalid {
                        source.warnedInvalid = true
                        emit(.warning, "skipping the row of \(source.reader.path) at byte \(offset): \(reason); further such rows are skipped silently")
                    }
                case .tooBig(let table):
                    progress.rows += 1
                    emit(.warning, "dropping the row of table \"\(table)\" at byte \(offset) of \(source.reader.path): as a history line it is larger than the \(settings.options.maxRequestBytes)-byte request limit")
                }
                progress.offset = end
                batch.advanced = true
            }
        }
        translator.drainSummary(into: &batch.summary)
        return batch
    }

    // MARK: - State

    private func commit(_ batch: Batch, userSummary: [String: JSONValue], userVersion: Int, response: HTTPResponse?) {
        state.journals = batch.progress
        state.historyLines += Int64(batch.lineCount)
        state.summary = batch.summary
        state.tables = batch.tables
        if state.spec.startTime <= 0 { state.spec.startTime = translator.startTime }
        if response != nil {
            state.userSummary = userSummary
            sentUserSummaryVersion = userVersion
            state.lastError = nil
        }
        save()
        if let response { noteStop(response) }
        control.shared.withLock { $0.rowsUploaded += Int64(batch.lineCount) }
        if let progress {
            let done = sources.reduce(Int64(0)) { $0 + (state.journals[$1.relativePath]?.offset ?? 0) }
            let total = sources.reduce(Int64(0)) { $0 + $1.fileSize }
            progress(WandbSyncProgress(rowsUploaded: state.historyLines, bytesUploaded: done, bytesTotal: max(total, done)))
        }
    }

    private func save() {
        do {
            try state.save(to: directory)
        } catch {
            if !warnedSaveFailure {
                warnedSaveFailure = true
                emit(.warning, "\(error); the upload goes on, but a crash now would re-send rows (harmlessly, at the same offsets)")
            }
        }
    }

    private func fail(_ message: String) -> UploadOutcome {
        let message = redactor(message)
        state.lastError = message
        save()
        if live {
            emit(.error, "\(message). wandb sync stopped; local logging goes on. Finish the upload later with: \(WandbSync.syncCommand(for: directory))")
        }
        return .failed(message)
    }

    var finalState: SyncState { state }

    // MARK: - Waiting

    private func emit(_ level: LogLevel, _ text: String) {
        control.messages(WandbMessage(level: level, text: redactor(text)))
    }

    /// Waits until `deadline` or a wake-up (finish, cancel), whichever comes first.
    private func wait(until deadline: ContinuousClock.Instant) {
        let remaining = deadline - clock.now
        guard remaining > .zero else { return }
        _ = control.wake.wait(timeout: .now() + .nanoseconds(Int(min(remaining, .seconds(3600)).nanoseconds)))
    }

    /// Sleeps the whole `duration` unless cancelled; false when cancelled.
    private func sleep(for duration: Duration) -> Bool {
        let deadline = clock.now + duration
        while clock.now < deadline {
            if control.isCancelled { return false }
            wait(until: deadline)
        }
        return !control.isCancelled
    }

    private func format(_ duration: Duration) -> String {
        let seconds = duration.seconds
        return seconds < 1 ? "\(Int((seconds * 1000).rounded())) ms" : String(format: "%.1f s", seconds)
    }
}

extension Duration {
    /// Whole nanoseconds.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
