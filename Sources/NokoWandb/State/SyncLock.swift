#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// `sync/wandb.lock`: keeps the live process and `noko-run sync` from uploading the same
/// run at once.
///
/// An exclusive `flock` on the file, held while the holder syncs. The kernel drops it when
/// the holder dies, even by `kill -9`, so a crash never leaves a stale lock. The file holds
/// the holder's pid, for the message the other side prints.
final class SyncLock: Sendable {
    private let descriptor: Int32
    /// The lock file.
    let path: String

    static func url(in directory: URL) -> URL {
        directory.appendingPathComponent("sync").appendingPathComponent("wandb.lock")
    }

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    /// Takes the lock without waiting, or says who holds it.
    static func acquire(in directory: URL) throws(SyncLockError) -> SyncLock {
        let url = url(in: directory)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw .unavailable("\(url.deletingLastPathComponent().path): \(error.localizedDescription)")
        }
        let fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .unavailable("\(url.path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            var holder = ""
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(fd, &buffer, buffer.count, 0)
            if count > 0 { holder = String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
            close(fd)
            if reason == EWOULDBLOCK {
                throw .busy(pid: Int(holder))
            }
            throw .unavailable("\(url.path): \(String(cString: strerror(reason)))")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
        return SyncLock(descriptor: fd, path: url.path)
    }

    deinit {
        // Closing the descriptor releases the flock.
        close(descriptor)
    }
}

/// The lock was not taken.
enum SyncLockError: Error, Sendable, CustomStringConvertible {
    /// Another process syncs this run now.
    case busy(pid: Int?)
    /// The lock file cannot be created or opened.
    case unavailable(String)

    var description: String {
        switch self {
        case .busy(let pid):
            return "another process\(pid.map { " (pid \($0))" } ?? "") is uploading this run to wandb"
        case .unavailable(let reason):
            return "cannot lock the sync state: \(reason)"
        }
    }
}
