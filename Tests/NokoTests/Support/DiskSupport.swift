import Foundation
import NokoCore
import NokoPlatform
import NokoTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Whether the disk tests that mount file systems run: as root, and always under `make test`
/// (`NOKO_REQUIRE_INTEROP=1`), where a mount that cannot be made fails them rather than
/// skipping them.
enum DiskTestGate {
    static let required = ProcessInfo.processInfo.environment["NOKO_REQUIRE_INTEROP"] == "1"
    static var enabled: Bool { getuid() == 0 || required }
}

/// Runs a program to its end; its status and what it printed (stdout and stderr together).
@discardableResult
func runProgram(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A mount failed: the command and what it said.
struct MountError: Error, CustomStringConvertible {
    let description: String
}

/// A file system mounted for one test on a directory of its own, unmounted by ``unmount()``
/// (call it in a `defer`, so a failing test unmounts too) and, should the test process die
/// first, when the process exits.
///
/// Mounts stack on the mount point (``bindOverItself()``); ``unmount()`` takes every one off.
final class ScratchMount: @unchecked Sendable {
    /// Where the file system is.
    let point: URL
    /// The loop image of an ext4 mount.
    let image: URL?
    // Guarded by `lock`: how many mounts are stacked on `point`.
    private let lock = NSLock()
    private var depth = 1

    private init(point: URL, image: URL?) {
        self.point = point
        self.image = image
        CurrentProcess.onExit { [self] _ in unmount() }
    }

    /// A tmpfs of `megabytes` (its size limit makes a real full disk).
    static func tmpfs(megabytes: Int) throws -> ScratchMount {
        let point = temporaryRoot.appendingPathComponent("tmpfs-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: point, withIntermediateDirectories: true)
        try mount(["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", point.path])
        return ScratchMount(point: point, image: nil)
    }

    /// An ext4 file system of `megabytes` on a loop device, mounted with
    /// `errors=remount-ro`: the kernel turns it read-only by itself at the first error
    /// (``triggerError()``), as it does a real disk that fails, open files and all.
    static func ext4(megabytes: Int) throws -> ScratchMount {
        let name = "ext4-\(UUID().uuidString.prefix(8))"
        let image = temporaryRoot.appendingPathComponent("\(name).img")
        let point = temporaryRoot.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: point, withIntermediateDirectories: true)
        try Data().write(to: image)
        let handle = try FileHandle(forWritingTo: image)
        defer { try? handle.close() }
        try handle.truncate(atOffset: UInt64(megabytes) << 20)
        let made = try runProgram("/sbin/mkfs.ext4", ["-q", "-F", image.path])
        guard made.status == 0 else { throw MountError(description: "mkfs.ext4 \(image.path): \(made.output)") }
        try mount(["-o", "loop,errors=remount-ro", image.path, point.path])
        return ScratchMount(point: point, image: image)
    }

    private static func mount(_ arguments: [String]) throws {
        let result = try runProgram("/bin/mount", arguments)
        guard result.status == 0 else {
            throw MountError(description: "mount \(arguments.joined(separator: " ")): \(result.output)")
        }
    }

    /// Mounts the file system again on its own mount point (`mount --bind`): files opened
    /// before keep the mount below, files opened after go through the new one. A mount
    /// with files open for writing cannot be remounted read-only (`EBUSY`); this one can.
    func bindOverItself() throws {
        try Self.mount(["--bind", point.path, point.path])
        lock.withLock { depth += 1 }
    }

    /// `mount -o remount,<options> POINT`.
    func remount(_ options: String) throws {
        try Self.mount(["-o", "remount,\(options)", point.path])
    }

    /// The ext4 mount's loop device, as `/sys/fs/ext4/` names it (`loop3`).
    var device: String? {
        let result = try? runProgram("/bin/findmnt", ["-n", "-o", "SOURCE", point.path])
        return result?.output.split(separator: "\n").last.map { FileSystem.lastComponent(of: String($0)) }
    }

    /// Reports an error to ext4 (`/sys/fs/ext4/<dev>/trigger_fs_error`): with
    /// `errors=remount-ro`, the kernel makes the file system read-only at once, for good.
    func triggerError() throws {
        let device = try #require(device, "no device for \(point.path)")
        let trigger = "/sys/fs/ext4/\(device)/trigger_fs_error"
        let file = try FileDescriptor.open(trigger, .append)
        defer { file.closeIgnoringErrors() }
        try file.writeAll(Array("noko disk test\n".utf8))
    }

    /// Unmounts every stacked mount, then the file system itself, and checks an ext4 image
    /// (`e2fsck -fy`); a mount a process still holds is detached lazily, so nothing stays
    /// mounted after the test. Safe to call more than once.
    func unmount() {
        let levels = lock.withLock {
            defer { depth = 0 }
            return depth
        }
        for _ in 0..<levels {
            if (try? runProgram("/bin/umount", [point.path]))?.status != 0 {
                _ = try? runProgram("/bin/umount", ["-l", point.path])
            }
        }
    }

    /// Unmounts, repairs the image with `e2fsck -fy` and mounts it again read-write: what an
    /// administrator does after a disk error.
    func repairAndMountAgain() throws {
        let image = try #require(image, "only an ext4 image can be repaired")
        unmount()
        let checked = try runProgram("/sbin/e2fsck", ["-f", "-y", image.path])
        // 0: clean, 1: errors corrected.
        guard checked.status <= 1 else { throw MountError(description: "e2fsck \(image.path): \(checked.output)") }
        try Self.mount(["-o", "loop,errors=remount-ro", image.path, point.path])
        lock.withLock { depth = 1 }
    }
}

/// Reads run directories with the real readers: Python's json and csv, pandas, pyarrow and
/// tensorboard's EventAccumulator (`python/check_run_files.py`).
enum RunFileReader {
    static let interpreter: String? = {
        var candidates = ["/usr/bin/python3", "/usr/local/bin/python3"]
        if let path = ProcessInfo.processInfo.environment["PATH"] { candidates += path.split(separator: ":").map { "\($0)/python3" } }
        return candidates.first { candidate in
            FileManager.default.isExecutableFile(atPath: candidate)
                && (try? runProgram(candidate, [script, "--probe"]))?.status == 0
        }
    }()

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("python/check_run_files.py").path

    /// Whether the readers are there: under `NOKO_REQUIRE_INTEROP=1` their absence fails the
    /// test (``read(_:)`` requires them); otherwise the checks that need them are skipped.
    static var isAvailable: Bool { interpreter != nil || DiskTestGate.required }

    /// What the readers find in each directory (see the script's description).
    static func read(_ directories: [URL]) throws -> [String: RunFileReport] {
        let python = try #require(interpreter, "python3 with pandas, pyarrow and tensorboard is required (pip install pandas pyarrow tensorboard)")
        let result = try runProgram(python, [script] + directories.map(\.path))
        try #require(result.status == 0, "check_run_files.py: \(result.output)")
        let line = result.output.split(separator: "\n").last.map(String.init) ?? ""
        let json = try JSONValue(parsing: line)
        var reports: [String: RunFileReport] = [:]
        for (key, value) in json.objectValue ?? [:] { reports[key] = RunFileReport(json: value) }
        return reports
    }

    /// What the readers find in `directory`; nil when they are missing and not required.
    static func readIfAvailable(_ directory: URL) throws -> RunFileReport? {
        guard isAvailable else {
            print("\(directory.lastPathComponent): python3 with pandas, pyarrow and tensorboard is missing; files not read back")
            return nil
        }
        return try read([directory])[directory.path]
    }
}

/// What `check_run_files.py` found in one run directory.
struct RunFileReport {
    let json: JSONValue

    /// Files a reader could not read whole (torn lines, bad records): empty when every file is.
    var errors: [String] { json["errors"]?.arrayValue?.compactMap(\.stringValue) ?? [] }

    func journalSteps(_ table: String) -> [Int64] {
        json["journal"]?["steps"]?[table]?.arrayValue?.compactMap(\.intValue) ?? []
    }

    func journalRows(_ table: String) -> Int { journalSteps(table).count }

    /// `$step` of each row of a CSV file (`train.csv`), nil when there is no such file.
    func csvSteps(_ file: String) -> [Int64]? { json["csv"]?[file]?["steps"]?.arrayValue?.compactMap(\.intValue) }

    /// `$step` of each row of a Parquet file, nil when there is no such file.
    func parquetSteps(_ file: String) -> [Int64]? { json["parquet"]?[file]?["steps"]?.arrayValue?.compactMap(\.intValue) }

    /// The rows `summary.json` counts for `table`, nil without the file or the table.
    func summaryRows(_ table: String) -> Int? { json["summary"]?[table]?.intValue.map(Int.init) }

    /// The steps of `tag` in the event files, in the order of their names (a resumed run
    /// adds a file, named after its later start); nil without any.
    func eventSteps(_ tag: String) -> [Int64]? {
        guard let files = json["tensorboard"]?.objectValue, !files.isEmpty else { return nil }
        return files.keys.sorted().flatMap { files[$0]?["steps"]?[tag]?.arrayValue?.compactMap(\.intValue) ?? [] }
    }

    /// The (first) event file's name.
    var eventFile: String? { json["tensorboard"]?.objectValue?.keys.sorted().first }

    /// The blocks of `noko_pprint.log`.
    var pprintBlocks: Int? { json["pprint"]?["blocks"]?.intValue.map(Int.init) }

    var metadata: JSONValue? { json["metadata"].flatMap { $0 == .null ? nil : $0 } }
}
