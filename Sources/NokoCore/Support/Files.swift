import Foundation

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file operation that failed, with the path and the system's reason.
public struct NokoFileError: Error, Sendable, CustomStringConvertible {
    /// What noko was doing, e.g. "open for appending".
    public let operation: String
    /// The file involved.
    public let path: String
    /// The `errno` value.
    public let code: Int32

    /// An error for `operation` on `path`; `code` is `errno` by default.
    public init(_ operation: String, path: String, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    public var description: String {
        "cannot \(operation) \(path): \(String(cString: strerror(code)))"
    }
}

/// An open file descriptor. The owner serializes use and calls ``close()`` once.
///
/// Raw descriptors rather than `FileHandle`: the journal needs exactly one `write` per row,
/// retries on `EINTR` and short writes, and `fsync` on demand.
struct FileDescriptor: Sendable {
    let fd: Int32
    let path: String

    enum Mode { case append, truncate, read, readWrite }

    static func open(_ path: String, _ mode: Mode) throws(NokoFileError) -> FileDescriptor {
        let flags: Int32
        switch mode {
        case .append: flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC
        case .truncate: flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC
        case .read: flags = O_RDONLY | O_CLOEXEC
        case .readWrite: flags = O_RDWR | O_CLOEXEC
        }
        var fd: Int32
        repeat { fd = Glibc.open(path, flags, 0o644) } while fd < 0 && errno == EINTR
        guard fd >= 0 else {
            throw NokoFileError(mode == .read ? "open for reading" : "open for writing", path: path)
        }
        return FileDescriptor(fd: fd, path: path)
    }

    /// Writes every byte, retrying after signals and short writes.
    func writeAll(_ bytes: UnsafeRawBufferPointer) throws(NokoFileError) {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw NokoFileError("write to", path: path)
            }
            offset += n
        }
    }

    func writeAll(_ bytes: [UInt8]) throws(NokoFileError) {
        let result: NokoFileError? = bytes.withUnsafeBytes { buffer in
            do throws(NokoFileError) {
                try writeAll(buffer)
                return nil
            } catch { return error }
        }
        if let result { throw result }
    }

    func sync() throws(NokoFileError) {
        guard fsync(fd) == 0 else { throw NokoFileError("fsync", path: path) }
    }

    func close() {
        _ = Glibc.close(fd)
    }

    /// Reads up to `count` bytes into `buffer`; 0 at end of file.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(NokoFileError) -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno != EINTR { throw NokoFileError("read", path: path) }
        }
    }

    func seek(to offset: UInt64) throws(NokoFileError) {
        guard lseek(fd, off_t(offset), SEEK_SET) >= 0 else { throw NokoFileError("seek in", path: path) }
    }

    /// The file's current size.
    func size() throws(NokoFileError) -> UInt64 {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw NokoFileError("stat", path: path) }
        return UInt64(info.st_size)
    }

    /// Cuts the file back to `length` bytes.
    func truncate(to length: UInt64) throws(NokoFileError) {
        guard ftruncate(fd, off_t(length)) == 0 else { throw NokoFileError("truncate", path: path) }
    }

    /// Appends `bytes` whole or not at all: a failed write (full disk, a signal mid-write)
    /// is cut back off, so the next append never lands after half a line.
    func appendWhole(_ bytes: [UInt8], fileSize: UInt64) throws(NokoFileError) {
        do {
            try writeAll(bytes)
        } catch {
            try? truncate(to: fileSize)
            throw error
        }
    }
}

/// Cuts an append-only text file back to its last complete line: a process killed in the
/// middle of a write can leave half a line, and the next line appended must not be glued to
/// it. Returns the number of bytes removed.
@discardableResult
func dropTornLine(_ path: String) throws -> Int {
    guard let file = try? FileDescriptor.open(path, .readWrite) else { return 0 }
    defer { file.close() }
    let size = try file.size()
    guard size > 0 else { return 0 }
    // Read backwards in chunks until a newline is found.
    var end = size
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while end > 0 {
        let start = end >= UInt64(chunk.count) ? end - UInt64(chunk.count) : 0
        try file.seek(to: start)
        let count = Int(end - start)
        var read = 0
        while read < count {
            let n = try chunk.withUnsafeMutableBytes { try file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[read..<count])) }
            if n == 0 { break }
            read += n
        }
        if let newline = chunk[0..<read].lastIndex(of: 0x0A) {
            let keep = start + UInt64(newline) + 1
            if keep < size { try file.truncate(to: keep) }
            return Int(size - keep)
        }
        end = start
    }
    try file.truncate(to: 0)
    return Int(size)
}

/// Replaces files whole: write a temporary file beside the target, `fsync` it, `rename` it
/// over the target. Readers see the old file or the new one, never a mix (invariant 3).
public enum AtomicFile {
    /// Atomically replaces `url` with `bytes`.
    public static func write(_ bytes: [UInt8], to url: URL) throws {
        try write(to: url) { fd throws(NokoFileError) in try fd.writeAll(bytes) }
    }

    /// Atomically replaces `url` with what `body` writes to the temporary file.
    static func write(to url: URL, _ body: (FileDescriptor) throws -> Void) throws {
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(AtomicFile.counter.add(1))").path
        let fd = try FileDescriptor.open(temporary, .truncate)
        do {
            try body(fd)
            try fd.sync()
            fd.close()
        } catch {
            fd.close()
            unlink(temporary)
            throw error
        }
        guard rename(temporary, url.path) == 0 else {
            let code = errno
            unlink(temporary)
            throw NokoFileError("rename a temporary file over", path: url.path, code: code)
        }
    }

    private static let counter = AtomicCounter()
}

/// Creates `url` and its parents; a clear error names the directory and the reason.
func createDirectory(_ url: URL) throws {
    let path = url.standardizedFileURL.path
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
        guard isDirectory.boolValue else { throw NokoFileError("use as a directory (it is a file)", path: path, code: ENOTDIR) }
        return
    }
    let parent = url.standardizedFileURL.deletingLastPathComponent()
    if parent.path != path { try createDirectory(parent) }
    guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw NokoFileError("create directory", path: path) }
}
