import Foundation
import NokoCore
import NokoPlatform
import NokoRemoteSync
import Synchronization

/// The process-wide part of a run's life: the current run, the exit hook and the
/// SIGINT/SIGTERM handling.
enum RunLifecycle {
    private static let current = Mutex<Run?>(nil)

    /// The run `initExtra` started, until it finishes.
    static var run: Run? { current.withLock { $0 } }

    static func adopt(_ run: Run, handleSignals: Bool) {
        current.withLock { $0 = run }
        _ = exitHook
        if handleSignals { installSignalRelay() }
    }

    static func forget(_ run: Run) {
        current.withLock { if $0 === run { $0 = nil } }
    }

    /// Normal exit (`exit(n)`, returning from `main`) finishes the run with the exit status.
    /// glibc's `on_exit` hands the status over; where only `atexit` exists (macOS, musl) the
    /// status is unknown and the run is recorded `finished` with exit code 0.
    private static let exitHook: Void = {
        // OpenSSL's exit-time cleanup must be registered before this hook, so it runs after
        // the hook has finished the run's upload (see `HTTPClient.prepareForUseAtExit`).
        HTTPClient.prepareForUseAtExit()
        CurrentProcess.onExit { status in RunLifecycle.run?.finish(exitCode: status ?? 0) }
    }()

    /// SIGINT and SIGTERM finish the run as `killed` (outside signal context, so the outputs'
    /// locks may be taken), then the signal goes on to what handled it before, so the process
    /// still ends the way its sender expects.
    private static func installSignalRelay() {
        TerminationRelay.start(name: "noko-signals") { number in
            RunLifecycle.run?.finish(status: .killed, exitCode: 128 + number, signal: SignalNumber.name(number))
        }
    }
}
