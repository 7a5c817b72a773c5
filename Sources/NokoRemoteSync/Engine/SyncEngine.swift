import Dispatch
import Foundation
import NokoCore
import NokoPlatform
import Synchronization

/// The upload loop of one session, on its own thread: reads the journals from the
/// acknowledged offsets, hands their rows to the remote batch by batch, sends its requests
/// one at a time, and saves the cursor after every acknowledgement.
///
/// Timing, for every remote: the first request goes at once, then at most one per transmit
/// interval, except that a request which hit the batch limit is followed at once, and at
/// finish everything goes without waiting; a heartbeat after the heartbeat interval without
/// a request, when the remote has one. Retries follow each request's ``RetryRule``.
package final class SyncEngine<Remote: SyncRemote> {
    private let directory: URL
    private let remote: Remote
    private var cursor: Remote.Cursor
    private let control: SyncControl<Remote.Record>
    private let progress: (@Sendable (SyncProgress) -> Void)?
    /// Beside a running program (not `noko-run sync`, which reports failures itself).
    private let live: Bool
    private let redactor: Redactor
    private let clock = ContinuousClock()

    private var link: RemoteLink?
    private var sources: [JournalSource] = []
    private var lastRankScan: ContinuousClock.Instant?
    private var lastRequestStart: ContinuousClock.Instant?
    private var lastRequestEnd: ContinuousClock.Instant
    private var sentUserSummaryVersion: Int
    private var sentUpdateVersion = 0
    private var previousBatchWasFull = false
    private var warnedSaveFailure = false

    package init(
        directory: URL, remote: Remote, cursor: Remote.Cursor, control: SyncControl<Remote.Record>,
        progress: (@Sendable (SyncProgress) -> Void)?, live: Bool
    ) {
        self.directory = directory
        self.remote = remote
        self.live = live
        self.cursor = cursor
        self.control = control
        self.progress = progress
        self.redactor = Redactor(secrets: [remote.http.password, remote.http.bearerToken, remote.http.proxy.proxy.flatMap(ProxySettings.password(in:))])
        self.lastRequestEnd = clock.now
        // User summary keys restored from the cursor still have to reach the server.
        self.sentUserSummaryVersion = cursor.userSummary.isEmpty ? 0 : -1
    }

    /// Runs the session to its end.
    package func run() -> SyncOutcome {
        remote.isOnline ? runOnline() : runOffline()
    }

    package var finalCursor: Remote.Cursor { cursor }

    // MARK: - Offline

    /// Offline, nothing leaves the machine: the journal already holds the rows, so only the
    /// user's summary keys need saving, for `noko-run sync` to upload later.
    private func runOffline() -> SyncOutcome {
        var savedVersion = 0
        while true {
            let (exitCode, version, user) = control.shared.withLock { ($0.finishExitCode, $0.userSummaryVersion, $0.userSummary) }
            if version != savedVersion {
                cursor.userSummary = user
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

    private var transmitInterval: Duration { remote.pacing.transmitInterval }
    /// How often the journal is checked for new rows while idle.
    private var pollInterval: Duration {
        min(max(transmitInterval / 4, .milliseconds(10)), .seconds(1))
    }

    private func runOnline() -> SyncOutcome {
        var configuration = remote.http
        if remote.tracesHTTP {
            let messages = control.messages
            configuration.trace = { line in messages(SyncMessage(level: .debug, text: "http \(line)")) }
        }
        do {
            let client = try HTTPClient(configuration: configuration)
            control.register(client.cancellation)
            link = RemoteLink(engine: self, client: client)
        } catch {
            return fail("cannot start the HTTP client: \(error)")
        }
        guard let link else { return fail("no HTTP client") }
        switch remote.open(&cursor, link: link) {
        case .cancelled: return .cancelled
        case .failed(let message): return fail(message)
        case .done:
            save()
            control.updateRecord(remote.record(of: cursor))
        }
        // After `open`, which may find rows of the journal already on the server.
        openSources()
        while true {
            if control.isCancelled { return .cancelled }
            let (exitCode, endTime, userVersion, userSummary) = control.shared.withLock {
                ($0.finishExitCode, $0.finishTime, $0.userSummaryVersion, $0.userSummary)
            }
            let finishing = exitCode != nil
            if !finishing, !previousBatchWasFull, let start = lastRequestStart, clock.now < start + transmitInterval {
                wait(until: start + transmitInterval)
                continue
            }
            let (updateVersion, update) = control.shared.withLock { ($0.updateVersion, $0.update) }
            if updateVersion != sentUpdateVersion {
                lastRequestStart = clock.now
                switch remote.update(update, cursor: &cursor, link: link) {
                case .cancelled: return .cancelled
                case .failed(let message): return fail(message)
                case .done:
                    lastRequestEnd = clock.now
                    sentUpdateVersion = updateVersion
                    save()
                }
            }

            let gathered: Gathered
            do {
                gathered = try gather()
            } catch {
                return fail("cannot read the journal: \(error)")
            }
            previousBatchWasFull = gathered.full
            let isFinal = finishing && !gathered.full
            let batch = SyncBatch(
                rows: gathered.rows, extras: gathered.extras, full: gathered.full, userSummary: userSummary,
                userSummaryChanged: userVersion != sentUserSummaryVersion, exitCode: isFinal ? exitCode : nil,
                endTime: isFinal ? endTime : nil)
            if batch.rows == 0 && batch.extras == 0 && !batch.userSummaryChanged && !isFinal {
                if gathered.advanced { commit(batch, progress: gathered.progress, acknowledged: false, userVersion: userVersion) }
                if let heartbeat = remote.pacing.heartbeatInterval, clock.now - lastRequestEnd >= heartbeat {
                    lastRequestStart = clock.now
                    switch remote.heartbeat(cursor, link: link) {
                    case .cancelled: return .cancelled
                    case .failed(let message): return fail(message)
                    case .done: lastRequestEnd = clock.now
                    }
                } else {
                    let idleLimit = remote.pacing.heartbeatInterval.map { lastRequestEnd + $0 } ?? clock.now + pollInterval
                    wait(until: min(clock.now + pollInterval, idleLimit))
                }
                continue
            }

            lastRequestStart = clock.now
            switch remote.send(batch, cursor: &cursor, link: link) {
            case .cancelled:
                return .cancelled
            case .failed(let message):
                return fail(message)
            case .done:
                lastRequestEnd = clock.now
                commit(batch, progress: gathered.progress, acknowledged: true, userVersion: userVersion)
                if let exitCode = batch.exitCode {
                    cursor.finished = true
                    cursor.exitCode = Int64(exitCode)
                    save()
                    return .finished
                }
            }
        }
    }

    // MARK: - Requests

    fileprivate enum Sent {
        case ok(HTTPResponse)
        case fatal(String)
        case cancelled
    }

    /// One request, retried by its rule until it succeeds, fails fatally, runs out of tries
    /// or is cancelled. Requests are strictly serial: nothing else is sent meanwhile.
    fileprivate func send(_ request: RemoteRequest, client: HTTPClient) -> RemoteAnswer {
        var attempt = 0
        while true {
            if control.isCancelled { return .cancelled }
            let reason: String
            var retryAfter: String?
            do throws(HTTPClientError) {
                let response = try client.send(
                    method: request.method, url: request.url, body: request.body, headers: request.headers,
                    credentials: request.sendsCredentials, timeout: request.timeout)
                switch request.rule.verdict(status: response.status) {
                case .success:
                    if attempt > 0 { emit(.info, "\(request.what) went through after \(attempt) \(attempt == 1 ? "retry" : "retries")") }
                    return .ok(response)
                case .fatal:
                    return .failed(remote.describeRefusal(status: response.status, what: request.what, serverMessage: serverMessage(response.body)))
                case .retry:
                    reason = "HTTP \(response.status)"
                    retryAfter = response.header("Retry-After")
                }
            } catch {
                if case .cancelled = error { return .cancelled }
                reason = error.description
            }
            if attempt >= request.rule.retries {
                return .failed("gave up \(request.what) after \(attempt + 1) tries; last: \(reason)")
            }
            let delay = request.rule.backoff.delay(attempt: attempt, retryAfter: retryAfter)
            emit(attempt == 0 ? .warning : .debug, "\(request.what) failed (\(reason)); retrying in \(format(delay))")
            if !sleep(for: delay) { return .cancelled }
            attempt += 1
        }
    }

    /// The server's own words about a refusal, short and redacted: `error`, the first of
    /// `errors`, or `message` of a JSON answer, else the start of the body.
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

    // MARK: - Reading the journals

    private struct Gathered {
        var rows = 0
        var extras = 0
        var progress: [String: JournalProgress]
        var full = false
        var advanced = false
    }

    private func openSources() {
        sources = [source(for: JournalSource.mainJournal, rank: 0)]
        refreshRankSources()
    }

    private func source(for path: String, rank: Int) -> JournalSource {
        let offset = cursor.journals[path]?.offset ?? 0
        let source = JournalSource(directory: directory, relativePath: path, rank: rank, offset: offset)
        if offset > 0 && source.fileSize < offset {
            emit(.warning, "\(source.reader.path) is shorter (\(source.fileSize) bytes) than what was already uploaded (\(offset) bytes); was it replaced? Only rows appended after byte \(offset) will be uploaded")
        }
        return source
    }

    private func refreshRankSources() {
        guard cursor.uploadsOtherRanks else { return }
        if let last = lastRankScan, clock.now - last < .seconds(1) { return }
        lastRankScan = clock.now
        for (rank, path) in JournalSource.rankJournals(in: directory) where !sources.contains(where: { $0.relativePath == path }) {
            sources.append(source(for: path, rank: rank))
        }
    }

    /// Hands every complete new row to the remote until its batch is full. The progress is
    /// a draft until the server acknowledges the batch.
    private func gather() throws -> Gathered {
        refreshRankSources()
        var gathered = Gathered(progress: cursor.journals)
        remote.beginBatch(cursor)
        outer: for source in sources {
            var progress = gathered.progress[source.relativePath] ?? JournalProgress(offset: 0, rows: 0)
            defer { gathered.progress[source.relativePath] = progress }
            while true {
                let read = try source.reader.withNextLine { line -> (fate: RowFate, offset: Int64, end: Int64) in
                    (remote.add(line.bytes, rank: source.rank), Int64(line.offset), Int64(line.endOffset))
                }
                guard let (fate, offset, end) = read else { break }
                switch fate {
                case .full:
                    source.reader.seek(to: UInt64(offset))
                    gathered.full = true
                    break outer
                case .accepted:
                    gathered.rows += 1
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
                case .tooBig(let table, let reason):
                    progress.rows += 1
                    emit(.warning, "dropping the row of table \"\(table)\" at byte \(offset) of \(source.reader.path): \(reason)")
                }
                progress.offset = end
                gathered.advanced = true
            }
        }
        let extras = remote.endBatch()
        gathered.extras = extras.items
        if extras.more { gathered.full = true }
        return gathered
    }

    // MARK: - Cursor

    private func commit(_ batch: SyncBatch, progress journals: [String: JournalProgress], acknowledged: Bool, userVersion: Int) {
        cursor.journals = journals
        remote.commit(batch, to: &cursor)
        if acknowledged {
            cursor.userSummary = batch.userSummary
            sentUserSummaryVersion = userVersion
            cursor.lastError = nil
        }
        save()
        control.shared.withLock { $0.rowsUploaded += Int64(batch.rows) }
        if let progress {
            let done = sources.reduce(Int64(0)) { $0 + (cursor.journals[$1.relativePath]?.offset ?? 0) }
            let total = sources.reduce(Int64(0)) { $0 + $1.fileSize }
            progress(SyncProgress(rowsUploaded: cursor.rowsAcknowledged, bytesUploaded: done, bytesTotal: max(total, done)))
        }
    }

    private func save() {
        do {
            try cursor.save(to: directory, remote: remote.name)
        } catch {
            if !warnedSaveFailure {
                warnedSaveFailure = true
                emit(.warning, "\(error); the upload goes on, but a crash now would re-send rows (harmlessly, at the same offsets)")
            }
        }
    }

    private func fail(_ message: String) -> SyncOutcome {
        let message = redactor(message)
        cursor.lastError = message
        save()
        if live {
            emit(.error, "\(message). \(remote.name) sync stopped; local logging goes on. Finish the upload later with: \(RemoteSync.syncCommand(for: directory, remote: remote.name))")
        }
        return .failed(message)
    }

    // MARK: - Waiting

    fileprivate func emit(_ level: LogLevel, _ text: String) {
        control.messages(SyncMessage(level: level, text: redactor(text)))
    }

    fileprivate func requestStop() -> Bool { control.requestStop() }

    fileprivate var stopEndsTheProgram: Bool { control.onStop != nil }

    fileprivate func endTheProgram() { control.onStop?() }

    fileprivate func redact(_ text: String) -> String { redactor(text) }

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

/// What the engine lends a remote during a session: the retrying, serial request channel,
/// the messages, the stop flag. Used on the sync thread only.
package final class RemoteLink {
    private let sendRequest: (RemoteRequest) -> RemoteAnswer
    private let emitMessage: (LogLevel, String) -> Void
    private let raiseStop: () -> Bool
    private let endProgram: () -> Void
    /// Whether a stop asked by the remote ends the program (``endTheProgram()``).
    package let stopEndsTheProgram: Bool
    private let redactText: (String) -> String

    fileprivate init<Remote: SyncRemote>(engine: SyncEngine<Remote>, client: HTTPClient) {
        // The engine owns the link; unowned references keep the two from holding each other.
        sendRequest = { [unowned engine] in engine.send($0, client: client) }
        emitMessage = { [unowned engine] in engine.emit($0, $1) }
        raiseStop = { [unowned engine] in engine.requestStop() }
        endProgram = { [unowned engine] in engine.endTheProgram() }
        stopEndsTheProgram = engine.stopEndsTheProgram
        redactText = { [unowned engine] in engine.redact($0) }
    }

    /// Sends `request`, retried by its rule; a fatal status comes back as a failure in the
    /// remote's words (``SyncRemote/describeRefusal(status:what:serverMessage:)``).
    package func send(_ request: RemoteRequest) -> RemoteAnswer { sendRequest(request) }

    /// A message for the user, redacted.
    package func emit(_ level: LogLevel, _ text: String) { emitMessage(level, text) }

    /// Raises the run's stop flag; true the first time.
    package func requestStop() -> Bool { raiseStop() }

    /// Ends the program as the run's options ask when the remote stops the run (SIGTERM, so
    /// it finishes as killed); nothing when ``stopEndsTheProgram`` is false.
    package func endTheProgram() { endProgram() }

    /// `text` without the session's secrets.
    package func redact(_ text: String) -> String { redactText(text) }
}

extension Duration {
    /// Whole nanoseconds.
    package var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
