import Dispatch
import Foundation
import NokoCore
import NokoPlatform
import Synchronization

/// A remote mirroring a live run: what the run module holds per remote, whatever the remote.
/// `Noko.initExtra` starts each remote of its list and treats them all alike.
package protocol LiveRemote: AnyObject, Sendable {
    /// The remote's name: the key under `remotes` in `metadata.json`.
    var name: String { get }
    /// Where the run lives on the remote, for `metadata.json`.
    var recordJSON: JSONValue { get }
    /// True once the remote asked the run to stop.
    var stopRequested: Bool { get }
    /// Sets a summary key (`run.summary["best"] = 0.5`): a lock, never I/O on the caller's
    /// thread.
    func setSummary(_ key: String, to value: JSONValue)
    /// Something about the run changed (its config, name, tags or notes): sent with the next
    /// request. A lock, never I/O on the caller's thread.
    func update(_ update: RunUpdate)
    /// Uploads what is left and finishes the remote run, waiting at most `timeout` (nil:
    /// the remote's own limit).
    func finish(exitCode: Int32, timeout: Duration?) -> SyncFinishResult
}

/// How `finish` left the remote run.
package enum SyncFinishResult: Sendable, Equatable {
    /// Every row uploaded and the run marked finished on the server.
    case finished(url: String?)
    /// Something is left (offline, timed out, or sync failed): `command` finishes it.
    case leftForLater(command: String, reason: String)
}

/// How far an upload is, for a progress bar.
package struct SyncProgress: Sendable, Equatable {
    /// Rows the server has acknowledged in total.
    package var rowsUploaded: Int64
    /// Journal bytes acknowledged (all journals).
    package var bytesUploaded: Int64
    /// Journal bytes to upload in total.
    package var bytesTotal: Int64

    package init(rowsUploaded: Int64, bytesUploaded: Int64, bytesTotal: Int64) {
        self.rowsUploaded = rowsUploaded
        self.bytesUploaded = bytesUploaded
        self.bytesTotal = bytesTotal
    }

    /// Done, from 0 to 1.
    package var fraction: Double { bytesTotal > 0 ? min(1, Double(bytesUploaded) / Double(bytesTotal)) : 1 }

    /// One terminal line for a progress bar: `[#########.........]  47%  94000 rows  43.1/92.0 MB`.
    package func bar(width: Int = 30) -> String {
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: max(0, width - filled))
        let percent = String(format: "%3d%%", Int((fraction * 100).rounded(.down)))
        let megabytes = String(format: "%.1f/%.1f MB", Double(bytesUploaded) / 1e6, Double(bytesTotal) / 1e6)
        return "[\(bar)] \(percent)  \(rowsUploaded) rows  \(megabytes)"
    }
}

/// The engine's entry points: a session on its own thread, live or for `noko-run sync`.
package enum RemoteSync {
    /// Runs an upload session on a thread of its own; `control` hears how it ended. A
    /// `live` session (beside a running program) lowers its thread's priority so that it
    /// yields the CPU to the program.
    package static func launch<Remote: SyncRemote>(
        directory: URL, remote: Remote, cursor: Remote.Cursor, control: SyncControl<Remote.Record>,
        progress: (@Sendable (SyncProgress) -> Void)?, live: Bool
    ) {
        let engine = SyncEngine(directory: directory, remote: remote, cursor: cursor, control: control, progress: progress, live: live)
        let session = Handoff(run: engine.run)
        let thread = Thread {
            if live { CurrentProcess.lowerThreadPriority() }
            let outcome = session.run()
            control.shared.withLock { $0.outcome = outcome }
            control.done.signal()
        }
        thread.name = "noko-\(remote.name)-sync"
        thread.start()
    }

    /// Runs a session to its end on its own thread and waits for it (`noko-run sync`).
    package static func runToEnd<Remote: SyncRemote>(
        directory: URL, remote: Remote, cursor: Remote.Cursor, control: SyncControl<Remote.Record>,
        progress: (@Sendable (SyncProgress) -> Void)?
    ) -> SyncOutcome {
        launch(directory: directory, remote: remote, cursor: cursor, control: control, progress: progress, live: false)
        control.done.wait()
        return control.shared.withLock { $0.outcome } ?? .cancelled
    }

    /// The shell command that finishes uploading the run in `directory`.
    package static func syncCommand(for directory: URL, remote: String = "wandb") -> String {
        "noko-run sync \(remote == "wandb" ? "" : "--to \(remote) ")\(shellQuoted(directory.path))"
    }

    package static func shellQuoted(_ text: String) -> String {
        let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=+@%")
        if !text.isEmpty, text.unicodeScalars.allSatisfy(safe.contains) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Whether the run's process still runs (same host, pid alive).
    package static func isAlive(pid: Int64, host: String?) -> Bool {
        guard pid > 0, pid <= Int64(Int32.max) else { return false }
        if let host, host != CurrentProcess.hostName { return false }
        return CurrentProcess.isAlive(Int32(pid))
    }
}

/// Moves an engine (and its remote) onto the sync thread. `@unchecked Sendable` is safe
/// because the thread that creates the handoff never touches the engine again.
private struct Handoff: @unchecked Sendable {
    let run: () -> SyncOutcome
}

/// A live session's handle: the program's side of the sync thread. It holds the lock until
/// the session ends, and finishes within a time limit.
package final class LiveSession<Record: RemoteRecord>: Sendable {
    /// The run directory.
    package let directory: URL
    package let remoteName: String
    package let control: SyncControl<Record>
    private let lock: Mutex<SyncLock?>
    private let finishTimeout: Duration
    private let result = Mutex<SyncFinishResult?>(nil)

    package init(directory: URL, remoteName: String, control: SyncControl<Record>, lock: SyncLock, finishTimeout: Duration) {
        self.directory = directory
        self.remoteName = remoteName
        self.control = control
        self.lock = Mutex(lock)
        self.finishTimeout = finishTimeout
    }

    package var record: Record { control.shared.withLock { $0.record } }

    package func setSummary(_ key: String, to value: JSONValue) {
        control.shared.withLock {
            $0.userSummary[key] = value
            $0.userSummaryVersion += 1
        }
    }

    package func update(_ update: RunUpdate) {
        control.shared.withLock {
            $0.update = $0.update.merging(update)
            $0.updateVersion += 1
        }
        control.wake.signal()
    }

    package func summaryValue(_ key: String) -> JSONValue? {
        control.shared.withLock { $0.userSummary[key] }
    }

    /// Asks the sync thread to upload the rest and finish the remote run, and waits at most
    /// `timeout` and the session's own limit; then cancels it and leaves the rest for
    /// `noko-run sync`. Calling it again returns the first result.
    package func finish(exitCode: Int32, timeout: Duration?) -> SyncFinishResult {
        if let done = result.withLock({ $0 }) { return done }
        control.shared.withLock {
            if $0.finishExitCode == nil {
                $0.finishExitCode = exitCode
                $0.finishTime = Date().timeIntervalSince1970
            }
        }
        control.wake.signal()
        // The remote's own limit holds whatever the caller allows (a run passes its overall one).
        let limit = min(timeout ?? finishTimeout, finishTimeout)
        var timedOut = false
        if control.done.wait(timeout: .now() + .nanoseconds(Int(limit.nanoseconds))) == .timedOut {
            timedOut = true
            control.cancel()
            _ = control.done.wait(timeout: .now() + .seconds(5))
        }
        let outcome = control.shared.withLock { $0.outcome }
        let command = RemoteSync.syncCommand(for: directory, remote: remoteName)
        let finishResult: SyncFinishResult
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
            control.messages(SyncMessage(level: .warning, text: "\(reason); the rest stays in the run directory. Finish it with: \(command)"))
            finishResult = .leftForLater(command: command, reason: reason)
        }
        if outcome != nil {
            // The sync thread is gone: let `noko-run sync` in. (A thread that is somehow
            // still busy keeps the lock until the process exits.)
            lock.withLock { $0 = nil }
        }
        result.withLock { $0 = finishResult }
        return finishResult
    }
}
