import CGit2

/// A libgit2 call that failed, with libgit2's own explanation.
///
/// `code` is libgit2's return code (`GIT_ENOTFOUND` is -3, `GIT_ELOCKED` -14, `GIT_EMODIFIED`
/// -15, …) and `errorClass` the subsystem it blamed (`GIT_ERROR_REFERENCE`, …), so callers can
/// tell "try again" from "give up" without parsing the message.
package struct GitError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What noko was doing, e.g. `update refs/heads/noko-checkpoints`.
    package let operation: String
    /// libgit2's return code (negative).
    package let code: Int32
    /// libgit2's error class (`git_error_t`), 0 when libgit2 gave none.
    package let errorClass: Int32
    /// `git_error_last()`'s message at the time of the failure.
    package let message: String

    /// Makes an error; noko's own failures (not libgit2's) use `code` -1 and class 0.
    package init(operation: String, code: Int32 = -1, errorClass: Int32 = 0, message: String) {
        self.operation = operation
        self.code = code
        self.errorClass = errorClass
        self.message = message
    }

    /// `git: cannot <operation>: <message>`.
    package var description: String { "git: cannot \(operation): \(message)" }

    /// The object, reference or repository asked for does not exist.
    package var isNotFound: Bool { code == GIT_ENOTFOUND.rawValue }

    /// Another process holds the lock, or the reference moved under us: worth another try.
    var isContention: Bool {
        code == GIT_ELOCKED.rawValue || code == GIT_EMODIFIED.rawValue || code == GIT_EEXISTS.rawValue
    }
}

/// Turns a libgit2 return code into a `GitError` carrying `git_error_last()`'s message.
///
/// libgit2 keeps its last error per thread, so the message read here belongs to this call.
@inline(__always)
func check(_ code: Int32, _ operation: @autoclosure () -> String) throws(GitError) {
    guard code < 0 else { return }
    throw lastGitError(code: code, operation: operation())
}

/// The `GitError` for a failure libgit2 just reported on this thread.
func lastGitError(code: Int32, operation: String) -> GitError {
    let message: String
    let errorClass: Int32
    if let last = git_error_last(), let text = last.pointee.message {
        message = String(cString: text)
        errorClass = last.pointee.klass
    } else {
        message = "libgit2 error \(code)"
        errorClass = 0
    }
    return GitError(operation: operation, code: code, errorClass: errorClass, message: message)
}

/// libgit2 needs one global initialisation before any other call; a global `let` gives us
/// exactly-once, thread-safe, lazily (Swift initialises globals through `swift_once`).
/// It is never shut down: the library lives as long as the process.
private let libgit2Features: Int32 = {
    git_libgit2_init()
    return git_libgit2_features()
}()

/// Call before the first libgit2 call of any entry point.
@inline(__always)
func ensureLibgit2() {
    _ = libgit2Features
}
