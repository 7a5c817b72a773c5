#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file descriptor and the path it was opened with (for error messages).
///
/// The one descriptor type of noko: the journal, the views, Parquet, TensorBoard, the
/// atomic writer, locks and pipes all use it. Raw descriptors rather than `FileHandle`: the
/// journal needs exactly one `write` per row, retries on `EINTR` and short writes, `fsync`
/// on demand and errors as values. A value type, like swift-system's: the owner serializes
/// its use and calls ``close()`` once.
package struct FileDescriptor: Sendable, Hashable {
    /// The descriptor number.
    package let rawValue: Int32
    /// The path it was opened with (or a name such as `<stdout>`).
    package let path: String

    /// Wraps an existing descriptor (one inherited, or made by ``pipe()``).
    package init(rawValue: Int32, path: String) {
        self.rawValue = rawValue
        self.path = path
    }

    /// How a file is opened.
    package enum Mode: Sendable {
        /// Read only.
        case read
        /// Write at the end, creating the file if missing (`O_APPEND | O_CREAT`).
        case append
        /// Write from the start, creating the file or emptying it (`O_TRUNC | O_CREAT`).
        case truncate
        /// Read and write, creating the file if missing.
        case readWrite
        /// Read and write an existing file.
        case update
        /// Create a file that must not exist yet (`O_EXCL`), for reading and writing from the
        /// start.
        case createNew
        /// Create a file that must not exist yet (`O_EXCL`), every write at the end
        /// (`O_APPEND`: after a failed append is cut off, the next lands at the new end).
        case createNewAppending

        var flags: Int32 {
            switch self {
            case .read: return O_RDONLY
            case .append: return O_WRONLY | O_CREAT | O_APPEND
            case .truncate: return O_WRONLY | O_CREAT | O_TRUNC
            case .readWrite: return O_RDWR | O_CREAT
            case .update: return O_RDWR
            case .createNew: return O_RDWR | O_CREAT | O_EXCL
            case .createNewAppending: return O_WRONLY | O_CREAT | O_EXCL | O_APPEND
            }
        }

        var verb: String {
            switch self {
            case .read: return "open for reading"
            case .append: return "open for appending"
            case .truncate, .readWrite, .update: return "open for writing"
            case .createNew, .createNewAppending: return "create"
            }
        }
    }

    /// Opens `path` (`open(2)`, close-on-exec, mode 0644 for new files), retrying on `EINTR`.
    package static func open(_ path: String, _ mode: Mode, permissions: UInt32 = 0o644) throws(NokoSystemError) -> FileDescriptor {
        let flags = mode.flags | O_CLOEXEC
        while true {
            if try FaultInjection.inject(.open, path, operation: mode.verb) { continue }
            let fd = sysOpen(path, flags, mode_t(permissions))
            if fd >= 0 { return FileDescriptor(rawValue: fd, path: path) }
            if errno != EINTR { throw NokoSystemError(mode.verb, path: path) }
        }
    }

    /// Opens a directory for `fsync` (`open(2)` with `O_RDONLY | O_DIRECTORY`).
    package static func openDirectory(_ path: String) throws(NokoSystemError) -> FileDescriptor {
        while true {
            if try FaultInjection.inject(.open, path, operation: "open directory") { continue }
            let fd = sysOpen(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
            if fd >= 0 { return FileDescriptor(rawValue: fd, path: path) }
            if errno != EINTR { throw NokoSystemError("open directory", path: path) }
        }
    }

    /// The process's standard output, descriptor 1.
    package static let standardOutput = FileDescriptor(rawValue: STDOUT_FILENO, path: "<stdout>")
    /// The process's standard error, descriptor 2.
    package static let standardError = FileDescriptor(rawValue: STDERR_FILENO, path: "<stderr>")
    /// The process's standard input, descriptor 0.
    package static let standardInput = FileDescriptor(rawValue: STDIN_FILENO, path: "<stdin>")

    // MARK: - Writing

    /// Writes every byte at the current position (`write(2)`), retrying after signals and
    /// short writes.
    package func writeAll(_ bytes: UnsafeRawBufferPointer) throws(NokoSystemError) {
        var offset = 0
        while offset < bytes.count {
            if try FaultInjection.inject(.write, path, operation: "write to") { continue }
            let n = sysWrite(rawValue, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw NokoSystemError("write to", path: path)
            }
            offset += n
        }
    }

    /// Writes every byte of `bytes` (see the raw-buffer form).
    package func writeAll(_ bytes: [UInt8]) throws(NokoSystemError) {
        // withUnsafeBytes rethrows untyped errors, so the typed error travels out as a value.
        let failure: NokoSystemError? = bytes.withUnsafeBytes { buffer in
            do throws(NokoSystemError) {
                try writeAll(buffer)
                return nil
            } catch { return error }
        }
        if let failure { throw failure }
    }

    /// Writes every byte at `offset` (`pwrite(2)`), leaving the file position alone.
    package func writeAll(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(NokoSystemError) {
        var done = 0
        while done < bytes.count {
            if try FaultInjection.inject(.write, path, operation: "write to") { continue }
            let n = sysPwrite(rawValue, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw NokoSystemError("write to", path: path)
            }
            done += n
        }
    }

    /// Writes every byte of `bytes` at `offset` (see the raw-buffer form).
    package func writeAll(_ bytes: [UInt8], at offset: UInt64) throws(NokoSystemError) {
        let failure: NokoSystemError? = bytes.withUnsafeBytes { buffer in
            do throws(NokoSystemError) {
                try writeAll(buffer, at: offset)
                return nil
            } catch { return error }
        }
        if let failure { throw failure }
    }

    /// Writes without retrying or failing: for standard output and error, where a closed
    /// pipe (`| head`) means nothing more can be said and there is no one to tell.
    package func writeIgnoringErrors(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let n = sysWrite(rawValue, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += n
        }
    }

    /// Writes `bytes` without failing (see the raw-buffer form).
    package func writeIgnoringErrors(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { writeIgnoringErrors($0) }
    }

    // MARK: - Reading

    /// Reads up to `buffer.count` bytes at the current position (`read(2)`); 0 at end of file.
    package func read(into buffer: UnsafeMutableRawBufferPointer) throws(NokoSystemError) -> Int {
        while true {
            if try FaultInjection.inject(.read, path, operation: "read") { continue }
            let n = sysRead(rawValue, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno != EINTR { throw NokoSystemError("read", path: path) }
        }
    }

    /// Reads up to `buffer.count` bytes at `offset` (`pread(2)`); 0 at end of file.
    package func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(NokoSystemError) -> Int {
        while true {
            if try FaultInjection.inject(.read, path, operation: "read") { continue }
            let n = sysPread(rawValue, buffer.baseAddress, buffer.count, off_t(offset))
            if n >= 0 { return n }
            if errno != EINTR { throw NokoSystemError("read", path: path) }
        }
    }

    /// Up to `count` bytes at `offset`, fewer only at end of file.
    package func read(count: Int, at offset: UInt64) throws(NokoSystemError) -> [UInt8] {
        guard count > 0 else { return [] }
        var failure: NokoSystemError?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                do throws(NokoSystemError) {
                    let n = try read(
                        into: UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[done...]),
                        at: offset + UInt64(done))
                    if n == 0 { break }
                    done += n
                } catch {
                    failure = error
                    break
                }
            }
            initialized = done
        }
        if let failure { throw failure }
        return bytes
    }

    /// The rest of the file from the current position, at most `limit` bytes; nil when the
    /// file is longer than that.
    package func readToEnd(limit: Int = Int.max) throws(NokoSystemError) -> [UInt8]? {
        // Read straight into an array of the file's size (plus one byte, to see the end
        // without a second buffer): one copy from the kernel, none after. A file that grows
        // meanwhile is read on in chunks.
        let capacity = min(Int(clamping: (try? size()) ?? 0), limit, Int.max - 1) + 1
        var failure: NokoSystemError?
        var bytes = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            while initialized < buffer.count {
                do throws(NokoSystemError) {
                    let count = try read(into: UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[initialized...])))
                    if count == 0 { return }
                    initialized += count
                } catch {
                    failure = error
                    return
                }
            }
        }
        if let failure { throw failure }
        guard bytes.count == capacity else { return bytes }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 1)
        defer { chunk.deallocate() }
        while true {
            if bytes.count > limit { return nil }
            let count = try read(into: chunk)
            if count == 0 { return bytes }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[..<count]))
        }
    }

    // MARK: - The file

    /// Forces the file's data to the storage device (`fsync(2)`).
    package func sync() throws(NokoSystemError) {
        while true {
            if try FaultInjection.inject(.fsync, path, operation: "fsync") { continue }
            if sysFsync(rawValue) == 0 { return }
            if errno != EINTR { throw NokoSystemError("fsync", path: path) }
        }
    }

    /// Moves the file position to `offset` from the start (`lseek(2)`).
    package func seek(to offset: UInt64) throws(NokoSystemError) {
        guard lseek(rawValue, off_t(offset), SEEK_SET) >= 0 else { throw NokoSystemError("seek in", path: path) }
    }

    /// The file's size in bytes (`fstat(2)`).
    package func size() throws(NokoSystemError) -> UInt64 {
        var info = stat()
        guard fstat(rawValue, &info) == 0 else { throw NokoSystemError("stat", path: path) }
        return UInt64(info.st_size)
    }

    /// What `fstat(2)` says about the open file.
    package func info() throws(NokoSystemError) -> FileSystem.Info {
        var info = stat()
        guard fstat(rawValue, &info) == 0 else { throw NokoSystemError("stat", path: path) }
        return FileSystem.Info(info)
    }

    /// Cuts the file to `length` bytes (`ftruncate(2)`).
    package func truncate(to length: UInt64) throws(NokoSystemError) {
        while true {
            if try FaultInjection.inject(.truncate, path, operation: "truncate") { continue }
            if ftruncate(rawValue, off_t(length)) == 0 { return }
            if errno != EINTR { throw NokoSystemError("truncate", path: path) }
        }
    }

    /// Takes an exclusive advisory lock on the whole file (`flock(2)`, `LOCK_EX`). Returns
    /// false when `wait` is false and another process holds it. The kernel drops the lock
    /// when the descriptor closes or the process dies, even by `kill -9`.
    package func lockExclusively(wait: Bool) throws(NokoSystemError) -> Bool {
        while true {
            if try FaultInjection.inject(.lock, path, operation: "lock") { continue }
            if flock(rawValue, LOCK_EX | (wait ? 0 : LOCK_NB)) == 0 { return true }
            if errno == EINTR { continue }
            if errno == EWOULDBLOCK { return false }
            throw NokoSystemError("lock", path: path)
        }
    }

    /// Releases the descriptor (`close(2)`). Not retried on `EINTR`: on Linux the descriptor
    /// is released even then.
    package func close() throws(NokoSystemError) {
        // An injected failure still releases the descriptor, as Linux's close does whatever it
        // returns; only a simulated crash (`.stop`) leaves it open.
        var injected: NokoSystemError?
        do {
            _ = try FaultInjection.inject(.close, path, operation: "close")
        } catch {
            if error.isInjectedStop { throw error }
            injected = error
        }
        let failed = sysClose(rawValue) != 0 && errno != EINTR
        if let injected { throw injected }
        if failed { throw NokoSystemError("close", path: path) }
    }

    /// Releases the descriptor, ignoring errors (clean-up paths, read-only files).
    package func closeIgnoringErrors() {
        _ = sysClose(rawValue)
    }

    /// Whether the descriptor is a terminal (`isatty(3)`).
    package var isTerminal: Bool { isatty(rawValue) == 1 }

    /// The terminal's width in columns (`ioctl(TIOCGWINSZ)`), nil when it is not a terminal.
    package var terminalColumns: Int? {
        var size = winsize()
        guard ioctl(rawValue, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    /// A pipe's two ends (`pipe(2)`), both close-on-exec.
    package static func pipe() throws(NokoSystemError) -> (read: FileDescriptor, write: FileDescriptor) {
        var fds: [Int32] = [0, 0]
        guard sysPipe(&fds) == 0 else { throw NokoSystemError("create a pipe", path: nil) }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return (FileDescriptor(rawValue: fds[0], path: "<pipe>"), FileDescriptor(rawValue: fds[1], path: "<pipe>"))
    }
}

// The C library's functions under names of their own: inside FileDescriptor, `close` and
// `read` would name the methods. Functions, not stored closures: a global `let` would cost a
// lazy-initialization check on every journal write.
@inline(__always) private func sysOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
@inline(__always) private func sysRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { read(fd, buffer, count) }
@inline(__always) private func sysWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, buffer, count) }
@inline(__always) private func sysPread(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ offset: off_t) -> Int {
    pread(fd, buffer, count, offset)
}
@inline(__always) private func sysPwrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ offset: off_t) -> Int {
    pwrite(fd, buffer, count, offset)
}
@inline(__always) private func sysClose(_ fd: Int32) -> Int32 { close(fd) }
@inline(__always) private func sysFsync(_ fd: Int32) -> Int32 { fsync(fd) }
@inline(__always) private func sysPipe(_ fds: UnsafeMutablePointer<Int32>) -> Int32 { pipe(fds) }
