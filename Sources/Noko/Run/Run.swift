import Foundation
import Logging
import NokoCore
import NokoGit
import NokoPlatform
import NokoRemoteSync
import Synchronization

/// A run: what `Noko.initExtra` returns. Its directory holds everything about it.
///
/// Finish it with ``finish(exitCode:)`` (normal process exit does it for you, as do SIGINT
/// and SIGTERM, which mark it `killed`), or use `Noko.withRun`, which marks it `failed`
/// when the body throws.
public final class Run: Sendable {
    /// The run directory (rank 0's).
    public let directory: URL
    /// Where this process's files go: the run directory, or `rank-<N>/` inside it.
    public let logDirectory: URL
    /// The run's name.
    public let name: String
    /// This process's place in a distributed job.
    public let distributed: DistributedContext
    /// The root seed the generators were seeded from, if they were.
    public let seed: UInt64?
    /// The config as recorded in `config.json` (secrets redacted), with the changes of
    /// ``updateConfig(_:)``.
    public var config: JSONValue { currentConfig.withLock { $0 } }
    private let currentConfig: Mutex<JSONValue>
    /// The logger rows go to (also `Noko.logger`).
    public let logger: NokoLogger
    /// The git checkpoint, when one was made.
    public let checkpoint: GitCheckpointRecord?
    /// Values that sum up the run, also sent to every remote (wandb's run summary).
    public let summary: RunSummary

    let metadata: MetadataStore
    /// The remotes the run is mirrored on (rank 0 only).
    let remotes: [any LiveRemote]
    let heartbeat: IntervalThread
    let crashMarker: CrashMarker?
    /// The `system` table's sampler, when it is on.
    let systemSampler: SystemSampler?
    let console: ConsoleCapture?
    private let finished = Mutex<RunMetadata?>(nil)
    private let finishTimeout: Duration
    private let tensorBoard: TensorBoardOutput?
    /// What the error of a failed run goes through before `metadata.json` records it.
    private let redactor: SecretRedactor
    /// The executable's SHA-256, computed while the program starts.
    private let buildHash: BackgroundWork?
    /// What earlier processes of a resumed run recorded as lost.
    private let earlierLoss: RunLoss

    init(
        directory: URL, logDirectory: URL, name: String, distributed: DistributedContext, seed: UInt64?,
        config: JSONValue, logger: NokoLogger, checkpoint: GitCheckpointRecord?, metadata: MetadataStore,
        remotes: [any LiveRemote], redactor: SecretRedactor, heartbeatInterval: Duration, crashMarker: CrashMarker?,
        console: ConsoleCapture?, finishTimeout: Duration, buildHash: BackgroundWork? = nil,
        systemSampler: SystemSampler? = nil
    ) {
        self.systemSampler = systemSampler
        self.buildHash = buildHash
        self.directory = directory
        self.logDirectory = logDirectory
        self.name = name
        self.distributed = distributed
        self.seed = seed
        self.currentConfig = Mutex(config)
        self.logger = logger
        self.checkpoint = checkpoint
        self.metadata = metadata
        self.remotes = remotes
        self.crashMarker = crashMarker
        self.console = console
        self.finishTimeout = finishTimeout
        self.redactor = redactor
        tensorBoard = logger.outputs.lazy.compactMap { $0 as? TensorBoardOutput }.first
        summary = RunSummary(redactor: redactor, warn: { [messages = logger.messages] in messages.warning("\($0)") }) {
            [metadata, remotes] key, value in
            for remote in remotes { remote.setSummary(key, to: value) }
            try? metadata.update { m in
                var values = m.summary ?? [:]
                values[key] = value
                m.summary = values
            }
        }
        let earlier = RunLoss(metadata.current)
        self.earlierLoss = earlier
        // Each heartbeat also records what was lost so far: a run killed later, or whose disk
        // stays full until the end, still has the count from when the file could be written.
        heartbeat = IntervalThread(name: "noko-heartbeat", interval: heartbeatInterval) { [metadata, logger] in
            try? metadata.update { m in
                m.heartbeat = RowClock.system.now()
                earlier.adding(logger).record(in: &m)
            }
        }
    }

    /// Adds or replaces top-level config keys while the run goes on: a value learned during
    /// training, a schedule changed by hand, what an early stop decided.
    ///
    /// ```swift
    /// try run.updateConfig(["warmup_steps": 500, "optimizer": ["name": "adamw", "lr": 3e-4]])
    /// ```
    ///
    /// Each value is recorded as the start config is: secrets redacted (with a warning
    /// naming the key), `config.json` rewritten atomically with the whole config, the changed
    /// keys logged as a row of the `config` table (flattened, `optimizer/lr`), and the new
    /// config sent to every remote (wandb's config panel) with the next request. A key given
    /// again replaces its whole value; keys not given are kept.
    ///
    /// - Throws: ``ConfigError`` naming the key whose value cannot be encoded; nothing is
    ///   changed then. A `config.json` that cannot be written is a warning: the change still
    ///   reaches the journal and the remotes.
    public func updateConfig(_ changes: [String: Any]) throws {
        guard !changes.isEmpty else { return }
        let tree = try ConfigRecord.tree(changes)
        let (recorded, findings) = redactor.redact(tree)
        for finding in findings {
            logger.messages.warning("\(finding.message(subject: "config key"))")
        }
        let whole = currentConfig.withLock { config -> JSONValue in
            var members = config.objectValue ?? (config == .null ? [:] : ["value": config])
            for (key, value) in recorded.objectValue ?? [:] { members[key] = value }
            config = .object(members)
            return config
        }
        if distributed.rank == 0 {
            do {
                try ConfigFile.write(whole, to: directory)
            } catch {
                logger.messages.warning("config.json keeps the config from before this change (\(error)); the change is in the journal's config table")
            }
        }
        logger.logSummary(ConfigTable.name, ConfigRecord.flattened(recorded).map { ($0.key, $0.value) }, level: .results)
        for remote in remotes { remote.update(RunUpdate(config: whole)) }
    }

    /// Changes the name, tags or notes the run's dashboards show (wandb's display name, tags
    /// and notes), sent with the next request; nil leaves one as it is. The run directory
    /// keeps its name.
    ///
    /// ```swift
    /// run.updateDescription(tags: ["baseline", "diverged"], notes: "lr too high after step 4000")
    /// ```
    ///
    /// An empty name and empty or repeated tags are left out, with a warning.
    public func updateDescription(name: String? = nil, tags: [String]? = nil, notes: String? = nil) {
        var update = RunUpdate(notes: notes)
        if let name {
            let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty {
                logger.messages.warning("run.updateDescription: an empty name is left out; the dashboard keeps the run's name")
            } else {
                update.displayName = trimmed
            }
        }
        if let tags {
            var kept: [String] = []
            for tag in tags {
                let trimmed = tag.trimmingCharacters(in: .whitespacesAndNewlines)
                if trimmed.isEmpty || kept.contains(trimmed) {
                    logger.messages.warning("run.updateDescription: tag '\(tag)' is \(trimmed.isEmpty ? "empty" : "given twice"); left out")
                } else {
                    kept.append(trimmed)
                }
            }
            update.tags = kept
        }
        guard update != RunUpdate() else { return }
        for remote in remotes { remote.update(update) }
    }

    /// True when a remote asked the run to stop (the Stop button of wandb's dashboard, when
    /// its `stopAction` is `.flag`; by default Stop ends the program with SIGTERM).
    public var stopRequested: Bool { remotes.contains { $0.stopRequested } }

    /// True once the run has finished.
    public var isFinished: Bool { finished.withLock { $0 != nil } }

    /// Ends the run: flushes and syncs every file, records `finished` (exit code 0) or
    /// `failed`, and waits for the wandb upload at most the configured time. Calling it
    /// again does nothing.
    public func finish(exitCode: Int32 = 0) {
        finish(status: exitCode == 0 ? .finished : .failed, exitCode: exitCode)
    }

    /// Ends the run with an explicit status (the signal and error paths use this).
    func finish(status: RunStatus, exitCode: Int32, signal: String? = nil, error: String? = nil) {
        let claimed = finished.withLock { done -> Bool in
            guard done == nil else { return false }
            done = metadata.current
            return true
        }
        guard claimed else { return }
        // First: what the program wrote until now is in output.log before anything reads
        // or uploads it, and nothing the run's end prints is captured.
        console?.stop(timeout: status == .killed ? 1 : 5)
        heartbeat.stop()
        // The last sample, while the outputs are still open: even a short run has its figures.
        systemSampler?.stop()
        try? tensorBoard?.writeSessionEnd(status: status == .finished ? .success : .failure)
        if status == .killed {
            // The process ends in a moment; rows other threads log until then still reach
            // the journal (one write each), so the journal stays open and the views are
            // written out completely.
            logger.flushCompletely()
        } else {
            // What was lost is said once, below, with where it is recorded.
            logger.close(reportingLoss: false)
        }
        let loss = earlierLoss.adding(logger)
        crashMarker?.disarm()
        // The executable's hash lands in metadata.json before the end does, so a finished
        // run always has it.
        buildHash?.wait(timeout: status == .killed ? .seconds(1) : .seconds(30))
        // The status is recorded before waiting for the upload: a second Ctrl-C during that
        // wait must not leave the run `running`.
        do {
            try metadata.update { m in
                m.status = status.rawValue
                m.exitCode = Int(exitCode)
                m.signal = signal
                m.error = error.map { redactor.redact($0, keyPath: "error").text }
                let now = RowClock.system.now()
                m.endTime = now
                m.heartbeat = now
                loss.record(in: &m)
            }
            if let summary = NokoLogger.lossSummary(loss.rowsLost) {
                logger.messages.warning("\(summary); metadata.json records it (rows_lost)")
            }
        } catch {
            logger.messages.error("could not record the run's end in \(metadata.directory.path): \(error)")
            if let summary = NokoLogger.lossSummary(loss.rowsLost) {
                logger.messages.warning("\(summary); metadata.json could not record it")
            }
        }
        if !remotes.isEmpty {
            // A signal asked the process to end: wait briefly, `noko-run sync` does the rest.
            let timeout = status == .killed ? min(finishTimeout, .seconds(2)) : finishTimeout
            finishRemotes(exitCode: exitCode, timeout: timeout)
        }
        RunLifecycle.forget(self)
    }

    /// Finishes every remote at once, so that the time limit holds for all of them together.
    private func finishRemotes(exitCode: Int32, timeout: Duration) {
        let results = Mutex<[Int: SyncFinishResult]>([:])
        DispatchQueue.concurrentPerform(iterations: remotes.count) { index in
            let result = remotes[index].finish(exitCode: exitCode, timeout: timeout)
            results.withLock { $0[index] = result }
        }
        for (index, remote) in remotes.enumerated() {
            if case .leftForLater(let command, let reason) = results.withLock({ $0[index] }) {
                logger.messages.warning("\(remote.name) upload left for later (\(reason)): \(command)")
            }
        }
    }
}

/// Rows a run lost, as `metadata.json` records them (`rows_lost`, `write_errors`): what earlier
/// processes of a resumed run recorded, plus what this process's logger counts.
struct RunLoss: Sendable {
    var rowsLost: [String: Int]
    var writeErrors: [String]

    /// What `metadata` already records.
    init(_ metadata: RunMetadata) {
        rowsLost = metadata.rowsLost ?? [:]
        writeErrors = metadata.writeErrors ?? []
    }

    /// This record with `logger`'s losses added.
    func adding(_ logger: NokoLogger) -> RunLoss {
        var sum = self
        sum.rowsLost.merge(logger.rowsLost, uniquingKeysWith: +)
        sum.writeErrors += logger.writeErrors.filter { !sum.writeErrors.contains($0) }
        return sum
    }

    /// Writes the record into `metadata`; nothing lost leaves the fields out.
    func record(in metadata: inout RunMetadata) {
        metadata.rowsLost = rowsLost.isEmpty ? nil : rowsLost
        metadata.writeErrors = writeErrors.isEmpty ? nil : writeErrors
    }
}
