import NokoPlatform
import Dispatch
import Foundation
import NokoCore
import Synchronization

/// A run's live mirror on wandb: the run module holds one per run (rank 0 only).
///
/// The journal is the queue (DESIGN.md invariant 2): `logRow` writes `noko.ndjson` as
/// always, and a background thread reads it from the acknowledged offset and uploads it,
/// so logging costs the same with sync on, and a slow or unreachable server never blocks
/// the program. Progress lives in `sync/wandb.json`; after a crash, `kill -9` or an
/// outage, `noko-run sync RUN` (`syncRun(directory:options:environment:netrcPath:messages:progress:)`)
/// or the next `initExtra` of the same run continues from what the server acknowledged.
///
/// Typical use from the run module:
/// ```swift
/// let sync = WandbSync.start(options: wandbOptions, run: WandbRunInfo(directory: dir, runName: name,
///                            startTime: start, config: redactedConfig, host: host, program: program,
///                            gitCommit: checkpoint ?? head, gitRemoteURL: remote, rank: rank),
///                            onRecordChange: { record in /* metadata.remotes.wandb = record.jsonValue */ })
/// sync?.setSummary("best", to: 0.5)          // run.summary["best"] = 0.5
/// if sync?.stopRequested == true { … }         // the user pressed Stop on the dashboard
/// let result = sync?.finish(exitCode: 0)       // waits at most finishTimeout (30 s)
/// ```
public final class WandbSync: Sendable {
    /// The run directory.
    public let directory: URL
    /// Online or offline.
    public let mode: WandbOptions.Mode
    private let control: SyncControl
    private let lock: Mutex<SyncLock?>
    private let finishTimeout: Duration
    private let result = Mutex<WandbFinishResult?>(nil)

    private init(directory: URL, mode: WandbOptions.Mode, control: SyncControl, lock: SyncLock, finishTimeout: Duration) {
        self.directory = directory
        self.mode = mode
        self.control = control
        self.lock = Mutex(lock)
        self.finishTimeout = finishTimeout
    }

    // MARK: - Live runs

    /// Starts syncing a run, or returns nil when sync is off (nothing asked for it,
    /// `WANDB_MODE=disabled`, rank > 0, or another process is uploading this run).
    ///
    /// Returns at once: creating the remote run and every request happen on the sync
    /// thread, so a run starts even when the server is down. Warnings (no API key, so
    /// recording offline; a bad project name…) go to `messages`, once each.
    ///
    /// - Parameters:
    ///   - options: The run's wandb options; nil when the program passed none (then only
    ///     `WANDB_MODE`/`WANDB_PROJECT` turn sync on).
    ///   - run: What the run module knows about the run.
    ///   - environment: Where `WANDB_*` variables are read; tests pass their own.
    ///   - netrcPath: The netrc file for the API key; default `$NETRC`, else `$HOME/.netrc`.
    ///   - messages: Where warnings, errors and notes go (default: stderr).
    ///   - onRecordChange: Called on the sync thread when ``record`` changes (the server
    ///     names the entity): rewrite `metadata.json`'s `remotes.wandb` then.
    public static func start(
        options: WandbOptions?, run: WandbRunInfo,
        environment: [String: String] = ProcessInfo.processInfo.environment, netrcPath: String? = nil,
        messages: @escaping @Sendable (WandbMessage) -> Void = WandbMessage.standardError,
        onRecordChange: (@Sendable (WandbRemoteRecord) -> Void)? = nil
    ) -> WandbSync? {
        guard run.rank == 0 else { return nil }
        guard case .on(var settings, let notes) = WandbSettings.resolve(options: options, environment: environment, netrcPath: netrcPath)
        else { return nil }
        notes.forEach(messages)
        let lock: SyncLock
        do {
            lock = try SyncLock.acquire(in: run.directory)
        } catch {
            messages(WandbMessage(level: .warning, text: "\(error); this process will not upload the run (local logging goes on)"))
            return nil
        }
        var state: SyncState
        do {
            if var existing = try SyncState.load(from: run.directory) {
                settings = rebased(settings, onto: existing, options: options, environment: environment, netrcPath: netrcPath, messages: messages)
                existing.finished = false
                existing.exitCode = nil
                existing.mode = settings.mode
                existing.spec.config = run.config
                state = existing
                messages(WandbMessage(level: .info, text: "resuming wandb run \(existing.runID) from sync/wandb.json (\(existing.historyLines) history lines acknowledged)"))
            } else {
                state = newState(settings: settings, run: run)
            }
        } catch {
            let kept = SyncState.url(in: run.directory).appendingPathExtension("unreadable")
            _ = try? FileSystem.rename(SyncState.url(in: run.directory).path, to: kept.path)
            messages(WandbMessage(level: .warning, text: "\(error); starting a new wandb run (the old file is kept as \(kept.lastPathComponent))"))
            state = newState(settings: settings, run: run)
        }
        do {
            try state.save(to: run.directory)
        } catch {
            messages(WandbMessage(level: .warning, text: "\(error); wandb sync is off for this run"))
            return nil
        }
        if settings.mode == .offline {
            messages(WandbMessage(level: .info, text: "offline: rows stay in the run directory; upload them with: \(syncCommand(for: run.directory))"))
        }
        if settings.mode == .online { initializeTransport() }
        let control = SyncControl(record: state.remoteRecord, userSummary: state.userSummary, messages: messages, onRecordChange: onRecordChange)
        let sync = WandbSync(directory: run.directory, mode: settings.mode, control: control, lock: lock, finishTimeout: settings.options.finishTimeout)
        launch(directory: run.directory, settings: settings, state: state, control: control, progress: nil, live: true)
        return sync
    }

    /// Initializes libcurl, and with it OpenSSL, unless done already (about half a
    /// millisecond). ``start(options:run:environment:netrcPath:messages:onRecordChange:)``
    /// calls it on the caller's thread.
    ///
    /// Call it before installing a process exit handler that may still upload, as
    /// `initExtra` does: exit handlers run in reverse order of registration, and OpenSSL
    /// registers its own cleanup when it is first initialized. Initialized later (lazily, on
    /// the upload thread), OpenSSL would be cleaned up before that handler runs, and the
    /// upload that finishes the run would crash the exiting process.
    public static func initializeTransport() {
        _ = CurlGlobal.initialized
    }

    /// Where the run lives on wandb, for `metadata.json` (`remotes.wandb`).
    public var record: WandbRemoteRecord {
        control.shared.withLock { $0.record }
    }

    /// True once the server answered `"stopped": true` (Stop pressed on the dashboard).
    /// Poll it from the training loop; a warning is logged when it turns true.
    public var stopRequested: Bool { control.stopRequested }

    /// History lines the server acknowledged so far in this session.
    public var rowsUploaded: Int64 {
        control.shared.withLock { $0.rowsUploaded }
    }

    /// Sets a summary key (`run.summary["best"] = 0.5`): it overrides the last logged
    /// value of the same key and reaches the server with the next request. Costs a lock,
    /// never I/O on the caller's thread. `nil`-valued keys (`.null`) are sent as null.
    public func setSummary(_ key: String, to value: JSONValue) {
        control.shared.withLock {
            $0.userSummary[key] = value
            $0.userSummaryVersion += 1
        }
    }

    /// The value set with ``setSummary(_:to:)`` for `key`, or nil.
    public func summaryValue(_ key: String) -> JSONValue? {
        control.shared.withLock { $0.userSummary[key] }
    }

    /// Uploads what is left and marks the remote run finished (`complete`, `exitcode`),
    /// waiting at most `timeout` (default: the options' `finishTimeout`, 30 s).
    ///
    /// Call it after the journal is flushed: every row in `noko.ndjson` at that moment is
    /// uploaded. When time runs out (or sync failed, or the run is offline) the rest stays
    /// in the run directory and a message gives the exact command that finishes it.
    /// Calling it again returns the first result.
    @discardableResult
    public func finish(exitCode: Int32 = 0, timeout: Duration? = nil) -> WandbFinishResult {
        if let done = result.withLock({ $0 }) { return done }
        control.shared.withLock { if $0.finishExitCode == nil { $0.finishExitCode = exitCode } }
        control.wake.signal()
        let limit = timeout ?? finishTimeout
        var timedOut = false
        if control.done.wait(timeout: .now() + .nanoseconds(Int(limit.nanoseconds))) == .timedOut {
            timedOut = true
            control.cancel()
            _ = control.done.wait(timeout: .now() + .seconds(5))
        }
        let outcome = control.shared.withLock { $0.outcome }
        let command = WandbSync.syncCommand(for: directory)
        let finishResult: WandbFinishResult
        switch outcome {
        case .finished:
            finishResult = .finished(url: record.url)
        case .offline:
            finishResult = .leftForLater(command: command, reason: "offline mode")
        case .failed(let message):
            finishResult = .leftForLater(command: command, reason: message)
        case .cancelled, nil:
            let seconds = String(format: "%g", limit.seconds)
            let reason = timedOut ? "the upload did not finish within \(seconds) s" : "the upload was cancelled"
            control.messages(WandbMessage(level: .warning, text: "\(reason); the rest stays in the run directory. Finish it with: \(command)"))
            finishResult = .leftForLater(command: command, reason: reason)
        }
        if outcome != nil {
            // The upload thread is gone: let `noko-run sync` in. (A thread that is somehow
            // still busy keeps the lock until the process exits.)
            lock.withLock { $0 = nil }
        }
        result.withLock { $0 = finishResult }
        return finishResult
    }

    /// The shell command that finishes uploading the run in `directory`.
    public static func syncCommand(for directory: URL) -> String {
        "noko-run sync \(shellQuoted(directory.path))"
    }

    // MARK: - noko-run sync

    /// Uploads a run directory (what `noko-run sync RUN` does for each RUN): continues from
    /// `sync/wandb.json`, or creates the remote run from `metadata.json` and `config.json`
    /// when the run was never synced, uploads every row not yet acknowledged, and finishes
    /// the remote run with the exit code from `metadata.json` (1 for a run that died).
    ///
    /// Blocks until done; the work runs on its own thread. From async code use the `async`
    /// overload. `progress` is called after every acknowledged request, for a progress bar.
    public static func syncRun(
        directory: URL, options: WandbOptions? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment, netrcPath: String? = nil,
        messages: @escaping @Sendable (WandbMessage) -> Void = WandbMessage.standardError,
        progress: (@Sendable (WandbSyncProgress) -> Void)? = nil
    ) throws(WandbSyncError) -> WandbSyncReport {
        let job = try SyncJob.prepare(directory: directory, options: options, environment: environment, netrcPath: netrcPath, messages: messages)
        guard let control = job.control else { return job.report(outcome: .finished) }
        launch(directory: directory, settings: job.settings, state: job.state, control: control, progress: progress)
        control.done.wait()
        return try job.finish(outcome: control.shared.withLock { $0.outcome } ?? .cancelled)
    }

    /// `syncRun(directory:options:environment:netrcPath:messages:progress:)` for async
    /// callers: the upload runs on its own thread, never on the cooperative pool.
    public static func syncRun(
        directory: URL, options: WandbOptions? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment, netrcPath: String? = nil,
        messages: @escaping @Sendable (WandbMessage) -> Void = WandbMessage.standardError,
        progress: (@Sendable (WandbSyncProgress) -> Void)? = nil
    ) async throws(WandbSyncError) -> WandbSyncReport {
        let outcome: Result<WandbSyncReport, WandbSyncError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                do throws(WandbSyncError) {
                    continuation.resume(returning: .success(try syncRun(directory: directory, options: options, environment: environment, netrcPath: netrcPath, messages: messages, progress: progress)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            thread.start()
        }
        return try outcome.get()
    }

    // MARK: - Internals

    /// Runs an upload session on a thread of its own. A `live` session (beside a running
    /// program) lowers its thread's priority so that it yields the CPU to the program.
    static func launch(
        directory: URL, settings: WandbSettings, state: SyncState, control: SyncControl,
        progress: (@Sendable (WandbSyncProgress) -> Void)?, live: Bool = false
    ) {
        let thread = Thread {
            if live { CurrentProcess.lowerThreadPriority() }
            let uploader = Uploader(
                directory: directory, settings: settings, state: state, control: control, progress: progress, live: live)
            let outcome = uploader.run()
            control.shared.withLock { $0.outcome = outcome }
            control.done.signal()
        }
        thread.name = "noko-wandb-sync"
        thread.start()
    }

    static func newState(settings: WandbSettings, run: WandbRunInfo) -> SyncState {
        let spec = SyncState.RunSpec(
            runName: run.runName, startTime: run.startTime, displayName: settings.displayName ?? run.runName,
            group: settings.group, jobType: settings.jobType, tags: settings.tags, notes: settings.notes,
            host: run.host, program: run.program, commit: run.gitCommit,
            repo: run.gitRemoteURL.map(BaseURL.strippingUserinfo), config: run.config)
        let url = settings.entity.map {
            WandbSettings.runURL(appURL: settings.appURL, entity: $0, project: settings.project, runID: settings.runID)
        }
        return SyncState(
            mode: settings.mode, baseURL: settings.baseURL, runID: settings.runID, entity: settings.entity,
            project: settings.project, url: url, spec: spec, minimumLevel: settings.options.minimumLevel?.value,
            otherRanks: settings.options.otherRanks)
    }

    /// A run that already has a remote run keeps its server: the state's base URL wins
    /// unless the options name one explicitly.
    static func rebased(
        _ settings: WandbSettings, onto state: SyncState, options: WandbOptions?, environment: [String: String],
        netrcPath: String?, messages: @Sendable (WandbMessage) -> Void
    ) -> WandbSettings {
        var explicitID: [String] = []
        if let id = options?.runID, id != state.runID { explicitID.append("run id \(id)") }
        if let project = options?.project, project != state.project { explicitID.append("project \(project)") }
        if let entity = options?.entity, let known = state.entity, entity != known { explicitID.append("entity \(entity)") }
        if !explicitID.isEmpty {
            messages(WandbMessage(level: .warning, text: "this run already syncs to \(state.entity ?? "?")/\(state.project)/\(state.runID) (sync/wandb.json); ignoring \(explicitID.joined(separator: ", "))"))
        }
        guard options?.baseURL == nil, state.baseURL != settings.baseURL else { return settings }
        var options = options ?? WandbOptions()
        options.baseURL = state.baseURL
        options.mode = settings.mode
        guard case .on(let rebased, _) = WandbSettings.resolve(options: options, environment: environment, netrcPath: netrcPath, forceOn: true)
        else { return settings }
        var result = rebased
        if settings.mode == .offline { result.mode = .offline }
        return result
    }

    static func shellQuoted(_ text: String) -> String {
        let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=+@%")
        if !text.isEmpty, text.unicodeScalars.allSatisfy(safe.contains) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// How `finish` left the remote run.
public enum WandbFinishResult: Sendable, Equatable {
    /// Every row uploaded and the run marked finished on the server.
    case finished(url: String?)
    /// Something is left (offline, timed out, or sync failed): `command` finishes it.
    case leftForLater(command: String, reason: String)
}

