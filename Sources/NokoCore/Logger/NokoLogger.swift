import Dispatch
import Foundation
import Logging
import NokoPlatform
import Synchronization

/// Logs rows into tables and fans them out to outputs: noko's core.
///
/// `Noko.logRow` is a facade over a default instance; libraries and tests create their own,
/// with their own outputs, clock and message logger, and never share global state.
///
/// ```swift
/// let memory = InMemoryOutput()
/// let logger = NokoLogger(outputs: [memory])
/// logger.logRow("grad_step", ["loss": 0.25, "weights": weights], level: .trace)
/// ```
///
/// Thread safety: `logRow` may be called from any thread. It summarizes the row on the
/// caller's thread, then, under one lock, assigns the step and hands the row to every
/// output, so all outputs see rows in the same order.
public final class NokoLogger: Sendable {
    /// The run directory the outputs write into, if any.
    public let directory: URL?
    /// noko's own messages (warnings about keys and values).
    public let messages: Logging.Logger
    /// The registry consulted for types with a custom summarizer.
    package let summarizers: SummarizerRegistry

    private let clock: RowClock
    private let state: Mutex<State>
    /// The lowest level any output accepts: rows below it skip summarization.
    private let admissionLevel: Atomic<Int>
    private let flusher: Mutex<IntervalThread?>
    /// The run's `debug.log`, which the logger closes when it closes.
    package let debugLog: DebugLogFile?
    /// What string values of rows go through (nil: nothing); read only for rows with strings.
    private let rowRedactor = Mutex<SecretRedactor?>(.rows)

    private struct State {
        var outputs: [any LogOutput] {
            didSet { routes = Routes(outputs) }
        }
        /// Which output is the journal and which are its views, worked out once per change of
        /// ``outputs`` rather than per row.
        var routes: Routes
        /// Per output (same index): how its writes and flushes are going.
        var health: [OutputHealth]
        var tables: [String: TableState] = [:]
        var closed = false
        var localTime = LocalTimeFormatter()
        /// Warnings already given, so each is given once.
        var warned: Set<String> = []
        /// Tables' file stems, kept apart on case-insensitive disks.
        var stems = FileStems()
        /// Rows since the flusher last started, to wake it early when views pile up.
        var rowsSinceFlush = 0
    }

    /// Where a row goes: the journal first, then the other outputs, views only when the
    /// journal kept the row.
    private struct Routes {
        /// The index of the journal (``NDJSONOutput``) in the outputs, if there is one.
        var journal: Int?
        /// Per output: whether it is a ``JournalView``.
        var isView: [Bool]

        init(_ outputs: [any LogOutput]) {
            journal = outputs.firstIndex { $0 is NDJSONOutput }
            isView = outputs.map { $0 is any JournalView }
            // A journal keeps its rows' text only for a view that copies it.
            if let journal { (outputs[journal] as? NDJSONOutput)?.keepValueText(outputs.contains { $0 is CSVOutput }) }
        }
    }

    /// How one output's writes and flushes are going: a failure is warned about once, its
    /// recovery once, and the rows its failed writes lost are counted.
    private struct OutputHealth {
        /// Set while the output's `write` fails.
        var writeFailure: Failure?
        /// Set while the output's `flush` fails.
        var flushFailure: Failure?
        /// Rows `write` could not take, for good.
        var rowsLost = 0
        /// What ``rowsLost`` counts against: the file the failed write named, relative to the
        /// run directory (`noko.ndjson`), else the output's name.
        var lostFile: String?
        /// The output's first error, for the record (`metadata.json`'s `write_errors`).
        var firstError: String?

        struct Failure {
            /// The file the error named, as the warnings show it.
            var path: String?
            /// ``rowsLost`` when a write failure began, so the recovery says what it cost.
            var rowsLostBefore = 0
            /// The view's ``JournalView/rowsLost`` when a flush failure began, likewise.
            var viewLostBefore: [String: Int] = [:]
        }
    }

    /// After this many rows in one interval, the flusher starts early, so views' buffers
    /// stay small without making `logRow` flush inline.
    static let earlyFlushRows = 16_384

    private struct TableState {
        var nextStep = 0
        var rows = 0
        var fileStem: String
        /// The key list of the previous row, as summarized, its interned schema, and where
        /// each raw key sits in the schema (nil when the orders agree).
        var rawKeys: [String] = []
        var schema: RowSchema?
        var permutation: [Int]?
        /// Recently used schemas, most recent first, so rows alternating between a few key
        /// sets keep their schemas (and the outputs' per-schema caches).
        var recentSchemas: [RowSchema] = []

        init(fileStem: String) {
            self.fileStem = fileStem
        }

        /// Assigns the step and the schema of the next row.
        mutating func makeRow(
            _ summary: ValueColumns, table: String, step explicitStep: Int?, level: LogLevel, time: RowTime,
            collisions: inout [(key: String, renamed: String)]
        ) -> (row: SummarizedRow, backwards: Bool, previousStep: Int) {
            let previousStep = nextStep - 1
            let step = explicitStep ?? nextStep
            let backwards = explicitStep.map { $0 < previousStep } ?? false
            nextStep = step + 1
            rows += 1
            if schema == nil || rawKeys != summary.keys {
                rawKeys = summary.keys
                // A loop, not `lazy.compactMap(…).first`, which maps the first match twice.
                var match: (RowSchema, [Int])?
                for known in recentSchemas {
                    if let permutation = known.permutation(from: summary.keys) {
                        match = (known, permutation)
                        break
                    }
                }
                if let (known, permutation) = match {
                    schema = known
                    self.permutation = permutation.enumerated().allSatisfy { $0 == $1 } ? nil : permutation
                } else {
                    let fresh = RowSchema(keys: NokoLogger.resolveCollisions(summary.keys, &collisions))
                    schema = fresh
                    permutation = nil
                    recentSchemas.insert(fresh, at: 0)
                    if recentSchemas.count > 4 { recentSchemas.removeLast() }
                }
            }
            let values = permutation.map { RowSchema.apply($0, to: summary.values) } ?? summary.values
            let row = SummarizedRow(
                table: table, step: step, level: level, time: time, schema: schema!, values: values, fileStem: fileStem)
            return (row, backwards, previousStep)
        }
    }

    /// Creates a logger writing to `outputs` (an ``InMemoryOutput`` in tests).
    ///
    /// - Parameters:
    ///   - directory: the run directory, if the outputs write files (for the record).
    ///   - outputs: where rows go.
    ///   - flushInterval: how often the background thread flushes buffered views; `nil`
    ///     for no background thread (call ``flush()`` yourself).
    ///   - messages: noko's own message logger; by default stderr at WARNING.
    ///   - clock: where row timestamps come from.
    public convenience init(
        directory: URL? = nil, outputs: [any LogOutput], flushInterval: Duration? = .seconds(1),
        messages: Logging.Logger? = nil, clock: RowClock = .system
    ) {
        self.init(
            directory: directory, outputs: outputs, flushInterval: flushInterval, messages: messages ?? NokoMessages.logger(),
            debugLog: nil, summarizers: .shared, clock: clock)
    }

    /// Creates a logger with the run module's extras: the run's `debug.log` (closed with
    /// the logger) and a summarizer registry of its own (tests).
    package init(
        directory: URL? = nil, outputs: [any LogOutput], flushInterval: Duration? = .seconds(1),
        messages: Logging.Logger = NokoMessages.logger(), debugLog: DebugLogFile? = nil,
        summarizers: SummarizerRegistry, clock: RowClock = .system
    ) {
        self.directory = directory
        self.messages = messages
        self.summarizers = summarizers
        self.clock = clock
        self.debugLog = debugLog
        state = Mutex(State(outputs: outputs, routes: Routes(outputs), health: outputs.map { _ in OutputHealth() }))
        admissionLevel = Atomic(NokoLogger.lowestLevel(of: outputs))
        flusher = Mutex(nil)
        if let flushInterval {
            let flusher = IntervalThread(name: "noko-flush", interval: flushInterval) { [weak self] in self?.flush() }
            self.flusher.withLock { $0 = flusher }
        }
    }

    deinit {
        // Not `stop()`: the last reference may be dropped on the flusher thread itself.
        flusher.withLock { $0?.requestStop() }
    }

    private static func lowestLevel(of outputs: [any LogOutput]) -> Int {
        outputs.map(\.level.value).min() ?? Int.max
    }

    /// The outputs rows go to.
    public var outputs: [any LogOutput] { state.withLock { $0.outputs } }

    /// Adds an output; it receives rows logged from now on.
    public func add(_ output: any LogOutput) {
        state.withLock { s in
            s.outputs.append(output)
            s.health.append(OutputHealth())
            admissionLevel.store(NokoLogger.lowestLevel(of: s.outputs), ordering: .relaxed)
        }
    }

    // MARK: - Logging rows

    /// Logs one row into `table`.
    ///
    /// - Parameters:
    ///   - table: the table's name; any string (it is mapped to a safe file name) but
    ///     `system`, noko's own samples: rows for it go to `system_1`, with one warning.
    ///   - row: a dictionary (`[String: Any]`, `KeyValuePairs`), a struct or class whose
    ///     stored properties become columns, or any value noko can summarize.
    ///   - step: the row's step; by default one more than the table's previous step
    ///     (starting at 0). An explicit step also moves the table's counter.
    ///   - level: the row's importance; each output takes rows at or above its own level.
    public func logRow(_ table: String, _ row: Any, step: Int? = nil, level: LogLevel = .info) {
        guard level.value >= admissionLevel.load(ordering: .relaxed) else {
            skip(table, step: step, level: level)
            return
        }
        var summary = ValueColumns(registry: summarizers.snapshot)
        summary.summarizeRow(row)
        if summary.containsStrings, let redactor = rowRedactor.withLock({ $0 }) {
            summary.redactSecrets(redactor, table: table)
        }
        var notes: [String] = []
        let wakeFlusher = state.withLock { s in
            let table = userTable(table, &s, &notes)
            deliver(summary, table: table, step: step, level: level, state: &s, notes: &notes)
            s.rowsSinceFlush += 1
            return s.rowsSinceFlush == NokoLogger.earlyFlushRows
        }
        if wakeFlusher { flusher.withLock { $0?.wakeEarly() } }
        for note in notes { messages.warning("\(note)") }
        if let note = summary.encodingNote { messages.debug("\(note)") }
    }

    /// Logs one row into a table named after the call site (`Module/File.swift:42`), as
    /// Python noko's `log_row(row)` does.
    public func logRow(
        _ row: Any, step: Int? = nil, level: LogLevel = .info, fileID: String = #fileID, line: Int = #line
    ) {
        logRow(NokoLogger.callSiteTable(fileID: fileID, line: line), row, step: step, level: level)
    }

    /// Sets what string values of logged rows go through: by default values holding a
    /// well-known token are redacted (``SecretRedactor/rows``); nil turns that off.
    package func redactRowStrings(with redactor: SecretRedactor?) {
        rowRedactor.withLock { $0 = redactor }
    }

    /// Logs a row that is already summarized (keys must be unique), e.g. replayed from a
    /// journal; its values are written as given.
    public func logSummary(_ table: String, _ pairs: [(String, Scalar)], step: Int? = nil, level: LogLevel = .info) {
        var summary = ValueColumns(registry: [:])
        for (key, value) in pairs { summary.add(key, value) }
        var notes: [String] = []
        state.withLock { s in
            let table = userTable(table, &s, &notes)
            deliver(summary, table: table, step: step, level: level, state: &s, notes: &notes)
        }
        for note in notes { messages.warning("\(note)") }
    }

    /// Logs a row into one of noko's reserved tables (``SystemTable``), which user rows
    /// cannot reach.
    package func logReservedSummary(_ table: String, _ pairs: [(String, Scalar)], level: LogLevel = .info) {
        guard level.value >= admissionLevel.load(ordering: .relaxed) else {
            skip(table, step: nil, level: level, reserved: true)
            return
        }
        var summary = ValueColumns(registry: [:])
        for (key, value) in pairs { summary.add(key, value) }
        var notes: [String] = []
        state.withLock { s in
            deliver(summary, table: table, step: nil, level: level, state: &s, notes: &notes)
        }
        for note in notes { messages.warning("\(note)") }
    }

    /// The table a user's row goes to: its own, unless noko reserves that name.
    private func userTable(_ table: String, _ s: inout State, _ notes: inout [String]) -> String {
        guard table == SystemTable.name else { return table }
        warnOnce(
            "reserved|\(table)",
            "table name '\(table)' is reserved for noko's system samples; your rows are logged as '\(SystemTable.renamedUserTable)'",
            &s, &notes)
        return SystemTable.renamedUserTable
    }

    /// The table name used for rows logged without one.
    public static func callSiteTable(fileID: String, line: Int) -> String { "\(fileID):\(line)" }

    private func deliver(
        _ summary: ValueColumns, table: String, step explicitStep: Int?, level: LogLevel, state s: inout State,
        notes: inout [String]
    ) {
        if s.closed {
            warnOnce("closed", "the logger is closed; rows are no longer written (table '\(table)')", &s, &notes)
            return
        }
        let time = clock.now()
        let localTime = s.localTime.format(time)
        if s.tables[table] == nil {
            s.tables[table] = TableState(fileStem: uniqueStem(for: table, &s, &notes))
        }
        var collisions: [(key: String, renamed: String)] = []
        // One in-place access to the table's state per row.
        let made = s.tables[table]!.makeRow(
            summary, table: table, step: explicitStep, level: level,
            time: RowTime(utcTimestamp: time, localTime: localTime), collisions: &collisions)
        if let explicitStep, made.backwards {
            warnOnce(
                "backwards|\(table)",
                "table '\(table)': step \(explicitStep) goes backwards (previous step \(made.previousStep)); the row is kept",
                &s, &notes)
        }
        for (key, renamed) in collisions {
            warnOnce(
                "collision|\(table)|\(key)",
                "table '\(table)': two values map to key '\(key)'; the later one is logged as '\(renamed)'", &s, &notes)
        }
        let row = made.row
        var delivered = false
        // The journal first: a row it could not keep goes to no view of it either, so every
        // file agrees with the journal, which stays the source of truth.
        var journalKept = true
        if let journal = s.routes.journal, s.outputs[journal].level <= level {
            delivered = true
            journalKept = write(row, to: journal, &s, &notes)
        }
        for i in s.outputs.indices where i != s.routes.journal && s.outputs[i].level <= level {
            delivered = true
            if !journalKept && s.routes.isView[i] { continue }
            _ = write(row, to: i, &s, &notes)
        }
        if !delivered {
            warnOnce("unrouted|\(table)", "table '\(table)': no output accepts level \(level); rows are not written", &s, &notes)
        }
        for warning in summary.warnings {
            warnOnce("\(warning.kind)|\(table)|\(warning.key)", "table '\(table)', key '\(warning.key)': \(warning.message)", &s, &notes)
        }
    }

    /// Hands `row` to output `i`; false when it failed. A failure is warned about once, until
    /// the output writes again, and every row it could not take is counted.
    @inline(__always)
    private func write(_ row: SummarizedRow, to i: Int, _ s: inout State, _ notes: inout [String]) -> Bool {
        do {
            try s.outputs[i].write(row)
            if s.health[i].writeFailure != nil { writesAgain(i, &s, &notes) }
            return true
        } catch {
            writeFailed(i, error, &s, &notes)
            return false
        }
    }

    private func writeFailed(_ i: Int, _ error: any Error, _ s: inout State, _ notes: inout [String]) {
        s.health[i].rowsLost += 1
        guard s.health[i].writeFailure == nil else { return }
        let output = s.outputs[i]
        let path = (error as? NokoSystemError)?.path
        if s.health[i].lostFile == nil { s.health[i].lostFile = path.map(runFileName) ?? "output '\(output.name)'" }
        if s.health[i].firstError == nil { s.health[i].firstError = "\(error)" }
        s.health[i].writeFailure = OutputHealth.Failure(path: path, rowsLostBefore: s.health[i].rowsLost - 1)
        let skipped = i == s.routes.journal && s.routes.isView.contains(true) ? "; the views skip them too, so they agree with the journal" : ""
        notes.append(
            "output '\(output.name)' failed to write a row: \(error); rows are lost (and counted) until it writes again\(skipped)")
    }

    private func writesAgain(_ i: Int, _ s: inout State, _ notes: inout [String]) {
        guard let failure = s.health[i].writeFailure else { return }
        s.health[i].writeFailure = nil
        let lost = s.health[i].rowsLost - failure.rowsLostBefore
        let place = failure.path.map { " (\($0))" } ?? ""
        notes.append("output '\(s.outputs[i].name)' writes again\(place); \(lost) row\(lost == 1 ? " was" : "s were") lost")
    }

    /// The name of a file of the run directory as the record keys it: relative to the
    /// directory (`noko.ndjson`, `rank-1/…` never: each rank has its own logger), else as given.
    private func runFileName(_ path: String) -> String {
        guard let directory = directory?.standardizedFileURL.path else { return FileSystem.lastComponent(of: path) }
        let standardized = URL(fileURLWithPath: path).standardizedFileURL.path
        return standardized.hasPrefix(directory + "/") ? String(standardized.dropFirst(directory.count + 1)) : path
    }

    /// Counts a row that no output wants (its step still advances) without summarizing it.
    private func skip(_ table: String, step: Int?, level: LogLevel, reserved: Bool = false) {
        var notes: [String] = []
        state.withLock { s in
            let table = reserved ? table : userTable(table, &s, &notes)
            if s.tables[table] == nil { s.tables[table] = TableState(fileStem: uniqueStem(for: table, &s, &notes)) }
            s.tables[table]!.nextStep = (step ?? s.tables[table]!.nextStep) + 1
            s.tables[table]!.rows += 1
            warnOnce("unrouted|\(table)", "table '\(table)': no output accepts level \(level); rows are not written", &s, &notes)
        }
        for note in notes { messages.warning("\(note)") }
    }

    /// Makes keys unique: the second `a/b` becomes `a/b_1`, the third `a/b_2`; user keys may
    /// not take the journal's bookkeeping names (`$step`…).
    fileprivate static func resolveCollisions(_ keys: [String], _ collisions: inout [(key: String, renamed: String)]) -> [String] {
        var seen = Set(SummarizedRow.bookkeepingKeys)
        seen.reserveCapacity(keys.count + 5)
        var result = keys
        for i in result.indices where !seen.insert(result[i]).inserted {
            var n = 1
            while seen.contains("\(keys[i])_\(n)") { n += 1 }
            result[i] = "\(keys[i])_\(n)"
            seen.insert(result[i])
            collisions.append((keys[i], result[i]))
        }
        return result
    }

    private func uniqueStem(for table: String, _ s: inout State, _ notes: inout [String]) -> String {
        let (stem, note) = s.stems.stem(for: table)
        if let note { notes.append(note) }
        return stem
    }

    private func warnOnce(_ id: String, _ message: String, _ s: inout State, _ notes: inout [String]) {
        if s.warned.insert(id).inserted { notes.append(message) }
    }

    // MARK: - Flushing and closing

    /// Sets where tables' step counters continue (a resumed run continues its tables).
    ///
    /// Give the tables in the order they first appeared in the run: tables whose names
    /// differ only in case get their file names (`loss`, `Loss~2`) in that order, so each
    /// table keeps writing to the files it had, whichever is logged first after resuming.
    public func continueSteps(_ tables: [(table: String, nextStep: Int)]) {
        var notes: [String] = []
        state.withLock { s in
            for (table, step) in tables {
                if s.tables[table] == nil { s.tables[table] = TableState(fileStem: uniqueStem(for: table, &s, &notes)) }
                s.tables[table]!.nextStep = max(s.tables[table]!.nextStep, step)
            }
        }
    }

    /// The step the next row of `table` gets by default (0 for a new table).
    public func nextStep(of table: String) -> Int {
        state.withLock { $0.tables[table]?.nextStep ?? 0 }
    }

    /// The names of the tables logged so far.
    public var tableNames: [String] { state.withLock { Array($0.tables.keys) } }

    /// Writes every output's buffered rows through to the OS.
    ///
    /// A view that cannot write its file (a full disk) keeps its rows and writes them at a
    /// later flush: one warning when it starts failing, one when it writes again.
    public func flush() {
        let outputs = state.withLock { s in
            s.rowsSinceFlush = 0
            return s.outputs
        }
        for (i, output) in outputs.enumerated() {
            flush(output, at: i) { try output.flush() }
        }
    }

    /// Writes out everything every output buffers, however it paces its writes, and keeps
    /// the logger open: what a process about to be ended by a signal does.
    public func flushCompletely() {
        for (i, output) in outputs.enumerated() {
            flush(output, at: i) { try output.flushCompletely() }
        }
    }

    private func flush(_ output: any LogOutput, at i: Int, _ body: () throws -> Void) {
        // A view's counts are read outside the logger's lock: the view's own lock may be held
        // by a long write, and `logRow` must not wait for it.
        let view = output as? any JournalView
        do {
            try body()
        } catch {
            let lostBefore = view?.rowsLost ?? [:]
            let note: String? = state.withLock { s in
                guard s.health[i].flushFailure == nil else { return nil }
                if s.health[i].firstError == nil { s.health[i].firstError = "\(error)" }
                s.health[i].flushFailure = OutputHealth.Failure(path: (error as? NokoSystemError)?.path, viewLostBefore: lostBefore)
                let keeps = view != nil ? "; it keeps its rows in memory and writes them when it can" : ""
                return "output '\(output.name)' failed to flush: \(error)\(keeps)"
            }
            if let note { messages.warning("\(note)") }
            return
        }
        // Recovered: said once (taken and cleared at once, should two threads flush), with what
        // the failure cost.
        let recovered = state.withLock { s -> OutputHealth.Failure? in
            defer { s.health[i].flushFailure = nil }
            return s.health[i].flushFailure
        }
        guard let failure = recovered else { return }
        let lostNow = view?.rowsLost ?? [:]
        let place = failure.path.map { " (\($0))" } ?? ""
        guard view != nil else {
            messages.warning("output '\(output.name)' flushes again\(place)")
            return
        }
        let lost = lostNow.compactMap { file, count -> (String, Int)? in
            let new = count - (failure.viewLostBefore[file] ?? 0)
            return new > 0 ? (file, new) : nil
        }.sorted { $0.0 < $1.0 }
        guard !lost.isEmpty else {
            messages.warning("output '\(output.name)' writes again\(place); it has caught up with the journal")
            return
        }
        let missing = lost.map { "\($1) row\($1 == 1 ? "" : "s") from \($0)" }.joined(separator: ", ")
        messages.warning(
            "output '\(output.name)' writes again\(place); it could not keep \(missing) (the journal has them; `noko-run export` rebuilds a file from it)")
    }

    /// Flushes, `fsync`s and closes every output; later rows are dropped with a warning.
    /// When rows were lost (a full disk), one warning sums it up (``rowsLost``). Safe to call
    /// more than once.
    public func close() {
        close(reportingLoss: true)
    }

    /// Closes (see ``close()``); `reportingLoss: false` leaves the sum of what was lost to the
    /// caller (a run records it in `metadata.json` and says where).
    package func close(reportingLoss: Bool) {
        let outputs: [any LogOutput]? = state.withLock { s in
            guard !s.closed else { return nil }
            s.closed = true
            return s.outputs
        }
        guard let outputs else { return }
        let flusher = self.flusher.withLock { f in
            defer { f = nil }
            return f
        }
        flusher?.stop()
        // The journal first, so no view is ever durable ahead of it; then the views at once
        // (each owns its files and its lock), so the last CSV rewrite, the summary and the
        // others' fsyncs overlap instead of adding up. Failures are reported in output order.
        let journal = outputs.firstIndex { $0 is NDJSONOutput }
        var errors = [(any Error)?](repeating: nil, count: outputs.count)
        if let journal { errors[journal] = NokoLogger.closing(outputs[journal]) }
        let views = outputs.indices.filter { $0 != journal }
        if views.count > 1 {
            let closed = Mutex(errors)
            DispatchQueue.concurrentPerform(iterations: views.count) { k in
                let error = NokoLogger.closing(outputs[views[k]])
                closed.withLock { $0[views[k]] = error }
            }
            errors = closed.withLock { $0 }
        } else {
            for i in views { errors[i] = NokoLogger.closing(outputs[i]) }
        }
        for (i, output) in outputs.enumerated() {
            guard let error = errors[i] else { continue }
            state.withLock { s in if s.health[i].firstError == nil { s.health[i].firstError = "\(error)" } }
            report(failureOf: output, "close", error)
        }
        if reportingLoss, let loss = NokoLogger.lossSummary(rowsLost) { messages.warning("\(loss)") }
        debugLog?.close()
    }

    private static func closing(_ output: any LogOutput) -> (any Error)? {
        do {
            try output.close()
            return nil
        } catch {
            return error
        }
    }

    /// True once ``close()`` has been called.
    public var isClosed: Bool { state.withLock { $0.closed } }

    /// Rows that never reached a file, per file name in the run directory: for the journal
    /// (`noko.ndjson`), rows whose write failed (a full disk, an I/O error), which no other
    /// file has either; for a view (`train.csv`, `summary.json`…), rows the journal has but the
    /// view could not keep while its file could not be written. Empty when nothing was lost.
    ///
    /// A run records it in `metadata.json` as `rows_lost`.
    public var rowsLost: [String: Int] {
        let (outputs, counts) = state.withLock { s in
            (s.outputs, s.health.compactMap { h in h.rowsLost > 0 ? (h.lostFile ?? "", h.rowsLost) : nil })
        }
        var lost = Dictionary(counts, uniquingKeysWith: +)
        for case let view as any JournalView in outputs {
            lost.merge(view.rowsLost.filter { $0.value > 0 }, uniquingKeysWith: +)
        }
        return lost
    }

    /// The first error of each output that failed to write, flush or close, in output order:
    /// what `metadata.json` records as `write_errors`. Empty when every write succeeded.
    package var writeErrors: [String] {
        state.withLock { s in s.health.compactMap(\.firstError) }
    }

    /// One sentence about what was lost, nil when nothing was: the warning `close()` gives.
    package static func lossSummary(_ rowsLost: [String: Int]) -> String? {
        lossDescription(rowsLost).map { "rows were lost: " + $0 }
    }

    /// What was lost, file by file, the journal first (`noko.ndjson lacks 120 rows; train.csv
    /// lacks 40 rows that noko.ndjson has`); nil when nothing was.
    package static func lossDescription(_ rowsLost: [String: Int], journal: String = RunLayout.journalName) -> String? {
        guard !rowsLost.isEmpty else { return nil }
        let parts = rowsLost.sorted { ($0.key == journal ? 0 : 1, $0.key) < ($1.key == journal ? 0 : 1, $1.key) }.map { file, count in
            let rows = "\(count) row\(count == 1 ? "" : "s")"
            return file == journal ? "\(file) lacks \(rows)" : "\(file) lacks \(rows) that \(journal) has"
        }
        return parts.joined(separator: "; ")
    }

    private func report(failureOf output: any LogOutput, _ operation: String, _ error: any Error) {
        let first = state.withLock { $0.warned.insert("\(operation)|\(output.name)").inserted }
        if first { messages.warning("output '\(output.name)' failed to \(operation): \(error)") }
    }
}
