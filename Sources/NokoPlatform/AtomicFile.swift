#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Replaces files whole: the one way noko rewrites a file.
///
/// The steps, each a system call: create a temporary file beside the target (`O_EXCL`),
/// write it, `fsync` it, close it, `rename` it over the target, `fsync` the directory.
/// A reader sees the old file or the new one, never a mix or nothing; after a crash at any
/// step the target is the old file or the new one, and at most a temporary file named
/// `.<name>.tmp-<pid>-<n>` is left beside it (readers ignore dot files).
///
/// The rename is the commit: an error before it leaves the old file (and is thrown), while a
/// failed `fsync` of the directory after it is returned instead: the file *was* replaced, and
/// only whether the replacement survives a power loss is in doubt. A caller that threw would
/// redo, or believe undone, a write that happened (a CSV rewrite would insert its new columns
/// twice); one that cares says so after recording the new file.
package enum AtomicFile {
    /// Atomically replaces the file at `path` with `bytes`. Returns the error of the final
    /// directory `fsync`, if it failed (the file is replaced all the same).
    @discardableResult
    package static func write(_ bytes: [UInt8], to path: String) throws(NokoSystemError) -> NokoSystemError? {
        let (temporary, file) = try create(beside: path)
        do throws(NokoSystemError) {
            try file.writeAll(bytes)
        } catch {
            abandon(temporary, file, error)
            throw naming(path, for: temporary, in: error)
        }
        return try install(temporary, file, over: path)
    }

    /// Atomically replaces the file at `path` with what `body` writes to the temporary file
    /// (a body writing in pieces, such as a streamed diff or a CSV rewrite). An error thrown
    /// by `body` removes the temporary file and leaves the target as it was. Returns the error
    /// of the final directory `fsync`, if it failed (the file is replaced all the same).
    @discardableResult
    package static func write(to path: String, _ body: (FileDescriptor) throws -> Void) throws -> NokoSystemError? {
        let (temporary, file) = try create(beside: path)
        do {
            try body(file)
        } catch {
            abandon(temporary, file, error)
            if let error = error as? NokoSystemError { throw naming(path, for: temporary, in: error) }
            throw error
        }
        return try install(temporary, file, over: path)
    }

    /// `error` about the temporary file said about the file it was to replace: "cannot write a
    /// new version of runs/x/summary.json: No space left on device" names the file a user
    /// knows, not `.summary.json.tmp-4242-7`.
    private static func naming(_ path: String, for temporary: String, in error: NokoSystemError) -> NokoSystemError {
        guard error.path == temporary, !error.isInjectedStop else { return error }
        return NokoSystemError("write a new version of", path: path, code: error.code)
    }

    /// Step 1: the temporary file, `.<name>.tmp-<pid>-<n>` in the target's directory.
    private static func create(beside path: String) throws(NokoSystemError) -> (String, FileDescriptor) {
        let directory = FileSystem.parentDirectory(of: path)
        let prefix = directory.isEmpty ? "" : directory == "/" ? "/" : directory + "/"
        let temporary = prefix + ".\(FileSystem.lastComponent(of: path)).tmp-\(getpid())-\(counter.add(1, ordering: .relaxed).oldValue)"
        do throws(NokoSystemError) {
            return (temporary, try FileDescriptor.open(temporary, .createNew))
        } catch {
            throw naming(path, for: temporary, in: error)
        }
    }

    /// Steps 3 to 6: `fsync`, close, `rename` over the target, `fsync` the directory (whose
    /// error is returned: the target is already the new file).
    private static func install(_ temporary: String, _ file: FileDescriptor, over path: String) throws(NokoSystemError) -> NokoSystemError? {
        do throws(NokoSystemError) {
            try file.sync()
        } catch {
            abandon(temporary, file, error)
            throw naming(path, for: temporary, in: error)
        }
        do throws(NokoSystemError) {
            try file.close()
        } catch {
            abandon(temporary, nil, error)  // the descriptor is released even when close fails
            throw naming(path, for: temporary, in: error)
        }
        do throws(NokoSystemError) {
            try FileSystem.rename(temporary, to: path)
        } catch {
            abandon(temporary, nil, error)
            throw error
        }
        do throws(NokoSystemError) {
            try FileSystem.syncDirectory(FileSystem.parentDirectory(of: path))
        } catch {
            // A simulated crash stops the writer here like anywhere else.
            if error.isInjectedStop { throw error }
            return error
        }
        return nil
    }

    /// Removes the temporary file after a failure, unless a test's injected fault stopped the
    /// writer (a simulated crash: a dead process cleans nothing up).
    private static func abandon(_ temporary: String, _ file: FileDescriptor?, _ error: any Error) {
        if let error = error as? NokoSystemError, error.isInjectedStop { return }
        file?.closeIgnoringErrors()
        _ = try? FileSystem.remove(temporary)
    }

    /// Removes temporary files a crashed writer left beside `path` (`.<name>.tmp-<pid>-<n>`
    /// whose process is gone); a live process's temporary file is left alone. Returns how
    /// many were removed.
    @discardableResult
    package static func removeLeftovers(beside path: String) -> Int {
        let prefix = ".\(FileSystem.lastComponent(of: path)).tmp-"
        return removeLeftovers(in: FileSystem.parentDirectory(of: path)) { $0.hasPrefix(prefix) }
    }

    /// Removes the temporary files crashed writers left in `directory`, whatever file each
    /// was replacing: a process killed while rewriting `summary.json`, `metadata.json` or a
    /// CSV file leaves one, as large as the file, that nothing would ever read or remove.
    @discardableResult
    package static func removeLeftovers(in directory: String) -> Int {
        removeLeftovers(in: directory) { $0.hasPrefix(".") }
    }

    private static func removeLeftovers(in directory: String, matching matches: (String) -> Bool) -> Int {
        guard let names = try? FileSystem.contentsOfDirectory(directory.isEmpty ? "." : directory) else { return 0 }
        var removed = 0
        for name in names where matches(name) {
            guard let pid = writer(ofTemporary: name), pid != getpid(), !CurrentProcess.isAlive(pid) else { continue }
            let leftover = (directory.isEmpty ? "" : directory == "/" ? "/" : directory + "/") + name
            if (try? FileSystem.remove(leftover)) == true { removed += 1 }
        }
        return removed
    }

    /// The pid in a temporary file's name (`.<name>.tmp-<pid>-<n>`), nil for any other name.
    private static func writer(ofTemporary name: String) -> Int32? {
        guard let marker = name.ranges(of: ".tmp-").last else { return nil }
        let parts = name[marker.upperBound...].split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0 >= "0" && $0 <= "9" } }) else { return nil }
        return Int32(parts[0])
    }

    private static let counter = Atomic<Int>(0)
}
