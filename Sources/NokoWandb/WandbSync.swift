import Dispatch
import Foundation
import NokoCore
import NokoPlatform
import NokoRemoteSync
import Synchronization

/// A run's live mirror on wandb: the run module holds one per run (rank 0 only).
///
/// The journal is the queue: `logRow` writes `noko.ndjson` as always, and a background thread reads it from the acknowledged offset and uploads it,
/// so logging costs the same with sync on, and a slow or unreachable server never blocks
/// the program. Progress lives in `sync/wandb.json`; after a crash, `kill -9` or an
/// outage, `noko-run sync RUN` (`syncRun(directory:options:environment:netrcPath:messages:progress:)`)
/// or the next `initExtra` of the same run continues from what the server acknowledged.
///
/// Typical use from the run module:
/// ```swift
/// let sync = WandbSync.start(options: wandbOptions, run: WandbRunInfo(directory: dir, runName: name,
///                            startTime: start, config: redactedConfig, host: host, program: program,
///                            gitCommit: head, gitCheckpoint: checkpoint, gitRemoteURL: remote, rank: rank),
///                            onRecordChange: { record in /* metadata.remotes.wandb = record.jsonValue */ })
/// sync?.setSummary("best", to: 0.5)          // run.summary["best"] = 0.5
/// if sync?.stopRequested == true { … }         // the user pressed Stop on the dashboard
/// let result = sync?.finish(exitCode: 0)       // waits at most finishTimeout (30 s)
/// ```
package final class WandbSync: LiveRemote {
    /// The run directory.
    package let directory: URL
    /// Online or offline.
    package let mode: WandbOptions.Mode
    private let session: LiveSession<WandbRemoteRecord>

    private init(mode: WandbOptions.Mode, session: LiveSession<WandbRemoteRecord>) {
        self.directory = session.directory
        self.mode = mode
        self.session = session
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
    package static func start(
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
            lock = try SyncLock.acquire(in: run.directory, remote: SyncState.remoteName)
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
        if settings.mode == .online { HTTPClient.prepareForUseAtExit() }
        var stop: (@Sendable () -> Void)?
        if settings.options.stopAction == .terminate {
            stop = { @Sendable in _ = try? SignalNumber.send(SignalNumber.terminate, to: CurrentProcess.id) }
        }
        let control = SyncControl(
            record: state.remoteRecord, userSummary: state.userSummary, messages: { messages(WandbMessage($0)) },
            onRecordChange: onRecordChange, onStop: stop)
        let session = LiveSession(
            directory: run.directory, remoteName: SyncState.remoteName, control: control, lock: lock,
            finishTimeout: settings.options.finishTimeout)
        RemoteSync.launch(
            directory: run.directory, remote: WandbRemote(settings: settings, cursor: state, directory: run.directory), cursor: state, control: control,
            progress: nil, live: true)
        return WandbSync(mode: settings.mode, session: session)
    }

    /// Where the run lives on wandb, for `metadata.json` (`remotes.wandb`).
    package var record: WandbRemoteRecord { session.record }

    package var name: String { SyncState.remoteName }
    package var recordJSON: JSONValue { record.jsonValue }

    /// True once the server answered `"stopped": true` (Stop pressed on the dashboard).
    /// Poll it from the training loop; a warning is logged when it turns true.
    package var stopRequested: Bool { session.control.stopRequested }

    /// History lines the server acknowledged so far in this session.
    package var rowsUploaded: Int64 {
        session.control.shared.withLock { $0.rowsUploaded }
    }

    /// Sets a summary key (`run.summary["best"] = 0.5`): it overrides the last logged
    /// value of the same key and reaches the server with the next request. Costs a lock,
    /// never I/O on the caller's thread. `nil`-valued keys (`.null`) are sent as null.
    package func setSummary(_ key: String, to value: JSONValue) {
        session.setSummary(key, to: value)
    }

    /// Re-sends the config, display name, tags or notes (UpsertBucket) before the next rows.
    package func update(_ update: RunUpdate) {
        session.update(update)
    }

    /// The value set with ``setSummary(_:to:)`` for `key`, or nil.
    package func summaryValue(_ key: String) -> JSONValue? {
        session.summaryValue(key)
    }

    /// Uploads what is left and marks the remote run finished (`complete`, `exitcode`),
    /// waiting at most `timeout` (default: the options' `finishTimeout`, 30 s).
    ///
    /// Call it after the journal is flushed: every row in `noko.ndjson` at that moment is
    /// uploaded. When time runs out (or sync failed, or the run is offline) the rest stays
    /// in the run directory and a message gives the exact command that finishes it.
    /// Calling it again returns the first result.
    @discardableResult
    package func finish(exitCode: Int32 = 0, timeout: Duration? = nil) -> WandbFinishResult {
        session.finish(exitCode: exitCode, timeout: timeout)
    }

    /// The shell command that finishes uploading the run in `directory`.
    package static func syncCommand(for directory: URL) -> String {
        RemoteSync.syncCommand(for: directory)
    }

    // MARK: - noko-run sync

    /// Uploads a run directory (what `noko-run sync RUN` does for each RUN): continues from
    /// `sync/wandb.json`, or creates the remote run from `metadata.json` and `config.json`
    /// when the run was never synced, uploads every row not yet acknowledged, and finishes
    /// the remote run with the exit code from `metadata.json` (1 for a run that died).
    ///
    /// Blocks until done; the work runs on its own thread. From async code use the `async`
    /// overload. `progress` is called after every acknowledged request, for a progress bar.
    package static func syncRun(
        directory: URL, options: WandbOptions? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment, netrcPath: String? = nil,
        messages: @escaping @Sendable (WandbMessage) -> Void = WandbMessage.standardError,
        progress: (@Sendable (WandbSyncProgress) -> Void)? = nil
    ) throws(WandbSyncError) -> WandbSyncReport {
        let job = try SyncJob.prepare(directory: directory, options: options, environment: environment, netrcPath: netrcPath, messages: messages)
        guard let control = job.control else { return job.report(outcome: .finished) }
        let outcome = RemoteSync.runToEnd(
            directory: directory, remote: WandbRemote(settings: job.settings, cursor: job.state, directory: directory), cursor: job.state,
            control: control, progress: progress)
        return try job.finish(outcome: outcome)
    }

    /// `syncRun(directory:options:environment:netrcPath:messages:progress:)` for async
    /// callers: the upload runs on its own thread, never on the cooperative pool.
    package static func syncRun(
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

    static func newState(settings: WandbSettings, run: WandbRunInfo) -> SyncState {
        let spec = SyncState.RunSpec(
            runName: run.runName, startTime: run.startTime, displayName: settings.displayName ?? run.runName,
            group: settings.group, jobType: settings.jobType, tags: settings.tags, notes: settings.notes,
            host: run.host, program: run.program, commit: run.gitCommit, checkpoint: run.gitCheckpoint,
            repo: run.gitRemoteURL.map(SecretRedactor.strippingCredentials), config: run.config,
            environment: environment(run))
        let url = settings.entity.map {
            WandbSettings.runURL(appURL: settings.appURL, entity: $0, project: settings.project, runID: settings.runID)
        }
        var state = SyncState(
            mode: settings.mode, baseURL: settings.baseURL, runID: settings.runID, entity: settings.entity,
            project: settings.project, url: url, spec: spec, minimumLevel: settings.options.minimumLevel?.value,
            otherRanks: settings.options.otherRanks)
        state.sendsConfigTable = settings.options.sendsConfigTable
        return state
    }

    /// `_wandb.e`'s block for the run, from its `metadata.json` (nil without one). The writer
    /// ID names the run's noko writer; it stays the same for every process of the run.
    static func environment(_ run: WandbRunInfo) -> JSONValue? {
        guard let metadata = (try? RunFileFormat.readJSON(RunLayout(run.directory).metadata)) ?? nil else { return nil }
        return RunFiles.wandbMetadata(metadata, writer: "noko-" + run.runName)
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
}

/// How `finish` left the remote run (the engine's, for every remote).
package typealias WandbFinishResult = SyncFinishResult

