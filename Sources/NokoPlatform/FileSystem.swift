#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Operations on paths: directories, renames, removals, `stat`. Every one a thin wrapper of
/// the C function it names, with errors as ``NokoSystemError`` and faults injectable.
package enum FileSystem {
    /// What `stat(2)` says about a path.
    package struct Info: Sendable, Equatable {
        /// Size in bytes.
        package var size: UInt64
        /// Last modification, in Unix seconds.
        package var modificationTime: Double
        /// Whether it is a directory.
        package var isDirectory: Bool
        /// Whether it is a regular file.
        package var isRegularFile: Bool
        /// Which file it is (device and inode): a path renamed away and created again names
        /// another file (a rotated log).
        package var identity: Identity
    }

    /// A file's device and inode numbers.
    package struct Identity: Sendable, Hashable {
        package var device: UInt64
        package var inode: UInt64
    }

    /// What `stat(2)` says about `path` (following links); nil when nothing is there.
    package static func info(_ path: String) -> Info? {
        var s = stat()
        guard stat(path, &s) == 0 else { return nil }
        return Info(s)
    }

    /// Whether anything exists at `path`.
    package static func exists(_ path: String) -> Bool { info(path) != nil }

    /// Whether `path` is a directory.
    package static func isDirectory(_ path: String) -> Bool { info(path)?.isDirectory ?? false }

    /// Creates `path` and its missing parents (`mkdir(2)`, mode 0755); an existing
    /// directory is fine, a file in the way is an error naming it.
    package static func makeDirectories(_ path: String) throws(NokoSystemError) {
        if let existing = info(path) {
            guard existing.isDirectory else {
                throw NokoSystemError("use as a directory (it is a file)", path: path, code: ENOTDIR)
            }
            return
        }
        let parent = parentDirectory(of: path)
        if parent != path, !parent.isEmpty { try makeDirectories(parent) }
        if try makeDirectory(path) == false, !isDirectory(path) {
            throw NokoSystemError("use as a directory (it is a file)", path: path, code: ENOTDIR)
        }
    }

    /// Creates the directory `path` (`mkdir(2)`); false when something already exists
    /// there. Creation is atomic: of two processes making the same directory, one gets false.
    package static func makeDirectory(_ path: String, permissions: UInt32 = 0o755) throws(NokoSystemError) -> Bool {
        while true {
            if try FaultInjection.inject(.mkdir, path, operation: "create directory") { continue }
            if mkdir(path, mode_t(permissions)) == 0 { return true }
            switch errno {
            case EINTR: continue
            case EEXIST: return false
            default: throw NokoSystemError("create directory", path: path)
            }
        }
    }

    /// Renames `source` over `destination` atomically (`rename(2)`; same file system).
    package static func rename(_ source: String, to destination: String) throws(NokoSystemError) {
        while true {
            if try FaultInjection.inject(.rename, destination, operation: "rename \(source) over") { continue }
            if sysRename(source, destination) == 0 { return }
            if errno != EINTR { throw NokoSystemError("rename \(source) over", path: destination) }
        }
    }

    /// Sets the modification time of `path` to now (`utimensat(2)` with no times: on a network
    /// file system, the server's now), as a heartbeat other machines can read with ``info(_:)``.
    package static func touch(_ path: String) throws(NokoSystemError) {
        while true {
            if try FaultInjection.inject(.write, path, operation: "set the modification time of") { continue }
            if utimensat(AT_FDCWD, path, nil, 0) == 0 { return }
            if errno != EINTR { throw NokoSystemError("set the modification time of", path: path) }
        }
    }

    /// Removes the file `path` (`unlink(2)`). Returns false when there was none.
    @discardableResult
    package static func remove(_ path: String) throws(NokoSystemError) -> Bool {
        while true {
            if try FaultInjection.inject(.unlink, path, operation: "remove") { continue }
            if unlink(path) == 0 { return true }
            switch errno {
            case EINTR: continue
            case ENOENT: return false
            default: throw NokoSystemError("remove", path: path)
            }
        }
    }

    /// Removes the empty directory `path` (`rmdir(2)`). Returns false when there was none.
    @discardableResult
    package static func removeDirectory(_ path: String) throws(NokoSystemError) -> Bool {
        if rmdir(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw NokoSystemError("remove directory", path: path)
    }

    /// Makes a rename in directory `path` durable (`fsync(2)` on the directory). File
    /// systems that cannot sync a directory (`EINVAL`) are taken at their word.
    package static func syncDirectory(_ path: String) throws(NokoSystemError) {
        let directory = try FileDescriptor.openDirectory(path.isEmpty ? "." : path)
        defer { directory.closeIgnoringErrors() }
        do {
            try directory.sync()
        } catch where error.code == EINVAL {
            return
        }
    }

    /// The names in directory `path` (`opendir(3)`/`readdir(3)`), without `.` and `..`,
    /// sorted bytewise.
    package static func contentsOfDirectory(_ path: String) throws(NokoSystemError) -> [String] {
        guard let directory = opendir(path) else { throw NokoSystemError("list directory", path: path) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The whole file at `path`, at most `limit` bytes (nil when longer).
    package static func read(_ path: String, limit: Int = Int.max) throws(NokoSystemError) -> [UInt8]? {
        let file = try FileDescriptor.open(path, .read)
        defer { file.closeIgnoringErrors() }
        return try file.readToEnd(limit: limit)
    }

    /// The whole file at `path`, or nil when there is no such file.
    package static func readIfPresent(_ path: String) throws(NokoSystemError) -> [UInt8]? {
        do {
            return try read(path)
        } catch where error.code == ENOENT {
            return nil
        }
    }

    /// The canonical absolute path (`realpath(3)`): links resolved, `.`/`..` removed; nil
    /// when the path does not exist.
    package static func canonicalPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The process's working directory (`getcwd(3)`).
    package static var currentDirectory: String {
        guard let cwd = getcwd(nil, 0) else { return "." }
        defer { free(cwd) }
        return String(cString: cwd)
    }

    /// Cuts an append-only text file back to its last complete line: a process killed in
    /// the middle of a write can leave half a line, and the next line appended must not be
    /// glued to it. Returns the number of bytes removed (0 when the file is missing).
    @discardableResult
    package static func dropTornLine(_ path: String) throws(NokoSystemError) -> Int {
        let file: FileDescriptor
        do {
            file = try FileDescriptor.open(path, .update)
        } catch where error.code == ENOENT {
            return 0
        }
        defer { file.closeIgnoringErrors() }
        let size = try file.size()
        guard size > 0 else { return 0 }
        // Read backwards in chunks until a newline is found.
        var end = size
        let chunkSize: UInt64 = 64 * 1024
        while end > 0 {
            let start = end >= chunkSize ? end - chunkSize : 0
            let chunk = try file.read(count: Int(end - start), at: start)
            if let newline = chunk.lastIndex(of: 0x0A) {
                let keep = start + UInt64(newline) + 1
                if keep < size { try file.truncate(to: keep) }
                return Int(size - keep)
            }
            end = start
        }
        try file.truncate(to: 0)
        return Int(size)
    }

    /// The directory part of `path` (`a/b/c` → `a/b`, `c` → ``, `/c` → `/`).
    package static func parentDirectory(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "" }
        if slash == trimmed.startIndex { return "/" }
        return String(trimmed[..<slash])
    }

    /// The last component of `path` (`a/b/c` → `c`).
    package static func lastComponent(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return String(trimmed) }
        return String(trimmed[trimmed.index(after: slash)...])
    }
}

@inline(__always) private func sysRename(_ source: String, _ destination: String) -> Int32 { rename(source, destination) }

extension FileSystem.Info {
    init(_ s: stat) {
        #if canImport(Darwin)
        let seconds = Double(s.st_mtimespec.tv_sec) + Double(s.st_mtimespec.tv_nsec) / 1e9
        #else
        let seconds = Double(s.st_mtim.tv_sec) + Double(s.st_mtim.tv_nsec) / 1e9
        #endif
        let type = s.st_mode & S_IFMT
        self.init(
            size: UInt64(s.st_size), modificationTime: seconds, isDirectory: type == S_IFDIR, isRegularFile: type == S_IFREG,
            identity: FileSystem.Identity(device: UInt64(s.st_dev), inode: UInt64(s.st_ino)))
    }
}
