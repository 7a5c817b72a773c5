import Dispatch
import NokoCore
import Synchronization

/// What the program's threads and the upload thread share; everything else belongs to
/// the upload thread alone.
final class SyncControl: Sendable {
    struct Shared: Sendable {
        /// Set by `finish`: upload the rest, then send `complete` with this code.
        var finishExitCode: Int32?
        /// `run.summary[…] = …` values; `userSummaryVersion` counts changes.
        var userSummary: [String: JSONValue] = [:]
        var userSummaryVersion = 0
        /// Where the run lives; changes when the server names the entity.
        var record: WandbRemoteRecord
        /// Set when the upload thread has ended.
        var outcome: UploadOutcome?
        /// Rows acknowledged by the server in this session.
        var rowsUploaded: Int64 = 0
    }

    let shared: Mutex<Shared>
    /// Interrupts the upload thread's waits (finish, cancel).
    let wake = DispatchSemaphore(value: 0)
    /// Signalled once when the upload thread ends.
    let done = DispatchSemaphore(value: 0)
    private let stopFlag = Atomic<Bool>(false)
    private let cancelledFlag = Atomic<Bool>(false)
    private let cancellation = Mutex<HTTPCancellation?>(nil)
    let messages: @Sendable (WandbMessage) -> Void
    let onRecordChange: (@Sendable (WandbRemoteRecord) -> Void)?

    init(
        record: WandbRemoteRecord, userSummary: [String: JSONValue], messages: @escaping @Sendable (WandbMessage) -> Void,
        onRecordChange: (@Sendable (WandbRemoteRecord) -> Void)?
    ) {
        var shared = Shared(record: record)
        shared.userSummary = userSummary
        self.shared = Mutex(shared)
        self.messages = messages
        self.onRecordChange = onRecordChange
    }

    /// True once the server answered `"stopped": true`.
    var stopRequested: Bool { stopFlag.load(ordering: .relaxed) }

    func requestStop() -> Bool {
        !stopFlag.exchange(true, ordering: .relaxed)
    }

    var isCancelled: Bool { cancelledFlag.load(ordering: .sequentiallyConsistent) }

    /// Ends the upload as soon as possible: aborts the request in flight and every wait.
    func cancel() {
        cancelledFlag.store(true, ordering: .sequentiallyConsistent)
        cancellation.withLock { $0?.cancel() }
        wake.signal()
    }

    /// Lets ``cancel()`` reach the upload thread's HTTP client.
    func register(_ client: HTTPCancellation) {
        let cancelNow = cancellation.withLock { slot -> Bool in
            slot = client
            return isCancelled
        }
        if cancelNow { client.cancel() }
    }

    func updateRecord(_ record: WandbRemoteRecord) {
        let changed = shared.withLock { shared -> Bool in
            guard shared.record != record else { return false }
            shared.record = record
            return true
        }
        if changed { onRecordChange?(record) }
    }
}

/// How an upload session ended.
enum UploadOutcome: Sendable, Equatable {
    /// Everything uploaded and `complete` acknowledged.
    case finished
    /// Offline: everything stays local for `noko-run sync`.
    case offline
    /// Stopped by ``SyncControl/cancel()`` (the finish timeout); the rest is left for later.
    case cancelled
    /// A fatal answer or an unrecoverable local problem; the message says which.
    case failed(String)
}
