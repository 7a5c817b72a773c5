import Foundation
import NokoCore
import NokoPlatform

/// `sync/<remote>.lock`: keeps the live process and `noko-run sync` from uploading the
/// same run to the same remote at once.
///
/// An exclusive `flock` on the file, held while the holder syncs. The kernel drops it when
/// the holder dies, even by `kill -9`, so a crash never leaves a stale lock. The file holds
/// the holder's pid, for the message the other side prints.
package final class SyncLock: Sendable {
    private let file: FileDescriptor
    /// The lock file.
    package var path: String { file.path }

    private init(file: FileDescriptor) {
        self.file = file
    }

    /// Takes the lock without waiting, or says who holds it.
    package static func acquire(in directory: URL, remote: String) throws(SyncLockError) -> SyncLock {
        let path = RunLayout(directory).syncLock(remote).path
        let file: FileDescriptor
        let locked: Bool
        do {
            try FileSystem.makeDirectories(FileSystem.parentDirectory(of: path))
            file = try FileDescriptor.open(path, .readWrite)
            do {
                locked = try file.lockExclusively(wait: false)
            } catch {
                file.closeIgnoringErrors()
                throw error
            }
        } catch {
            throw .unavailable("\(error)")
        }
        guard locked else {
            let holder = (try? file.read(count: 32, at: 0)).map {
                String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            file.closeIgnoringErrors()
            throw .busy(pid: holder.flatMap { Int($0) }, remote: remote)
        }
        try? file.truncate(to: 0)
        try? file.writeAll(Array("\(CurrentProcess.id)\n".utf8), at: 0)
        return SyncLock(file: file)
    }

    deinit {
        // Closing the descriptor releases the flock.
        file.closeIgnoringErrors()
    }
}

/// The lock was not taken.
package enum SyncLockError: Error, Sendable, CustomStringConvertible {
    /// Another process syncs this run now.
    case busy(pid: Int?, remote: String)
    /// The lock file cannot be created or opened.
    case unavailable(String)

    package var description: String {
        switch self {
        case .busy(let pid, let remote):
            return "another process\(pid.map { " (pid \($0))" } ?? "") is uploading this run to \(remote)"
        case .unavailable(let reason):
            return "cannot lock the sync state: \(reason)"
        }
    }
}
