#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file with positional I/O on a raw POSIX descriptor, which it owns and closes.
///
/// Parquet files are written at explicit offsets (an append after the last footer, a
/// truncation back to it), so this wraps `pread`/`pwrite`/`ftruncate`/`fsync`, retrying on
/// `EINTR` and completing short reads and writes. Errors name the file and the call.
final class ParquetFileHandle {
    let path: String
    private var descriptor: Int32

    /// Opens `path` for reading and writing, creating it (mode 0644) when `create` is set.
    init(forUpdating path: String, create: Bool) throws {
        self.path = path
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
        descriptor = try ParquetFileHandle.retrying(path, "open") { open(path, flags, 0o644) }
    }

    /// Opens `path` read-only.
    init(forReading path: String) throws {
        self.path = path
        descriptor = try ParquetFileHandle.retrying(path, "open") { open(path, O_RDONLY | O_CLOEXEC) }
    }

    deinit {
        if descriptor >= 0 { _ = closeDescriptor(descriptor) }
    }

    /// The file's current size in bytes.
    func size() throws -> Int64 {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw error("fstat") }
        return Int64(info.st_size)
    }

    /// Exactly `count` bytes at `offset`; reading past the end is an error.
    func read(at offset: Int64, count: Int) throws -> [UInt8] {
        guard count > 0 else { return [] }
        var failure: (any Error)?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                let n = pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = error("pread")
                    break
                }
                if n == 0 {
                    failure = ParquetError(file: path, "unexpected end of file reading \(count) bytes at offset \(offset)")
                    break
                }
                done += n
            }
            initialized = done
        }
        if let failure { throw failure }
        return bytes
    }

    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: [UInt8], at offset: Int64) throws {
        try bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = pwrite(descriptor, raw.baseAddress! + done, raw.count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw error("pwrite")
                }
                done += n
            }
        }
    }

    /// Cuts the file to `length` bytes.
    func truncate(to length: Int64) throws {
        _ = try ParquetFileHandle.retrying(path, "ftruncate") { ftruncate(descriptor, off_t(length)) }
    }

    /// Flushes the file's data to the storage device.
    func sync() throws {
        _ = try ParquetFileHandle.retrying(path, "fsync") { fsync(descriptor) }
    }

    /// Closes the descriptor now (the deinit would otherwise), reporting a failed close.
    func close() throws {
        guard descriptor >= 0 else { return }
        let result = closeDescriptor(descriptor)
        descriptor = -1
        if result != 0 && errno != EINTR { throw error("close") }
    }

    /// Atomically replaces `destination` with `source` (both in one directory).
    static func rename(_ source: String, to destination: String) throws {
        guard renameFile(source, destination) == 0 else {
            throw ParquetError(file: destination, "rename from \(source) failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Removes `path` if it exists.
    static func removeIfPresent(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw ParquetError(file: path, "unlink failed: \(String(cString: strerror(errno)))")
        }
    }

    private func error(_ call: String) -> ParquetError {
        ParquetError(file: path, "\(call) failed: \(String(cString: strerror(errno)))")
    }

    private static func retrying(_ path: String, _ call: String, _ body: () -> Int32) throws -> Int32 {
        while true {
            let result = body()
            if result >= 0 { return result }
            if errno == EINTR { continue }
            throw ParquetError(file: path, "\(call) failed: \(String(cString: strerror(errno)))")
        }
    }
}

/// `rename(2)`.
private func renameFile(_ source: String, _ destination: String) -> Int32 {
    #if canImport(Glibc)
    return Glibc.rename(source, destination)
    #else
    return Darwin.rename(source, destination)
    #endif
}

/// `close(2)`, which the class's own `close()` method hides inside it.
private func closeDescriptor(_ descriptor: Int32) -> Int32 {
    #if canImport(Glibc)
    return Glibc.close(descriptor)
    #else
    return Darwin.close(descriptor)
    #endif
}
