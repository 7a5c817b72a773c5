import Foundation
import NokoRemoteSync

/// How far an upload is, for a progress bar (the engine's, for every remote).
package typealias WandbSyncProgress = SyncProgress

/// What `noko-run sync` did for one run.
package struct WandbSyncReport: Sendable, Equatable {
    /// Where the run lives on wandb.
    package var record: WandbRemoteRecord
    /// History lines uploaded by this call.
    package var rowsUploaded: Int64
    /// History lines on the server in total.
    package var historyLines: Int64
    /// True when there was nothing left to upload.
    package var alreadySynced: Bool
    /// The exit code the remote run was finished with.
    package var exitCode: Int32
}


/// What `sync/wandb.json` says about a run, for `noko-run show` and `list`.
package struct WandbSyncStatus: Sendable, Equatable {
    /// Where the run lives on wandb.
    package var record: WandbRemoteRecord
    /// History lines the server acknowledged.
    package var historyLines: Int64
    /// Journal bytes acknowledged (every journal that is uploaded).
    package var bytesUploaded: Int64
    /// The size of those journals now.
    package var bytesTotal: Int64
    /// True once the remote run was marked complete.
    package var finished: Bool
    /// The exit code sent with `complete`.
    package var exitCode: Int64?
    /// Why the last upload stopped, if it failed.
    package var lastError: String?

    /// True when everything in the journals is on the server and the run is complete.
    package var isComplete: Bool { finished && bytesUploaded >= bytesTotal }
}

extension WandbSync {
    /// The sync state of the run in `directory`; nil when it never synced. Reads files only.
    package static func status(directory: URL) throws(WandbSyncError) -> WandbSyncStatus? {
        let state: SyncState?
        do {
            state = try SyncState.load(from: directory)
        } catch {
            throw .state("\(error)")
        }
        guard let state else { return nil }
        let (done, total) = state.journalBytes(in: directory)
        return WandbSyncStatus(
            record: state.remoteRecord, historyLines: state.historyLines, bytesUploaded: done, bytesTotal: total,
            finished: state.finished, exitCode: state.exitCode, lastError: state.lastError)
    }
}
