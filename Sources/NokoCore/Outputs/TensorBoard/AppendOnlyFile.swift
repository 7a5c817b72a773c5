#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file that only grows by whole chunks, over a raw POSIX descriptor.
///
/// Unlike `FileDescriptor` (the journal's), it creates its file exclusively (`O_EXCL`), so
/// two writers never share an event file, and it cuts a failed append back off.
///
/// Each ``append(_:)`` either lands completely or, on failure, is cut back off the file, so
/// a file of whole records stays a file of whole records even when the disk fills up.
final class AppendOnlyFile {
    /// Where the file lives.
    let path: String
    private var descriptor: Int32
    /// Bytes in the file that came from successful appends.
    private(set) var size = 0

    /// Creates the file, failing with `EEXIST` (``NokoFileError/code``) if it exists.
    init(creatingNew path: String) throws(NokoFileError) {
        self.path = path
        let flags = O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC
        let fd = Self.retryingOnInterrupt { open(path, flags, 0o644) }
        guard fd >= 0 else { throw NokoFileError("create", path: path) }
        descriptor = fd
    }

    /// Creates the file, or returns nil if it already exists.
    convenience init?(creatingNewOrNil path: String) throws(NokoFileError) {
        do {
            try self.init(creatingNew: path)
        } catch where error.code == EEXIST {
            return nil
        }
    }

    deinit {
        if descriptor >= 0 { _ = Self.closeDescriptor(descriptor) }
    }

    /// Writes all of `bytes` at the end of the file: loops over short writes and `EINTR`.
    /// On failure the partial chunk is truncated away and the error rethrown.
    func append(_ bytes: UnsafeRawBufferPointer) throws(NokoFileError) {
        guard descriptor >= 0 else { throw NokoFileError("write to", path: path, code: EBADF) }
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                let failure = errno
                if failure == EINTR { continue }
                // Cut the torn chunk off so the file still ends on a whole record.
                if offset > 0 { _ = ftruncate(descriptor, off_t(size)) }
                throw NokoFileError("write to", path: path, code: failure)
            }
            offset += written
        }
        size += bytes.count
    }

    /// Writes all of `bytes` at the end of the file (see the raw-buffer form).
    func append(_ bytes: [UInt8]) throws(NokoFileError) {
        // withUnsafeBytes rethrows untyped errors, so the typed error travels out as a value.
        let failure: NokoFileError? = bytes.withUnsafeBytes { buffer in
            do throws(NokoFileError) {
                try append(buffer)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    /// Forces the file's contents to disk.
    func sync() throws(NokoFileError) {
        guard descriptor >= 0 else { return }
        if Self.retryingOnInterrupt({ fsync(descriptor) }) != 0 {
            throw NokoFileError("fsync", path: path)
        }
    }

    /// Releases the descriptor; later appends fail with `EBADF`. Closing twice does nothing.
    func close() throws(NokoFileError) {
        guard descriptor >= 0 else { return }
        let fd = descriptor
        descriptor = -1
        // close() must not be retried on EINTR on Linux: the descriptor is already released.
        if Self.closeDescriptor(fd) != 0 && errno != EINTR {
            throw NokoFileError("close", path: path)
        }
    }

    private static func closeDescriptor(_ fd: Int32) -> Int32 {
        #if canImport(Darwin)
            Darwin.close(fd)
        #elseif canImport(Musl)
            Musl.close(fd)
        #else
            Glibc.close(fd)
        #endif
    }

    private static func retryingOnInterrupt(_ call: () -> Int32) -> Int32 {
        while true {
            let result = call()
            if result >= 0 || errno != EINTR { return result }
        }
    }
}
