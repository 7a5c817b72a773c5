import Foundation
import NokoCore
import NokoRemoteSync

/// wandb as a remote of the sync engine: the run is created (and its config and table axes
/// declared) by GraphQL `UpsertBucket`, rows go as history lines through `file_stream`,
/// with the summary, the `system` table's rows as `wandb-events.jsonl` and the console as
/// `output.log`; the run's files go up through `CreateRunFiles` and a `PUT` each when the
/// session opens and when the run ends (``RunFiles``), and the last request marks the run
/// complete (docs/wandb-protocol.md).
///
/// The first request goes at once, then at most one per transmit interval; `{}` is the
/// heartbeat; a request is at most `maxRequestBytes`, history lines counted as they go out.
final class WandbRemote: SyncRemote {
    private let settings: WandbSettings
    private let directory: URL
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

    // The console (`output.log`): lines of this batch, and lines read but not sent yet.
    private var console: ConsoleLogReader?
    private var consoleFailed = false
    private var consoleLines: [ConsoleLine] = []
    private var consoleContent: [UInt8] = []
    private var consoleWaiting: [ConsoleLine] = []
    /// Lines that end at or before this were acknowledged in an earlier session.
    private var consoleAcknowledged: UInt64 = 0
    /// Run files uploaded since the last file_stream request, for its `uploaded` list.
    private var uploadedNames: [String] = []
    /// Files the last ``upload(_:cursor:link:)`` could not upload.
    private var uploadFailures = 0

    private var summaryEverSent = false
    private var lastSummarySize = 0

    init(settings: WandbSettings, cursor: SyncState, directory: URL) {
        self.settings = settings
        self.directory = directory
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

    /// Creates the run, or finds it: first what the server holds of it (RunResumeStatus), so
    /// that noko continues after every history line on the server and never over one it did
    /// not write, then UpsertBucket, then the run files of the start.
    func open(_ cursor: inout SyncState, link: RemoteLink) -> RemoteStep {
        var status: RunResumeStatus.Result?
        switch link.send(graphQL(RunResumeStatus.body(project: cursor.project, entity: cursor.entity, runID: cursor.runID), what: "reading what the server holds of the run (RunResumeStatus)")) {
        case .cancelled:
            return .cancelled
        case .failed(let message):
            // Retried as every GraphQL request: a refusal here (a rejected key) is final.
            return .failed(message)
        case .ok(let response):
            switch RunResumeStatus.parse(response.body) {
            case .success(let result): status = result
            case .failure(let error): link.emit(.warning, "wandb's RunResumeStatus answer is unusable (\(describe(error, link))); continuing after the history line count UpsertBucket gives")
            }
        }
        if let status { continueAfter(status, cursor: &cursor, link: link) }

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
                    // Saved before any row is sent: from now on the server's lines past the
                    // cursor are told apart by what they hold (``continueAfter``).
                    cursor.created = true
                    if status == nil && result.historyLineCount > cursor.historyLines {
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
                return upload(RunFiles.atStart(directory: directory, cursor: cursor), cursor: &cursor, link: link)
            }
        }
    }

    /// The server holds more history lines than the cursor knows: lines of this run a crash
    /// kept the cursor from recording (or a deleted `sync/wandb.json`), or lines another
    /// client wrote (the official SDK resumed the run; a run ID someone else used). Ours are
    /// told by their content: the journal's next rows, translated, give the server's last
    /// lines exactly. Then the cursor moves past them; otherwise noko appends after them and
    /// keeps the run's config and summary keys.
    private func continueAfter(_ status: RunResumeStatus.Result, cursor: inout SyncState, link: RemoteLink) {
        let known = cursor.created ? cursor.historyLines : 0
        let held = status.historyLineCount
        guard held > known else { return }
        if !cursor.uploadsOtherRanks, var replayed = replay(cursor, from: known, to: held, tail: status.historyTail) {
            cursor.journals[JournalSource.mainJournal] = replayed.progress
            cursor.historyLines = held
            cursor.eventLines += replayed.events
            var summary = cursor.summary
            replayed.translator.drainSummary(into: &summary)
            cursor.summary = summary
            for table in replayed.tables where !cursor.tables.contains(table) { cursor.tables.append(table) }
            cursor.spec.startTime = cursor.spec.startTime > 0 ? cursor.spec.startTime : replayed.translator.startTime
            translator = replayed.translator
            link.emit(.info, "the server already holds \(held - known) rows of this run that sync/wandb.json did not record; continuing after them")
            return
        }
        let place = cursor.created ? " after the \(known) noko wrote" : ""
        link.emit(
            .warning,
            "run \(cursor.runID) has \(held - known) history lines\(place) that noko did not write (another client wrote to it); appending after them, never over them, and keeping its config and summary keys")
        cursor.historyLines = held
        cursor.created = true
        cursor.logLines = max(cursor.logLines, status.logLineCount)
        cursor.eventLines = max(cursor.eventLines, status.eventsLineCount)
        for (key, value) in status.config where cursor.spec.inheritedConfig[key] == nil { cursor.spec.inheritedConfig[key] = value }
        for (key, value) in status.summary ?? [:] where cursor.summary[key] == nil && !key.hasPrefix("_") {
            cursor.summary[key] = value
        }
    }

    /// The journal's rows from the cursor on, translated as they would be sent, as far as
    /// history line `end`; nil unless the lines the server holds at the end of that range
    /// (`tail`, the server's last lines) are exactly those.
    private func replay(_ cursor: SyncState, from start: Int64, to end: Int64, tail: [String]) -> Replayed? {
        guard !tail.isEmpty else { return nil }
        var trial = HistoryTranslator(
            startTime: cursor.spec.startTime, minimumLevel: cursor.minimumLevel,
            skippedTables: cursor.sendsConfigTable ? [] : [ConfigTable.name])
        var progress = cursor.journals[JournalSource.mainJournal] ?? JournalProgress(offset: 0, rows: 0)
        let reader = LineReader(
            path: RunLayout(directory).journal.path, offset: UInt64(progress.offset), missingFileIsEmpty: true, skipsBlankLines: true)
        var lines = start, events: Int64 = 0
        var produced: [String] = []
        var tables: [String] = []
        let firstCompared = end - Int64(tail.count)
        while lines < end {
            // As ``add(_:rank:)`` and the engine count them: a line, a skipped row, an event.
            let read = try? reader.withNextLine { line -> (text: String?, consumed: Bool, event: Bool, end: Int64) in
                let end = Int64(line.endOffset)
                if SystemEvents.isSystemRow(line.bytes) {
                    switch eventLine(line.bytes, startTime: cursor.spec.startTime > 0 ? cursor.spec.startTime : trial.startTime) {
                    case .success(let event): return (nil, true, event != nil, end)
                    case .failure: return (nil, false, false, end)
                    }
                }
                var literal: [UInt8] = []
                switch trial.append(line.bytes, rank: 0, historyStep: lines, first: true, to: &literal) {
                case .appended(let table):
                    trial.accept(line.bytes)
                    if !tables.contains(table) { tables.append(table) }
                    return ((try? JSONValue(parsing: literal))?.stringValue ?? "", true, false, end)
                case .skipped: return (nil, true, false, end)
                case .malformed, .invalid: return (nil, false, false, end)
                }
            }
            guard let (text, consumed, event, lineEnd) = read ?? nil else { return nil }
            progress.offset = lineEnd
            if consumed { progress.rows += 1 }
            if event { events += 1 }
            guard let text else { continue }
            if lines >= firstCompared { produced.append(text) }
            lines += 1
        }
        guard produced == Array(tail.suffix(produced.count)), produced.count == min(tail.count, Int(end - start)) else { return nil }
        return Replayed(translator: trial, progress: progress, events: events, tables: tables)
    }

    private struct Replayed {
        var translator: HistoryTranslator
        var progress: JournalProgress
        var events: Int64
        var tables: [String]
    }

    private func graphQL(_ body: [UInt8], what: String) -> RemoteRequest {
        RemoteRequest(
            url: graphQLURL, body: body, timeout: settings.options.graphQLTimeout,
            rule: RetryRules.rule(for: .graphQL, policy: settings.options.retry), what: what)
    }

    func heartbeat(_ cursor: SyncState, link: RemoteLink) -> RemoteStep {
        flushWarnings(link)
        // While nothing else goes up, the heartbeat keeps the dashboard's Runtime
        // (`_wandb.runtime`) moving; only a live session idles, so the clock is the run's.
        let start = cursor.spec.startTime > 0 ? cursor.spec.startTime : translator.startTime
        let summary = start > 0
            ? FileStreamBody.summaryObject(derived: cursor.summary, user: cursor.userSummary, runtime: max(0, Date().timeIntervalSince1970 - start))
            : nil
        let body = FileStreamBody.make(
            historyOffset: 0, historyContent: [], historyLineCount: 0, summary: summary, exitCode: nil, uploaded: uploadedNames)
        switch link.send(fileStream(body, cursor: cursor, what: "heartbeat (file_stream)")) {
        case .cancelled: return .cancelled
        case .failed(let message): return .failed(message)
        case .ok(let response):
            uploadedNames = []
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
        consoleWaiting = consoleLines + consoleWaiting
        consoleLines.removeAll(keepingCapacity: true)
        consoleContent.removeAll(keepingCapacity: true)
        consoleAcknowledged = cursor.consoleOffset
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

    func endBatch() -> BatchExtras {
        translator.drainSummary(into: &summary)
        return addConsoleLines()
    }

    /// The console lines written since the last batch, as `output.log` lines for the Logs
    /// tab, in what the rows left of the request.
    private func addConsoleLines() -> BatchExtras {
        guard let reader = consoleReader() else { return .none }
        while true {
            let line: ConsoleLine
            if !consoleWaiting.isEmpty {
                line = consoleWaiting.removeFirst()
            } else {
                do {
                    guard let next = try reader.next() else { break }
                    line = next
                } catch {
                    consoleFailed = true
                    console = nil
                    warnings.append("cannot read the console output (\(error)); the Logs tab stops here")
                    break
                }
            }
            if line.endOffset <= consoleAcknowledged { continue }
            var text = line.wandbText
            let isAlone = content.isEmpty && events.isEmpty && consoleLines.isEmpty
            if isAlone && text.count > budget / 2 { text = Array(text.prefix(budget / 2)) }
            var literal = WireWriter(capacity: text.count + 16)
            literal.writeEscaped(text)
            guard isAlone || content.count + events.count + consoleContent.count + literal.bytes.count + 1 <= budget else {
                consoleWaiting.insert(line, at: 0)
                return BatchExtras(items: consoleLines.count, more: true)
            }
            if !consoleLines.isEmpty { consoleContent.append(0x2C) }
            consoleContent += literal.bytes
            consoleLines.append(line)
        }
        return BatchExtras(items: consoleLines.count, more: false)
    }

    /// The console's reader, opened once the run has console output.
    private func consoleReader() -> ConsoleLogReader? {
        if let console { return console }
        let layout = RunLayout(directory)
        guard !consoleFailed, ConsoleLogReader.exists(in: layout) else { return nil }
        console = ConsoleLogReader(layout, follow: true)
        return console
    }

    /// The `wandb-events.jsonl` line of a `system` row; nil when it has nothing the System
    /// tab shows.
    private func eventLine(_ line: UnsafeRawBufferPointer, startTime: Double) -> Result<JSONValue?, ProblemText> {
        do {
            let members = try eventScanner.record(line, number: 0).members
            return .success(SystemEvents.line(members, startTime: startTime > 0 ? startTime : nil))
        } catch {
            return .failure(ProblemText(description: "\(error)"))
        }
    }

    private struct ProblemText: Error {
        var description: String
    }

    /// A row of the `system` table: a line of `wandb-events.jsonl` for the System tab.
    private func addEvent(_ line: UnsafeRawBufferPointer) -> RowFate {
        let event: JSONValue
        switch eventLine(line, startTime: runStart > 0 ? runStart : translator.startTime) {
        case .failure(let problem): return .malformed(problem.description)
        case .success(nil): return .skipped
        case .success(let line?): event = line
        }
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
            let declared = upsertConfig(cursor, tables: tables, what: "declaring table axes (UpsertBucket)", link: link)
            if declared != .done { return declared }
        }
        flushWarnings(link)
        let isFinal = batch.exitCode != nil
        // The run's whole runtime, for the dashboard's Runtime: the last row's `_runtime`
        // misses whatever ran after it.
        let runtime = batch.endTime.map { max(0, $0 - (cursor.spec.startTime > 0 ? cursor.spec.startTime : translator.startTime)) }
        let sendSummary =
            lineCount > 0 || batch.userSummaryChanged || (isFinal && (runtime != nil || (!summaryEverSent && !cursor.summary.isEmpty)))
        let wholeSummary = FileStreamBody.summaryObject(derived: summary, user: batch.userSummary, runtime: runtime)
        let summaryObject = sendSummary ? wholeSummary : nil
        if isFinal {
            // As wandb's client: the run's files go up before the request that completes it.
            let files = RunFiles.atEnd(directory: directory, cursor: cursor, summary: wholeSummary)
            if upload(files, cursor: &cursor, link: link) == .cancelled { return .cancelled }
            cursor.filesComplete = uploadFailures == 0
        }
        let body = FileStreamBody.make(
            historyOffset: cursor.historyLines, historyContent: content, historyLineCount: lineCount,
            summary: summaryObject, exitCode: batch.exitCode.map(Int64.init), eventsOffset: cursor.eventLines,
            eventsContent: events, eventsLineCount: eventCount, consoleOffset: cursor.logLines,
            consoleContent: consoleContent, consoleLineCount: consoleLines.count, uploaded: uploadedNames)
        switch link.send(fileStream(body, cursor: cursor, what: "uploading rows (file_stream)")) {
        case .cancelled:
            return .cancelled
        case .failed(let message):
            return .failed(message)
        case .ok(let response):
            uploadedNames = []
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
        if let last = consoleLines.last {
            cursor.logLines += Int64(consoleLines.count)
            cursor.consoleOffset = last.endOffset
            consoleLines.removeAll(keepingCapacity: true)
            consoleContent.removeAll(keepingCapacity: true)
        }
        cursor.summary = summary
        cursor.tables = tables
        if cursor.spec.startTime <= 0 { cursor.spec.startTime = translator.startTime }
    }

    // MARK: - Run files

    /// Uploads those of `files` that the server lacks or holds in another version: one
    /// `CreateRunFiles` for their URLs, then a `PUT` each, without the API key. A file that
    /// fails is left for the next session (`noko-run sync`) with a warning; only a cancel
    /// ends the step early.
    private func upload(_ files: [RunFile], cursor: inout SyncState, link: RemoteLink) -> RemoteStep {
        uploadFailures = 0
        let wanted = RunFile.pending(files, uploaded: cursor.uploadedFiles, link: link)
        guard !wanted.isEmpty, let entity = cursor.entity else { return .done }
        let names = wanted.map(\.file.name)
        let later = "`noko-run sync` uploads it later"
        let request = RemoteRequest(
            url: graphQLURL, body: CreateRunFiles.body(entity: entity, project: cursor.project, runID: cursor.runID, files: names),
            timeout: settings.options.graphQLTimeout, rule: RetryRules.rule(for: .graphQL, policy: settings.options.retry),
            what: "asking where to upload \(names.joined(separator: ", ")) (CreateRunFiles)")
        let created: CreateRunFiles.Result
        switch link.send(request) {
        case .cancelled:
            return .cancelled
        case .failed(let message):
            link.emit(.warning, "\(message); the run's files are not uploaded now: \(later)")
            uploadFailures = wanted.count
            return .done
        case .ok(let response):
            switch CreateRunFiles.parse(response.body) {
            case .failure(let error):
                link.emit(.warning, "wandb gave no upload URLs (\(describe(error, link))); the run's files are not uploaded now: \(later)")
                uploadFailures = wanted.count
                return .done
            case .success(let result):
                created = result
            }
        }
        for (file, fingerprint) in wanted {
            guard let url = created.uploadURLs[file.name] else {
                link.emit(.warning, "wandb gave no upload URL for \(file.name); \(later)")
                uploadFailures += 1
                continue
            }
            let put = RemoteRequest.upload(
                to: url, body: file.bytes, headers: created.headers, timeout: settings.options.fileStreamTimeout,
                rule: RetryRules.rule(for: .upload, policy: settings.options.retry), what: "uploading \(file.name)")
            switch link.send(put) {
            case .cancelled:
                return .cancelled
            case .failed(let message):
                link.emit(.warning, "\(message); \(later)")
                uploadFailures += 1
            case .ok:
                cursor.uploadedFiles[file.name] = fingerprint
                uploadedNames.append(file.name)
            }
        }
        return .done
    }

    /// Warnings met while gathering a batch (which has no link), said before it is sent.
    private var warnings: [String] = []

    private func flushWarnings(_ link: RemoteLink) {
        for warning in warnings { link.emit(.warning, warning) }
        warnings = []
    }

    func update(_ update: RunUpdate, cursor: inout SyncState, link: RemoteLink) -> RemoteStep {
        if let config = update.config { cursor.spec.config = config }
        let described = update.displayName != nil || update.tags != nil || update.notes != nil
        if let name = update.displayName { cursor.spec.displayName = name }
        if let tags = update.tags { cursor.spec.tags = tags }
        if let notes = update.notes { cursor.spec.notes = notes }
        // The name, tags and notes go with the run parameters, as at creation.
        return upsertConfig(cursor, tables: cursor.tables, withRunParameters: described, what: "sending the run's changes (UpsertBucket)", link: link)
    }

    /// Re-sends the config (a new table's x-axis, a change of the run), with the run's name,
    /// tags and notes when `withRunParameters`.
    private func upsertConfig(
        _ cursor: SyncState, tables: [String], withRunParameters: Bool = false, what: String, link: RemoteLink
    ) -> RemoteStep {
        let body = UpsertBucket.body(
            runID: cursor.runID, project: cursor.project, entity: cursor.entity, spec: cursor.spec, tables: tables,
            withRunParameters: withRunParameters)
        switch link.send(upsertBucket(body, what: what)) {
        case .cancelled:
            return .cancelled
        case .failed(let message):
            return .failed(message)
        case .ok(let response):
            if case .failure(let error) = UpsertBucket.parse(response.body) {
                return .failed("wandb refused \(what): \(describe(error, link))")
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
