#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file that only grows by whole chunks, over a raw POSIX descriptor.
///
/// Each ``append(_:)`` either lands completely or, on failure, is cut back off the file, so
/// a file of whole records stays a file of whole records even when the disk fills up.
final class AppendOnlyFile {
    /// Where the file lives.
    let path: String
    private var descriptor: Int32
    /// Bytes in the file that came from successful appends.
    private(set) var size = 0

    /// Creates the file, failing with `EEXIST` (see ``FileError/errorNumber``) if it exists.
    init(creatingNew path: String) throws(FileError) {
        self.path = path
        let flags = O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC
        let fd = Self.retryingOnInterrupt { open(path, flags, 0o644) }
        guard fd >= 0 else { throw FileError(path: path, operation: "create", errorNumber: errno) }
        descriptor = fd
    }

    /// Creates the file, or returns nil if it already exists.
    convenience init?(creatingNewOrNil path: String) throws(FileError) {
        do {
            try self.init(creatingNew: path)
        } catch where error.errorNumber == EEXIST {
            return nil
        }
    }

    deinit {
        if descriptor >= 0 { _ = Self.closeDescriptor(descriptor) }
    }

    /// Writes all of `bytes` at the end of the file: loops over short writes and `EINTR`.
    /// On failure the partial chunk is truncated away and the error rethrown.
    func append(_ bytes: UnsafeRawBufferPointer) throws(FileError) {
        guard descriptor >= 0 else { throw FileError(path: path, operation: "write", errorNumber: EBADF) }
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                let failure = errno
                if failure == EINTR { continue }
                // Cut the torn chunk off so the file still ends on a whole record.
                if offset > 0 { _ = ftruncate(descriptor, off_t(size)) }
                throw FileError(path: path, operation: "write", errorNumber: failure)
            }
            offset += written
        }
        size += bytes.count
    }

    /// Writes all of `bytes` at the end of the file (see the raw-buffer form).
    func append(_ bytes: [UInt8]) throws(FileError) {
        // withUnsafeBytes rethrows untyped errors, so the typed error travels out as a value.
        let failure: FileError? = bytes.withUnsafeBytes { buffer in
            do throws(FileError) {
                try append(buffer)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    /// Forces the file's contents to disk.
    func sync() throws(FileError) {
        guard descriptor >= 0 else { return }
        if Self.retryingOnInterrupt({ fsync(descriptor) }) != 0 {
            throw FileError(path: path, operation: "fsync", errorNumber: errno)
        }
    }

    /// Releases the descriptor; later appends fail with `EBADF`. Closing twice does nothing.
    func close() throws(FileError) {
        guard descriptor >= 0 else { return }
        let fd = descriptor
        descriptor = -1
        // close() must not be retried on EINTR on Linux: the descriptor is already released.
        if Self.closeDescriptor(fd) != 0 && errno != EINTR {
            throw FileError(path: path, operation: "close", errorNumber: errno)
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

/// A failed system call on a file, with the path, the operation and the system's reason.
public struct FileError: Error, CustomStringConvertible {
    /// The file.
    public let path: String
    /// What was being done: `"create"`, `"write"`, `"fsync"`, `"close"`.
    public let operation: String
    /// The `errno` value.
    public let errorNumber: Int32

    /// For example `cannot write /runs/a/events.out.tfevents…: No space left on device`.
    public var description: String {
        "cannot \(operation) \(path): \(String(cString: strerror(errorNumber)))"
    }
}
