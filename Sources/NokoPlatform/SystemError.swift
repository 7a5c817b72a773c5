#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A system call that failed: what noko was doing, on which file, and the system's reason
/// (`errno`).
///
/// Every failure of a system call in noko — opening, writing, syncing or renaming a file of
/// a run directory, taking a lock, making a pipe — is reported as this one type, so a full
/// disk reads the same whichever output met it: `cannot write to runs/x/noko.ndjson: No space
/// left on device`.
public struct NokoSystemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What noko was doing, e.g. "open for appending" or "rename a temporary file over".
    public let operation: String
    /// The file involved, when there is one.
    public let path: String?
    /// The `errno` value.
    public let code: Int32

    /// An error for `operation` on `path`; `code` is the current `errno` by default.
    public init(_ operation: String, path: String?, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    /// The system's text for ``code`` (`strerror`), e.g. "No space left on device".
    public var reason: String { Self.reason(for: code) }

    public var description: String {
        if code == Self.stoppedCode { return "stopped by an injected fault before \(operation) \(path ?? "")" }
        if let path { return "cannot \(operation) \(path): \(reason)" }
        return "cannot \(operation): \(reason)"
    }

    /// The system's text for an `errno` value (`strerror`).
    package static func reason(for code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// The code of ``FaultInjection/Action/stop``: not an errno, so no real failure has it.
    package static let stoppedCode: Int32 = -1

    /// True when a test's injected fault stopped the call (a simulated crash): callers skip
    /// their clean-up, as a process that died there would.
    package var isInjectedStop: Bool { code == Self.stoppedCode }

    /// True for a failure that can go away while the program runs, so a writer keeps its data
    /// and tries again: a full disk or quota (`ENOSPC`, `EDQUOT`), an I/O error (`EIO`), a
    /// file system remounted read-only (`EROFS`), a file too large or a resource short for now
    /// (`EFBIG`, `ENOMEM`, `EAGAIN`, `EINTR`). False for a path that is wrong (a directory
    /// where a file should be, no permission): trying again would fail the same way.
    package var isTransient: Bool {
        switch code {
        case ENOSPC, EDQUOT, EIO, EROFS, EFBIG, ENOMEM, EAGAIN, EINTR: return true
        default: return false
        }
    }

    /// Well-known codes, so callers outside this layer need not import the C library.
    package static let fileExists = EEXIST
    package static let noSuchFile = ENOENT
    package static let notADirectory = ENOTDIR
    package static let noSpace = ENOSPC
    package static let ioError = EIO
    package static let interrupted = EINTR
    package static let wouldBlock = EWOULDBLOCK
    package static let accessDenied = EACCES
    package static let readOnlyFileSystem = EROFS
    package static let badDescriptor = EBADF
}

/// Deprecated name of ``NokoSystemError``.
@available(*, deprecated, renamed: "NokoSystemError")
public typealias NokoFileError = NokoSystemError
