import CNokoPlatform
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Console capture at the descriptor level: descriptors 1 and 2 lead to a forked tee
/// process (the C part of this layer) that forwards every byte to where they pointed before
/// and keeps the lines in a log file with a sidecar index.
///
/// A terminal is replaced by a pseudo-terminal with the same modes and size (the program
/// still sees a terminal: `isatty`, colour, line buffering), anything else by a pipe. The
/// tee is a process, not a thread, so it outlives a `kill -9` of the program and reads what
/// was still in the pipe. See `noko_platform.h` for what the log and the index hold.
package final class ConsoleTee: Sendable {
    /// Where the tee writes.
    package struct Files: Sendable {
        /// The log, its index, and the names they get when rotated.
        package var log, index, rotatedLog, rotatedIndex: String

        package init(log: String, index: String, rotatedLog: String, rotatedIndex: String) {
            self.log = log
            self.index = index
            self.rotatedLog = rotatedLog
            self.rotatedIndex = rotatedIndex
        }
    }

    /// The longest line the log keeps; longer ones are cut with a marker.
    package static let longestLine = Int(NOKO_CONSOLE_MAX_LINE)
    /// The first line of a fresh index: `noko-output-index 1 base <B>`.
    package static func indexHeader(base: UInt64) -> String { "noko-output-index 1 base \(base)\n" }

    /// Whether standard output and standard error were given a pseudo-terminal.
    package let terminals: (standardOutput: Bool, standardError: Bool)
    private let state: Mutex<noko_console?>

    /// The standard error the process had before the capture: noko's own messages go there,
    /// so that they are not in the log as well as in `debug.log`. Descriptor 2 when nothing
    /// is captured.
    package static var originalStandardError: FileDescriptor {
        FileDescriptor(rawValue: messageDescriptor.load(ordering: .relaxed), path: "<stderr>")
    }
    private static let messageDescriptor = Atomic<Int32>(STDERR_FILENO)

    /// Starts capturing. `log` and `index` are open for appending (the index has its
    /// header), `logSize` is the log's size and `base` its base offset; the log is rotated
    /// when it would grow past `rotateAt` bytes (0: never). `firstLine` (a resumed run's
    /// separator, ending in a newline) is written first, as noko's own line.
    package init(
        files: Files, log: FileDescriptor, index: FileDescriptor, logSize: UInt64, base: UInt64, rotateAt: UInt64,
        firstLine: String?, standardOutput: Bool = true, standardError: Bool = true
    ) throws(NokoSystemError) {
        var console = noko_console()
        let started = files.log.withCString { logPath in
            files.rotatedLog.withCString { rotatedLogPath in
                files.index.withCString { indexPath in
                    files.rotatedIndex.withCString { rotatedIndexPath in
                        withOptionalCString(firstLine) { first in
                            var config = noko_console_config(
                                capture_stdout: standardOutput ? 1 : 0, capture_stderr: standardError ? 1 : 0,
                                log_fd: log.rawValue, index_fd: index.rawValue, log_size: logSize, base: base,
                                rotate_at: rotateAt, log_path: logPath, rotated_log_path: rotatedLogPath,
                                index_path: indexPath, rotated_index_path: rotatedIndexPath, first_line: first)
                            return noko_console_start(&config, &console)
                        }
                    }
                }
            }
        }
        guard started == 0 else { throw NokoSystemError("start the console capture into", path: files.log) }
        terminals = (console.is_terminal.0 != 0, console.is_terminal.1 != 0)
        if console.saved_fd.1 >= 0 { Self.messageDescriptor.store(console.saved_fd.1, ordering: .relaxed) }
        state = Mutex(console)
    }

    /// Puts the original descriptors back and waits at most `timeout` seconds until the tee
    /// has written out everything the program wrote so far. Returns false when it did not
    /// answer in time (a child process still writing through the old descriptors keeps it
    /// going; what it writes still reaches the log). Calling it again does nothing.
    @discardableResult
    package func stop(timeout: Double) -> Bool {
        state.withLock { console in
            guard var running = console else { return true }
            let result = noko_console_stop(&running, Int32(max(0, timeout) * 1000))
            // The saved standard error stays open (noko_console_stop says why): messages keep
            // a valid descriptor whichever one they loaded.
            Self.messageDescriptor.store(STDERR_FILENO, ordering: .relaxed)
            console = nil
            return result == 0
        }
    }
}

private func withOptionalCString<R>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let text else { return body(nil) }
    return text.withCString { body($0) }
}
