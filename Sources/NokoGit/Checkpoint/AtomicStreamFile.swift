import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written in pieces that appears all at once: the bytes go to a temporary file in
/// the same directory, and `commit()` renames it into place. A reader sees the old file or
/// the whole new one, never a part; dropped without `commit()`, the temporary file goes.
final class AtomicStreamFile {
    let url: URL
    private let temporaryPath: String
    private var descriptor: Int32
    private var committed = false

    init(_ url: URL) throws(GitError) {
        self.url = url
        temporaryPath = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp").path
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Self.error("write \(url.path)") }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        if !committed { unlink(temporaryPath) }
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws(GitError) {
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw Self.error("write \(url.path)")
            }
            offset += written
        }
    }

    func commit() throws(GitError) {
        let status = close(descriptor)
        descriptor = -1
        guard status == 0 else { throw Self.error("write \(url.path)") }
        guard rename(temporaryPath, url.path) == 0 else { throw Self.error("rename \(temporaryPath) to \(url.path)") }
        committed = true
    }

    private static func error(_ operation: String) -> GitError {
        GitError(operation: operation, message: String(cString: strerror(errno)))
    }
}
