import Foundation

/// How far an upload is, for a progress bar.
public struct WandbSyncProgress: Sendable, Equatable {
    /// History lines the server has acknowledged in total.
    public var rowsUploaded: Int64
    /// Journal bytes acknowledged (all journals).
    public var bytesUploaded: Int64
    /// Journal bytes to upload in total.
    public var bytesTotal: Int64

    /// A progress value.
    public init(rowsUploaded: Int64, bytesUploaded: Int64, bytesTotal: Int64) {
        self.rowsUploaded = rowsUploaded
        self.bytesUploaded = bytesUploaded
        self.bytesTotal = bytesTotal
    }

    /// Done, from 0 to 1.
    public var fraction: Double { bytesTotal > 0 ? min(1, Double(bytesUploaded) / Double(bytesTotal)) : 1 }

    /// One terminal line for a progress bar: `[#########.........]  47%  94000 rows  43.1/92.0 MB`.
    public func bar(width: Int = 30) -> String {
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: max(0, width - filled))
        let percent = String(format: "%3d%%", Int((fraction * 100).rounded(.down)))
        let megabytes = String(format: "%.1f/%.1f MB", Double(bytesUploaded) / 1e6, Double(bytesTotal) / 1e6)
        return "[\(bar)] \(percent)  \(rowsUploaded) rows  \(megabytes)"
    }
}

/// What `noko-run sync` did for one run.
public struct WandbSyncReport: Sendable, Equatable {
    /// Where the run lives on wandb.
    public var record: WandbRemoteRecord
    /// History lines uploaded by this call.
    public var rowsUploaded: Int64
    /// History lines on the server in total.
    public var historyLines: Int64
    /// True when there was nothing left to upload.
    public var alreadySynced: Bool
    /// The exit code the remote run was finished with.
    public var exitCode: Int32
}


/// What `sync/wandb.json` says about a run, for `noko-run show` and `list`.
public struct WandbSyncStatus: Sendable, Equatable {
    /// Where the run lives on wandb.
    public var record: WandbRemoteRecord
    /// History lines the server acknowledged.
    public var historyLines: Int64
    /// Journal bytes acknowledged (every journal that is uploaded).
    public var bytesUploaded: Int64
    /// The size of those journals now.
    public var bytesTotal: Int64
    /// True once the remote run was marked complete.
    public var finished: Bool
    /// The exit code sent with `complete`.
    public var exitCode: Int64?
    /// Why the last upload stopped, if it failed.
    public var lastError: String?

    /// True when everything in the journals is on the server and the run is complete.
    public var isComplete: Bool { finished && bytesUploaded >= bytesTotal }
}

extension WandbSync {
    /// The sync state of the run in `directory`; nil when it never synced. Reads files only.
    public static func status(directory: URL) throws(WandbSyncError) -> WandbSyncStatus? {
        let state: SyncState?
        do {
            state = try SyncState.load(from: directory)
        } catch {
            throw .state("\(error)")
        }
        guard let state else { return nil }
        var paths = [JournalSource.mainJournal]
        if state.otherRanks == .prefixed { paths += JournalSource.rankJournals(in: directory).map(\.relativePath) }
        let total = paths.reduce(Int64(0)) { sum, path in
            let size = (try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(path).path)[.size] as? Int64) ?? 0
            return sum + size
        }
        let done = paths.reduce(Int64(0)) { $0 + (state.journals[$1]?.offset ?? 0) }
        return WandbSyncStatus(
            record: state.remoteRecord, historyLines: state.historyLines, bytesUploaded: done, bytesTotal: max(total, done),
            finished: state.finished, exitCode: state.exitCode, lastError: state.lastError)
    }
}
