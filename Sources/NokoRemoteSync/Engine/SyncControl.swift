import Dispatch
import NokoCore
import Synchronization

/// Where a run lives on a remote: what the run module writes to `metadata.json` under
/// `remotes.<remote>`.
package protocol RemoteRecord: Sendable, Equatable {
    /// The run's page on the dashboard, once known.
    var url: String? { get }
    /// The record as `metadata.json` holds it.
    var jsonValue: JSONValue { get }
}

/// What the program's threads and the upload thread share; everything else belongs to
/// the upload thread alone.
package final class SyncControl<Record: RemoteRecord>: Sendable {
    package struct Shared: Sendable {
        /// Set by `finish`: upload the rest, then send `complete` with this code.
        package var finishExitCode: Int32?
        /// When the run ended (Unix seconds), set with ``finishExitCode``: now for a live run,
        /// `metadata.json`'s `end_time` for `noko-run sync`; nil when unknown.
        package var finishTime: Double?
        /// `run.summary[…] = …` values; `userSummaryVersion` counts changes.
        package var userSummary: [String: JSONValue] = [:]
        package var userSummaryVersion = 0
        /// What changed about the run while it goes on (`run.updateConfig`,
        /// `run.describe`); `updateVersion` counts changes.
        package var update = RunUpdate()
        package var updateVersion = 0
        /// Where the run lives; changes when the server tells more (wandb names the entity).
        package var record: Record
        /// Set when the upload thread has ended.
        package var outcome: SyncOutcome?
        /// Rows acknowledged by the server in this session.
        package var rowsUploaded: Int64 = 0
    }

    package let shared: Mutex<Shared>
    /// Interrupts the upload thread's waits (finish, cancel).
    package let wake = DispatchSemaphore(value: 0)
    /// Signalled once when the upload thread ends.
    package let done = DispatchSemaphore(value: 0)
    private let stopFlag = Atomic<Bool>(false)
    private let cancelledFlag = Atomic<Bool>(false)
    private let cancellation = Mutex<HTTPCancellation?>(nil)
    package let messages: @Sendable (SyncMessage) -> Void
    package let onRecordChange: (@Sendable (Record) -> Void)?
    /// What a stop asked by the remote does besides raising the flag: ends the program
    /// (a live run whose remote says so); nil for `noko-run sync`, which has no program to stop.
    package let onStop: (@Sendable () -> Void)?

    package init(
        record: Record, userSummary: [String: JSONValue], messages: @escaping @Sendable (SyncMessage) -> Void,
        onRecordChange: (@Sendable (Record) -> Void)?, onStop: (@Sendable () -> Void)? = nil
    ) {
        var shared = Shared(record: record)
        shared.userSummary = userSummary
        self.shared = Mutex(shared)
        self.messages = messages
        self.onRecordChange = onRecordChange
        self.onStop = onStop
    }

    /// True once the remote asked the run to stop (wandb: Stop pressed on the dashboard).
    package var stopRequested: Bool { stopFlag.load(ordering: .relaxed) }

    /// Raises the stop flag; true the first time.
    package func requestStop() -> Bool {
        !stopFlag.exchange(true, ordering: .relaxed)
    }

    package var isCancelled: Bool { cancelledFlag.load(ordering: .sequentiallyConsistent) }

    /// Ends the upload as soon as possible: aborts the request in flight and every wait.
    package func cancel() {
        cancelledFlag.store(true, ordering: .sequentiallyConsistent)
        cancellation.withLock { $0?.cancel() }
        wake.signal()
    }

    /// Lets ``cancel()`` reach the upload thread's HTTP client.
    package func register(_ client: HTTPCancellation) {
        let cancelNow = cancellation.withLock { slot -> Bool in
            slot = client
            return isCancelled
        }
        if cancelNow { client.cancel() }
    }

    package func updateRecord(_ record: Record) {
        let changed = shared.withLock { shared -> Bool in
            guard shared.record != record else { return false }
            shared.record = record
            return true
        }
        if changed { onRecordChange?(record) }
    }
}

/// What changed about a run during it, for its remotes: each field nil when unchanged.
package struct RunUpdate: Sendable, Equatable {
    /// The whole config, redacted as `config.json`.
    package var config: JSONValue?
    /// The name the dashboard shows (wandb's display name).
    package var displayName: String?
    package var tags: [String]?
    package var notes: String?

    package init(config: JSONValue? = nil, displayName: String? = nil, tags: [String]? = nil, notes: String? = nil) {
        self.config = config
        self.displayName = displayName
        self.tags = tags
        self.notes = notes
    }

    /// `later` over this: its non-nil fields win.
    package func merging(_ later: RunUpdate) -> RunUpdate {
        RunUpdate(
            config: later.config ?? config, displayName: later.displayName ?? displayName, tags: later.tags ?? tags,
            notes: later.notes ?? notes)
    }
}

/// How an upload session ended.
package enum SyncOutcome: Sendable, Equatable {
    /// Everything uploaded and the run's end acknowledged.
    case finished
    /// Offline: everything stays local for `noko-run sync`.
    case offline
    /// Stopped by ``SyncControl/cancel()`` (the finish timeout); the rest is left for later.
    case cancelled
    /// A fatal answer or an unrecoverable local problem; the message says which.
    case failed(String)
}
