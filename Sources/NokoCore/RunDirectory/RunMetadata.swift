import Foundation
import NokoPlatform

/// `metadata.json`: everything about a run that is not a row. Its presence marks a noko run
/// directory; `noko-run` reads it, the run module keeps it current (atomically rewritten).
///
/// Every field but ``formatVersion`` and ``runName`` is optional, so files written by
/// `Noko.initialize` (minimal) and by older or newer versions all decode; readers should
/// refuse a ``formatVersion`` greater than ``Noko/formatVersion``.
public struct RunMetadata: Codable, Sendable, Equatable {
    /// The layout version of the run directory.
    public var formatVersion: Int
    /// The run's name (its directory's name).
    public var runName: String
    /// The run directory's absolute path when it was created.
    public var runDir: String?
    /// The noko version that wrote the run.
    public var nokoVersion: String?
    /// `running`, `finished`, `failed` or `killed` (see `RunStatus`).
    public var status: String?
    /// The process's exit code, once it has exited.
    public var exitCode: Int?
    /// The signal that ended the run (`SIGTERM`, `SIGINT`…), for `killed` runs.
    public var signal: String?
    /// Why the run failed, when noko knows (`Noko.withRun`'s thrown error).
    public var error: String?
    /// When the run started, in Unix seconds.
    public var startTime: Double?
    /// When the run ended, in Unix seconds.
    public var endTime: Double?
    /// When the run last said it was alive, in Unix seconds.
    public var heartbeat: Double?
    /// Seconds between heartbeats; a `running` run whose heartbeat is older than three of
    /// these reads as `stale`.
    public var heartbeatInterval: Double?
    /// The command line, with secret-looking option values and URL credentials removed.
    public var argv: [String]?
    /// The program's name.
    public var program: String?
    /// The working directory the program started in.
    public var cwd: String?
    /// The machine's host name.
    public var host: String?
    /// The user the program ran as.
    public var user: String?
    /// The process id.
    public var pid: Int?
    /// The operating system's name and version.
    public var os: String?
    /// The kernel's name, release and architecture.
    public var kernel: String?
    /// The Swift language version the program was built with.
    public var swiftVersion: String?
    /// In a distributed job, this process's rank (0 owns the run).
    public var rank: Int?
    /// In a distributed job, the number of processes.
    public var worldSize: Int?
    /// The root seed (see `seeds.json` for every derived seed).
    public var seed: Int64?
    /// Allow-listed environment variables (`CUDA_VISIBLE_DEVICES`, `SLURM_JOB_ID`…).
    public var environment: [String: String]?
    /// The git checkpoint record, or null outside a repository.
    public var git: JSONValue?
    /// Remote mirrors, e.g. `{"wandb": {"entity": …, "project": …, "run_id": …, "url": …}}`.
    public var remotes: [String: JSONValue]?
    /// Values the program set with `run.summary[key] = value`.
    public var summary: [String: JSONValue]?
    /// The executable that ran: where, its SHA-256, how it was built, on what machine.
    public var build: Build?
    /// What a launcher attached through `NOKO_RUN_LINKS` (`{"sweep": …}`, `{"reproduces": …}`).
    public var links: [String: JSONValue]?
    /// In a run made by `noko-run reproduce`: its verdict (whether the run came out as the
    /// original did, and where it first differed), as `noko-run reproduce --json` prints it.
    public var reproduction: JSONValue?
    /// Rows that never reached a file of the run, per file name (`{"noko.ndjson": 120}`):
    /// for the journal, rows whose write failed (a full disk, an I/O error), which no other
    /// file has either; for a view (`train.csv`…), rows the journal has but the view could not
    /// keep. Absent when nothing was lost (see `NokoLogger.rowsLost`).
    public var rowsLost: [String: Int]?
    /// The first error of each output that failed to write, flush or close (each names its
    /// file), also when it caught up later; absent when every write succeeded.
    public var writeErrors: [String]?

    /// The executable of a run and how it was built.
    public struct Build: Codable, Sendable, Equatable {
        /// The executable's path: relative to the repository root when inside it, else absolute.
        public var path: String?
        /// The executable's absolute path.
        public var absolutePath: String?
        /// The SHA-256 of the executable, 64 hex digits (computed on a thread of its own;
        /// absent until it is done).
        public var sha256: String?
        /// The product: the executable's name.
        public var product: String?
        /// `debug` or `release`.
        public var configuration: String?
        /// The Swift compiler that built noko into the program, as the binary knows it (`6.3.1`).
        public var compiler: String?
        /// The target triple (`x86_64-unknown-linux-gnu`).
        public var targetTriple: String?
        /// The CPU model.
        public var cpu: String?
        /// The number of CPU cores.
        public var cores: Int?
        /// The package root (the directory with `Package.swift`), when found.
        public var packageRoot: String?

        /// An empty record.
        public init() {}

        enum CodingKeys: String, CodingKey {
            case path, absolutePath = "absolute_path", sha256, product, configuration, compiler
            case targetTriple = "target_triple", cpu, cores, packageRoot = "package_root"
        }
    }

    /// A record with only the required fields.
    public init(formatVersion: Int = Noko.formatVersion, runName: String) {
        self.formatVersion = formatVersion
        self.runName = runName
    }

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", runName = "run_name", runDir = "run_dir", nokoVersion = "noko_version"
        case status, exitCode = "exit_code", signal, error, startTime = "start_time", endTime = "end_time", heartbeat
        case heartbeatInterval = "heartbeat_interval", argv, program, cwd, host, user, pid, os, kernel
        case swiftVersion = "swift_version", rank, worldSize = "world_size", seed, environment, git, remotes, summary
        case build, links, reproduction, rowsLost = "rows_lost", writeErrors = "write_errors"
    }

    /// Reads `metadata.json` from a run directory. Errors name the file and say what was
    /// expected: missing, malformed, a field of the wrong type, a newer `format_version`.
    public static func read(from runDirectory: URL) throws -> RunMetadata {
        let url = RunLayout(runDirectory).metadata
        guard let json = try RunFileFormat.readJSON(url) else {
            throw LogFileError(path: url.path, message: "missing: not a noko run directory")
        }
        return try decode(json, path: url.path)
    }

    /// The record in `json`, the content of the `metadata.json` at `path`.
    package static func decode(_ json: JSONValue, path: String) throws(LogFileError) -> RunMetadata {
        try RunFileFormat.checkVersion(json, newest: Noko.formatVersion, path: path)
        do {
            return try JSONDecoder().decode(RunMetadata.self, from: Data(json.serializedBytes()))
        } catch let DecodingError.keyNotFound(key, _) {
            throw LogFileError(path: path, message: "expected \"\(key.stringValue)\"; it is missing")
        } catch let DecodingError.typeMismatch(type, context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw LogFileError(path: path, message: "expected \"\(key)\" to be \(type); found another type")
        } catch {
            throw LogFileError(path: path, message: "not a noko metadata file: \(error)")
        }
    }

    /// The canonical JSON bytes (sorted keys, pretty).
    public func encoded() throws -> [UInt8] {
        let data = try JSONEncoder().encode(self)
        return try JSONValue(parsing: [UInt8](data)).serializedBytes(pretty: true)
    }

    /// Writes the record atomically into a run directory.
    public func write(to runDirectory: URL) throws {
        try AtomicFile.write(try encoded(), to: RunLayout(runDirectory).metadata.path)
    }
}

/// What a run is doing or how it ended, as `noko-run` reports it.
package enum RunStatus: String, Sendable, Codable, CaseIterable {
    case running, finished, failed, killed
    /// `running` on record, but its heartbeat stopped: the process died without a word
    /// (`kill -9`, power loss).
    case stale
    /// No status recorded (a run made by `Noko.initialize`, or by Python noko).
    case unknown

    /// The status of a run directory: a `crash` file means `failed` at once; a `running`
    /// run whose heartbeat is older than three intervals is `stale`.
    package static func of(_ metadata: RunMetadata?, crashFileExists: Bool, now: Double = RowClock.system.now()) -> RunStatus {
        if crashFileExists { return .failed }
        guard let metadata, let recorded = metadata.status.flatMap(RunStatus.init(rawValue:)) else { return .unknown }
        if recorded == .running, let interval = metadata.heartbeatInterval,
            let beat = metadata.heartbeat ?? metadata.startTime, now - beat > 3 * interval
        {
            return .stale
        }
        return recorded
    }
}
