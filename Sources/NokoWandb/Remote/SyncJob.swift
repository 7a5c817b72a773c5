import Foundation
import NokoCore
import NokoPlatform
import NokoRemoteSync
import Synchronization

/// One `noko-run sync RUN`: everything checked and loaded before the upload starts.
struct SyncJob {
    let directory: URL
    let settings: WandbSettings
    let state: SyncState
    /// nil when there is nothing to upload.
    let control: SyncControl<WandbRemoteRecord>?
    /// Held until the upload ends.
    let lock: SyncLock
    let exitCode: Int32

    static func prepare(
        directory: URL, options: WandbOptions?, environment: [String: String], netrcPath: String?,
        messages: @escaping @Sendable (WandbMessage) -> Void
    ) throws(WandbSyncError) -> SyncJob {
        let metadataFile = RunLayout(directory).metadata
        guard let data = (try? FileSystem.readIfPresent(metadataFile.path)) ?? nil else {
            throw .notARunDirectory(directory.path)
        }
        let metadata: JSONValue
        do {
            metadata = try JSONValue(parsing: data)
        } catch {
            throw .state("\(metadataFile.path): \(error)")
        }
        let status = metadata["status"]?.stringValue
        if status == "running", let pid = metadata["pid"]?.intValue, RemoteSync.isAlive(pid: pid, host: metadata["host"]?.stringValue) {
            throw .busy("\(directory.path) is still running (pid \(pid)); sync it after it ends")
        }
        let exitCode = exitCode(metadata: metadata, messages: messages, directory: directory)

        var wanted = options ?? WandbOptions()
        wanted.mode = .online  // asking to sync is asking to upload
        guard case .on(var settings, let notes) = WandbSettings.resolve(options: wanted, environment: environment, netrcPath: netrcPath, forceOn: true)
        else { throw .disabled }
        let lock: SyncLock
        do {
            lock = try SyncLock.acquire(in: directory, remote: SyncState.remoteName)
        } catch {
            throw .busy("\(directory.path): \(error)")
        }

        var state: SyncState
        do {
            if let existing = try SyncState.load(from: directory) {
                settings = WandbSync.rebased(settings, onto: existing, options: options, environment: environment, netrcPath: netrcPath, messages: messages)
                state = existing
                // config.json is the run's config as it ended (changed during the run, or
                // while offline); the session's first UpsertBucket sends it.
                if let config = (try? ConfigFile.read(from: directory)) ?? nil { state.spec.config = config }
            } else {
                let config = ((try? ConfigFile.read(from: directory)) ?? nil) ?? .object([:])
                state = WandbSync.newState(settings: settings, run: WandbRunInfo(directory: directory, metadata: metadata, config: config))
            }
        } catch {
            throw .state("\(error)")
        }
        guard settings.mode == .online, settings.apiKey != nil else {
            throw .noAPIKey(host: BaseURL(settings.baseURL)?.host ?? settings.baseURL)
        }
        notes.filter { $0.level >= .warning }.forEach(messages)

        if state.finished && state.isFullyUploaded(in: directory) && state.filesComplete {
            return SyncJob(directory: directory, settings: settings, state: state, control: nil, lock: lock, exitCode: Int32(state.exitCode ?? Int64(exitCode)))
        }
        let control = SyncControl<WandbRemoteRecord>(
            record: state.remoteRecord, userSummary: state.userSummary, messages: { messages(WandbMessage($0)) }, onRecordChange: nil)
        control.shared.withLock {
            $0.finishExitCode = exitCode
            $0.finishTime = metadata["end_time"]?.doubleValue
        }
        return SyncJob(directory: directory, settings: settings, state: state, control: control, lock: lock, exitCode: exitCode)
    }

    /// The report for a finished upload; a failed one throws.
    func finish(outcome: SyncOutcome) throws(WandbSyncError) -> WandbSyncReport {
        switch outcome {
        case .finished:
            return report(outcome: outcome)
        case .failed(let message):
            throw .uploadFailed(message)
        case .cancelled, .offline:
            throw .uploadFailed("the upload was cancelled")
        }
    }

    func report(outcome: SyncOutcome) -> WandbSyncReport {
        let final = (try? SyncState.load(from: directory)) ?? state
        return WandbSyncReport(
            record: final.remoteRecord,
            rowsUploaded: control?.shared.withLock { $0.rowsUploaded } ?? 0,
            historyLines: final.historyLines,
            alreadySynced: control == nil,
            exitCode: exitCode)
    }

    /// `metadata.json`'s exit code: its `exit_code`, else 0 for `finished` and 1 for a run
    /// that failed, was killed, or died while `running`.
    static func exitCode(metadata: JSONValue, messages: @Sendable (WandbMessage) -> Void, directory: URL) -> Int32 {
        let recorded = metadata["exit_code"]?.intValue.map { Int32(truncatingIfNeeded: $0) }
        switch metadata["status"]?.stringValue {
        case "finished":
            return recorded ?? 0
        case "failed", "killed":
            return recorded ?? 1
        case let status:
            messages(WandbMessage(level: .info, text: "\(directory.lastPathComponent) ended without finishing (status \(status ?? "missing")); finishing its wandb run with exit code \(recorded ?? 1)"))
            return recorded ?? 1
        }
    }
}
