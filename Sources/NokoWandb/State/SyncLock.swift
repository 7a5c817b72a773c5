import Foundation
import NokoCore
import NokoPlatform

/// `sync/wandb.lock`: keeps the live process and `noko-run sync` from uploading the same
/// run at once.
///
/// An exclusive `flock` on the file, held while the holder syncs. The kernel drops it when
/// the holder dies, even by `kill -9`, so a crash never leaves a stale lock. The file holds
/// the holder's pid, for the message the other side prints.
final class SyncLock: Sendable {
    private let file: FileDescriptor
    /// The lock file.
    var path: String { file.path }

    static func url(in directory: URL) -> URL {
        RunLayout(directory).syncLock("wandb")
    }

    private init(file: FileDescriptor) {
        self.file = file
    }

    /// Takes the lock without waiting, or says who holds it.
    static func acquire(in directory: URL) throws(SyncLockError) -> SyncLock {
        let path = url(in: directory).path
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
            throw .busy(pid: holder.flatMap { Int($0) })
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
