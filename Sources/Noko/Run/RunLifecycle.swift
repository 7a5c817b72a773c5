import CNokoSignals
import Foundation
import NokoCore
import NokoWandb
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process-wide part of a run's life: the current run, the exit hook and the
/// SIGINT/SIGTERM handling.
enum RunLifecycle {
    private static let current = Mutex<Run?>(nil)
    private static let relayStarted = Mutex(false)

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

    /// Normal exit (`exit(n)`, returning from `main`) finishes the run with the exit status;
    /// glibc's `on_exit` hands it over, where `atexit` could not.
    private static let exitHook: Void = {
        // OpenSSL's exit-time cleanup must be registered before this hook, so it runs after
        // the hook has finished the run's upload (see `WandbSync.initializeTransport`).
        WandbSync.initializeTransport()
        #if canImport(Glibc)
        on_exit({ status, _ in RunLifecycle.run?.finish(exitCode: status) }, nil)
        #else
        atexit { RunLifecycle.run?.finish(exitCode: 0) }
        #endif
    }()

    /// SIGINT and SIGTERM: a C handler writes the signal's number to a pipe, and this thread
    /// (not signal context, so it may take the outputs' locks) finishes the run as `killed`,
    /// then restores the default action and raises the signal again, so the process still
    /// ends the way its sender expects. (Dispatch signal sources cannot be used: on Linux
    /// they only see signals blocked in every thread.)
    private static func installSignalRelay() {
        relayStarted.withLock { started in
            guard !started else { return }
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { return }
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
            guard noko_install_termination_handler(fds[1]) == 0 else { return }
            started = true
            let reader = fds[0]
            let thread = Thread {
                var byte: UInt8 = 0
                while true {
                    let n = read(reader, &byte, 1)
                    if n == 1 { break }
                    if n < 0, errno == EINTR { continue }
                    return
                }
                let number = Int32(byte)
                RunLifecycle.run?.finish(status: .killed, exitCode: 128 + number, signal: number == SIGINT ? "SIGINT" : "SIGTERM")
                noko_raise_default(number)
            }
            thread.name = "noko-signals"
            thread.start()
        }
    }
}
