import CNokoPlatform
import Foundation
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Facts about this process and the machine, and the process-wide hooks noko installs:
/// the exit hook, the SIGINT/SIGTERM relay, the crash marker.
package enum CurrentProcess {
    /// This process's id (`getpid(2)`).
    package static var id: Int32 { getpid() }

    /// The machine's host name (`gethostname(2)`), "localhost" when it has none.
    package static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// The name of the user the process runs as (`getpwuid(3)`), nil when unknown.
    package static var userName: String? {
        guard let entry = getpwuid(getuid()), let name = entry.pointee.pw_name else { return nil }
        return String(cString: name)
    }

    /// The kernel's name, release and machine (`uname(2)`): `Linux`, `6.1.0`, `x86_64`.
    package static var kernel: (name: String, release: String, machine: String) {
        var info = utsname()
        uname(&info)
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return (text(info.sysname), text(info.release), text(info.machine))
    }

    /// The CPU's model name (`/proc/cpuinfo` on Linux, `machdep.cpu.brand_string` on
    /// Darwin), nil when the system does not say.
    package static var cpuModel: String? {
        #if canImport(Darwin)
        var size = 0
        guard sysctlbyname("machdep.cpu.brand_string", nil, &size, nil, 0) == 0, size > 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: size)
        guard sysctlbyname("machdep.cpu.brand_string", &buffer, &size, nil, 0) == 0 else { return nil }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        #else
        guard let bytes = try? FileSystem.read("/proc/cpuinfo", limit: 1 << 22) else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        where line.hasPrefix("model name") || line.hasPrefix("Model") || line.hasPrefix("cpu model") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if !name.isEmpty { return name }
        }
        return nil
        #endif
    }

    /// The path of the running executable (`/proc/self/exe`, `_NSGetExecutablePath`), with
    /// links resolved; nil when the system does not say.
    package static var executablePath: String? {
        #if canImport(Darwin)
        var size: UInt32 = 0
        _ = _NSGetExecutablePath(nil, &size)
        var buffer = [CChar](repeating: 0, count: Int(size) + 1)
        guard _NSGetExecutablePath(&buffer, &size) == 0 else { return nil }
        return FileSystem.canonicalPath(buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        #else
        return FileSystem.canonicalPath("/proc/self/exe")
        #endif
    }

    /// Whether a process with id `pid` exists (`kill(pid, 0)`); a process of another user
    /// counts (`EPERM`).
    package static func isAlive(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

    /// Ignores `SIGPIPE` process-wide, so writing to a closed pipe or socket fails with
    /// `EPIPE` instead of killing the process (libcurl, a pager that quit).
    package static func ignoreBrokenPipe() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Lowers the calling thread's scheduling priority (nice 10), so that a background
    /// upload yields the CPU to the program. On Linux the nice value is per thread
    /// (`setpriority(PRIO_PROCESS, 0)`); elsewhere this does nothing.
    package static func lowerThreadPriority() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        #endif
    }

    /// Writes out what the C library's output streams hold in their buffers (`fflush(NULL)`):
    /// Swift's `print` is buffered when standard output is not a terminal.
    package static func flushStandardOutput() {
        fflush(nil)
    }

    /// Suspends the calling thread for `seconds` (`nanosleep(2)`, resumed after signals).
    package static func sleep(seconds: Double) {
        guard seconds > 0 else { return }
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    // MARK: - Exit

    private static let exitActions = Mutex<[@Sendable (Int32?) -> Void]>([])
    private static let exitHookInstalled = Mutex(false)

    /// Runs `action` when the process exits normally (`exit(3)`, returning from `main`),
    /// with the exit status where the platform tells it: glibc's `on_exit(3)` does; where
    /// only `atexit(3)` exists (macOS, musl) the status is nil.
    ///
    /// Exit handlers run in the reverse order of registration, so whatever must still work
    /// inside `action` (OpenSSL, used by an upload) must be initialized before this is called.
    package static func onExit(_ action: @escaping @Sendable (Int32?) -> Void) {
        exitActions.withLock { $0.append(action) }
        exitHookInstalled.withLock { installed in
            guard !installed else { return }
            installed = true
            #if canImport(Glibc)
            on_exit({ status, _ in CurrentProcess.runExitActions(status) }, nil)
            #else
            atexit { CurrentProcess.runExitActions(nil) }
            #endif
        }
    }

    private static func runExitActions(_ status: Int32?) {
        for action in exitActions.withLock({ $0 }).reversed() { action(status) }
    }
}

/// Signal numbers noko names in its records.
package enum SignalNumber {
    package static let interrupt = SIGINT
    package static let terminate = SIGTERM
    package static let kill = SIGKILL

    /// `SIGINT`, `SIGTERM`… for the signals noko handles; `signal N` otherwise.
    package static func name(_ number: Int32) -> String {
        switch number {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGKILL: return "SIGKILL"
        case SIGHUP: return "SIGHUP"
        case SIGSEGV: return "SIGSEGV"
        case SIGABRT: return "SIGABRT"
        case SIGBUS: return "SIGBUS"
        case SIGILL: return "SIGILL"
        case SIGTRAP: return "SIGTRAP"
        case SIGFPE: return "SIGFPE"
        default: return "signal \(number)"
        }
    }

    /// Sends `signal` to process `pid` (`kill(2)`).
    package static func send(_ signal: Int32, to pid: Int32) throws(NokoSystemError) {
        guard sysKill(pid, signal) == 0 else { throw NokoSystemError("send \(name(signal)) to process \(pid)", path: nil) }
    }

    /// Sends `signal` to this process (`raise(3)`).
    package static func raise(_ signal: Int32) {
        _ = sysRaise(signal)
    }
}

/// SIGINT and SIGTERM, handled outside signal context: a C handler writes the signal's
/// number to a pipe, and a thread reading it (which may take locks) does the work, then
/// hands the signal on to what handled it before (the program's handler, or the default
/// action: the process ends as its sender expects).
///
/// Dispatch signal sources cannot be used: on Linux they only see signals blocked in every
/// thread, which a library cannot arrange.
package enum TerminationRelay {
    private static let started = Mutex(false)

    /// Starts the relay once per process; `handle` gets the signal number, and the signal
    /// is raised again with its previous disposition when `handle` returns. A signal the
    /// process started out ignoring stays ignored. Returns false when it could not start.
    @discardableResult
    package static func start(name: String, _ handle: @escaping @Sendable (Int32) -> Void) -> Bool {
        started.withLock { started in
            guard !started else { return true }
            guard let ends = try? FileDescriptor.pipe() else { return false }
            guard noko_install_termination_handler(ends.write.rawValue) == 0 else {
                ends.read.closeIgnoringErrors()
                ends.write.closeIgnoringErrors()
                return false
            }
            started = true
            let reader = ends.read
            let thread = Thread {
                var byte: UInt8 = 0
                let got = (try? withUnsafeMutableBytes(of: &byte) { buffer in try reader.read(into: buffer) }) ?? 0
                guard got == 1 else { return }
                let number = Int32(byte)
                handle(number)
                noko_raise_default(number)
            }
            thread.name = name
            thread.start()
            return true
        }
    }
}

/// The `crash` marker: a file opened in advance, which the C signal handler fills in and
/// renames to `crash` when the process dies of SIGSEGV, SIGILL, SIGTRAP, SIGBUS, SIGFPE or
/// SIGABRT (Swift's traps), so a run reads `failed` at once instead of `stale` later.
package final class CrashMarker: Sendable {
    private let file: FileDescriptor
    private let pending: String

    /// Arms the marker: `pending` is opened now, renamed to `crash` by the handler. An
    /// existing `crash` file (an earlier process's) is removed.
    package init(pending: String, crash: String) throws(NokoSystemError) {
        self.pending = pending
        try FileSystem.remove(crash)
        file = try FileDescriptor.open(pending, .truncate)
        guard noko_install_crash_handler(file.rawValue, pending, crash) == 0 else {
            let error = NokoSystemError("install the crash handler for", path: crash)
            file.closeIgnoringErrors()
            _ = try? FileSystem.remove(pending)
            throw error
        }
    }

    /// Normal end: uninstalls the handler and removes the pending file.
    package func disarm() {
        noko_uninstall_crash_handler()
        file.closeIgnoringErrors()
        _ = try? FileSystem.remove(pending)
    }
}

@inline(__always) private func sysKill(_ pid: Int32, _ signal: Int32) -> Int32 { kill(pid, signal) }
@inline(__always) private func sysRaise(_ signal: Int32) -> Int32 { raise(signal) }
