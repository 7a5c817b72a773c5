import Foundation
import NokoCore
import NokoPlatform
import NokoRemoteSync
import Synchronization

/// A run's live mirror on an MLflow tracking server (rank 0 only), and `noko-run sync --to
/// mlflow`. As with wandb, the journal is the queue: a background thread uploads it from the
/// offsets the server acknowledged (`sync/mlflow.json`), so a slow or dead server never
/// blocks or ends the program, and `noko-run sync` finishes what a crash or an outage left.
package final class MLflowSync: LiveRemote {
    package let directory: URL
    private let session: LiveSession<MLflowRemoteRecord>

    private init(session: LiveSession<MLflowRemoteRecord>) {
        self.directory = session.directory
        self.session = session
    }

    /// Starts mirroring a run, or returns nil when MLflow is off (no options and no
    /// `MLFLOW_TRACKING_URI`), for rank > 0, or when it cannot start (a warning says why).
    package static func start(
        options: MLflowOptions?, run: RemoteRunInfo, environment: [String: String] = ProcessInfo.processInfo.environment,
        messages: @escaping @Sendable (SyncMessage) -> Void,
        onRecordChange: (@Sendable (MLflowRemoteRecord) -> Void)? = nil
    ) -> MLflowSync? {
        guard run.rank == 0 else { return nil }
        let settings: MLflowSettings
        switch MLflowSettings.resolve(options: options, environment: environment) {
        case .off: return nil
        case .refused(let reason):
            messages(SyncMessage(level: .warning, text: "\(reason); the run is not mirrored on MLflow"))
            return nil
        case .on(let resolved): settings = resolved
        }
        let lock: SyncLock
        do {
            lock = try SyncLock.acquire(in: run.directory, remote: MLflowState.remoteName)
        } catch {
            messages(SyncMessage(level: .warning, text: "\(error); this process will not upload the run to MLflow (local logging goes on)"))
            return nil
        }
        var state: MLflowState
        if let existing = try? MLflowState.load(from: run.directory, remote: MLflowState.remoteName), existing.trackingURI == settings.trackingURI {
            state = existing
            state.finished = false
            state.exitCode = nil
            state.uploadsTables = settings.options.uploadsTables
            if run.config != state.config {
                // A resumed run with another config logs it again: new keys become params, a
                // changed one is refused by the server and warned about by key.
                state.config = run.config
                state.paramsLogged = false
            }
        } else {
            state = newState(settings: settings, run: run)
        }
        do {
            try state.save(to: run.directory, remote: MLflowState.remoteName)
        } catch {
            messages(SyncMessage(level: .warning, text: "\(error); MLflow sync is off for this run"))
            return nil
        }
        HTTPClient.prepareForUseAtExit()
        let control = SyncControl(record: state.record, userSummary: state.userSummary, messages: messages, onRecordChange: onRecordChange)
        let session = LiveSession(
            directory: run.directory, remoteName: MLflowState.remoteName, control: control, lock: lock,
            finishTimeout: settings.options.finishTimeout)
        RemoteSync.launch(directory: run.directory, remote: MLflowRemote(settings: settings, directory: run.directory), cursor: state, control: control, progress: nil, live: true)
        return MLflowSync(session: session)
    }

    package var name: String { MLflowState.remoteName }
    package var record: MLflowRemoteRecord { session.record }
    package var recordJSON: JSONValue { record.jsonValue }
    package var stopRequested: Bool { false }

    package func setSummary(_ key: String, to value: JSONValue) { session.setSummary(key, to: value) }

    package func update(_ update: RunUpdate) { session.update(update) }

    @discardableResult
    package func finish(exitCode: Int32, timeout: Duration?) -> SyncFinishResult {
        session.finish(exitCode: exitCode, timeout: timeout)
    }

    /// What `noko-run sync --to mlflow RUN` did.
    package struct Report: Sendable {
        package var record: MLflowRemoteRecord
        package var rowsUploaded: Int64
        package var alreadySynced: Bool
    }

    /// Uploads a run directory to the tracking server: continues from `sync/mlflow.json`, or
    /// creates the run from `metadata.json` and `config.json`; ends it with the run's status.
    package static func syncRun(
        directory: URL, options: MLflowOptions? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
        messages: @escaping @Sendable (SyncMessage) -> Void
    ) throws(SyncJobError) -> Report {
        guard let metadata = (try? RunFileFormat.readJSON(RunLayout(directory).metadata)) ?? nil else { throw SyncJobError("\(directory.path): no metadata.json; not a noko run directory") }
        if metadata["status"]?.stringValue == "running", let pid = metadata["pid"]?.intValue,
            RemoteSync.isAlive(pid: pid, host: metadata["host"]?.stringValue)
        {
            throw SyncJobError("\(directory.path) is still running (pid \(pid)); sync it after it ends")
        }
        let lock: SyncLock
        do {
            lock = try SyncLock.acquire(in: directory, remote: MLflowState.remoteName)
        } catch {
            throw SyncJobError("\(directory.path): \(error)")
        }
        defer { withExtendedLifetime(lock) {} }
        var existing: MLflowState?
        do {
            existing = try MLflowState.load(from: directory, remote: MLflowState.remoteName)
        } catch {
            throw SyncJobError("\(error)")
        }
        let asked = MLflowSettings.resolve(options: options, environment: environment)
        // A run that never reached its server (started offline, or against a wrong URI) goes
        // where it is asked to now.
        if existing?.runID == nil, case .on = asked { existing = nil }
        // A run mirrored before goes on to the server it went to.
        var given = options ?? MLflowOptions()
        if let existing {
            if case .on(let other) = asked, other.trackingURI != existing.trackingURI {
                messages(
                    SyncMessage(
                        level: .warning,
                        text: "sync/mlflow.json mirrors this run on \(existing.trackingURI), so it goes on there, not to \(other.trackingURI); remove sync/mlflow.json to upload it there as a new run"))
            }
            given.trackingURI = existing.trackingURI
        }
        let settings: MLflowSettings
        switch MLflowSettings.resolve(options: given, environment: environment, forceOn: true) {
        case .off: throw SyncJobError("no tracking server: set MLFLOW_TRACKING_URI")
        case .refused(let reason): throw SyncJobError(reason)
        case .on(let resolved): settings = resolved
        }
        var state: MLflowState
        if let existing {
            state = existing
        } else {
            let config = ((try? ConfigFile.read(from: directory)) ?? nil) ?? .object([:])
            state = newState(settings: settings, run: RemoteRunInfo(directory: directory, metadata: metadata, config: config))
        }
        if state.finished && state.isFullyUploaded(in: directory) && state.filesComplete {
            return Report(record: state.record, rowsUploaded: 0, alreadySynced: true)
        }
        let control = SyncControl<MLflowRemoteRecord>(record: state.record, userSummary: state.userSummary, messages: messages, onRecordChange: nil)
        let status = metadata["status"]?.stringValue
        let recorded = metadata["exit_code"]?.intValue.map { Int32(truncatingIfNeeded: $0) }
        let exitCode: Int32 = status == "finished" ? recorded ?? 0 : status == "killed" ? 143 : recorded ?? 1
        control.shared.withLock {
            $0.finishExitCode = exitCode
            $0.finishTime = metadata["end_time"]?.doubleValue ?? metadata["heartbeat"]?.doubleValue
        }
        let outcome = RemoteSync.runToEnd(directory: directory, remote: MLflowRemote(settings: settings, directory: directory), cursor: state, control: control, progress: nil)
        let final = (try? MLflowState.load(from: directory, remote: MLflowState.remoteName)) ?? nil
        switch outcome {
        case .finished:
            return Report(record: final?.record ?? state.record, rowsUploaded: control.shared.withLock { $0.rowsUploaded }, alreadySynced: false)
        case .failed(let message): throw SyncJobError(message)
        case .cancelled, .offline: throw SyncJobError("the upload stopped before the end")
        }
    }

    static func newState(settings: MLflowSettings, run: RemoteRunInfo) -> MLflowState {
        var tags: [String: String] = [
            "mlflow.runName": settings.options.runName ?? run.runName, "mlflow.source.type": "LOCAL",
            "noko.run_dir": run.directory.path,
        ]
        tags["mlflow.source.name"] = run.program
        tags["mlflow.source.git.commit"] = run.gitCommit
        tags["mlflow.source.git.repoURL"] = run.gitRemoteURL.map(SecretRedactor.strippingCredentials)
        tags["mlflow.source.git.branch"] = run.gitBranch
        tags["noko.checkpoint"] = run.gitCheckpoint
        tags["noko.host"] = run.host
        tags["mlflow.user"] = ProcessInfo.processInfo.environment["USER"]
        for (key, value) in settings.options.tags { tags[key] = value }
        var state = MLflowState(
            trackingURI: settings.trackingURI, experimentName: settings.experimentName,
            runName: settings.options.runName ?? run.runName, startTime: run.startTime, tags: tags, config: run.config)
        state.uploadsTables = settings.options.uploadsTables
        return state
    }
}

/// `noko-run sync --to mlflow` could not upload a run: the message says why.
package struct SyncJobError: Error, CustomStringConvertible {
    package var description: String
    init(_ description: String) { self.description = description }
}

/// What `sync/mlflow.json` says about a run, for `noko-run show`.
package struct MLflowSyncStatus: Sendable, Equatable {
    /// Where the run lives on the tracking server.
    package var record: MLflowRemoteRecord
    /// Rows whose metrics the server acknowledged.
    package var rowsUploaded: Int64
    /// Journal bytes acknowledged, and the journals' size now.
    package var bytesUploaded: Int64
    package var bytesTotal: Int64
    /// True once the server run was ended (FINISHED, FAILED or KILLED).
    package var finished: Bool
    /// True once every artifact of the run's end went up.
    package var filesComplete: Bool
    /// Why the last upload stopped, if it failed.
    package var lastError: String?

    /// True when every row and artifact is on the server and the run is ended.
    package var isComplete: Bool { finished && filesComplete && bytesUploaded >= bytesTotal }
}

extension MLflowSync {
    /// The MLflow sync state of the run in `directory`; nil when it was never mirrored there.
    /// Reads files only.
    package static func status(directory: URL) throws(SyncJobError) -> MLflowSyncStatus? {
        let state: MLflowState?
        do {
            state = try MLflowState.load(from: directory, remote: MLflowState.remoteName)
        } catch {
            throw SyncJobError("\(error)")
        }
        guard let state else { return nil }
        let (done, total) = state.journalBytes(in: directory)
        return MLflowSyncStatus(
            record: state.record, rowsUploaded: state.rowsUploaded, bytesUploaded: done, bytesTotal: total, finished: state.finished,
            filesComplete: state.filesComplete, lastError: state.lastError)
    }
}
