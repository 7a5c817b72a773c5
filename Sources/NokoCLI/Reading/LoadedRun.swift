import Foundation
import Logging
import NokoCore
import NokoGit
import NokoWandb

/// A run directory as `noko-run` reads it: only files, never the process that wrote them,
/// so it works on runs that are running, finished, crashed or killed, and on directories
/// written by Python noko (a journal and CSV files, no `metadata.json`).
///
/// ```swift
/// let run = try LoadedRun.open(URL(fileURLWithPath: "runs/train_2026-11-27T102738"))
/// let status = run.status(now: Date().timeIntervalSince1970)
/// let summary = try run.loadSummary()     // summary.json, or rebuilt from the rows
/// ```
public struct LoadedRun: Sendable {
    /// Who wrote the directory.
    public enum Source: String, Sendable {
        /// noko for Swift: `metadata.json` marks the directory.
        case noko
        /// Python noko: `noko.ndjson` and `<table>.csv`, no `metadata.json`.
        case pythonNoko = "python-noko"
    }

    /// The directory.
    public let url: URL
    /// The run's name (`metadata.json`'s `run_name`, else the directory's name).
    public let name: String
    /// Who wrote it.
    public let source: Source
    /// `metadata.json`, when present.
    public let metadata: RunMetadata?
    /// `metadata.json` as written (every key, including ones this version does not know).
    public let metadataJSON: JSONValue?
    /// The text of the `crash` marker (the signal), when the run crashed.
    public let crash: String?
    /// `config.json` as written (nested objects kept).
    public let config: JSONValue?
    /// `seeds.json`: `{"root_seed": N, "generators": {name: seed}}`.
    public let seeds: JSONValue?

    /// The journal's file name.
    public static let journalFileName = "noko.ndjson"
    /// The summary sidecar's file name.
    public static let summaryFileName = "summary.json"
    /// The config's file name.
    public static let configFileName = "config.json"
    /// The seeds' file name.
    public static let seedsFileName = "seeds.json"

    /// Reads the small files of the run directory at `url` (the rows are read on demand,
    /// by ``loadSummary(messages:)`` and the export functions).
    ///
    /// Throws ``CLIError`` when `url` is not a run directory, a file is malformed, or the
    /// run was written by a newer `format_version`.
    public static func open(_ url: URL) throws -> LoadedRun {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw CLIError("\(url.path): no such run directory")
        }
        guard isDirectory.boolValue else {
            throw CLIError("\(url.path): expected a run directory, found a file")
        }
        let metadataURL = url.appendingPathComponent(RunMetadata.fileName)
        let metadataJSON = try readJSON(metadataURL)
        var metadata: RunMetadata?
        let source: Source
        if let metadataJSON {
            metadata = try decodeMetadata(metadataJSON, path: metadataURL.path)
            source = .noko
        } else if hasPythonNokoFiles(url) {
            source = .pythonNoko
        } else {
            let entries = ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
            let found = entries.isEmpty ? "it is empty" : "found: " + entries.prefix(8).joined(separator: ", ") + (entries.count > 8 ? ", …" : "")
            throw CLIError(
                "\(url.path) is not a run directory: expected metadata.json (a noko run) or noko.ndjson / <table>.csv (a Python noko run); \(found)")
        }
        let crashURL = url.appendingPathComponent(RunMetadata.crashFileName)
        let crash = (try? String(contentsOf: crashURL, encoding: .utf8)).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            ?? (FileManager.default.fileExists(atPath: crashURL.path) ? "" : nil)
        return LoadedRun(
            url: url, name: metadata?.runName ?? url.lastPathComponent, source: source, metadata: metadata,
            metadataJSON: metadataJSON, crash: crash, config: try readJSON(url.appendingPathComponent(configFileName)),
            seeds: try readJSON(url.appendingPathComponent(seedsFileName)))
    }

    /// The run directories directly inside `directory`, sorted by name: those with a
    /// `metadata.json`, and Python noko's (a `noko.ndjson` or `.csv` files, no metadata).
    public static func runDirectories(in directory: URL) throws -> [URL] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIError("\(directory.path): expected a directory of runs; it does not exist")
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw CLIError("\(directory.path): cannot list: \(error.localizedDescription)")
        }
        return names.sorted().map { directory.appendingPathComponent($0, isDirectory: true) }.filter {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent(RunMetadata.fileName).path) || hasPythonNokoFiles($0)
        }
    }

    // MARK: - Derived facts

    /// The run's status at `now`: `failed` when a `crash` file exists, `stale` when a
    /// `running` run's heartbeat is old, `unknown` when nothing is recorded (Python noko).
    public func status(now: Double) -> RunStatus {
        RunStatus.of(metadata, crashFileExists: crash != nil, now: now)
    }

    /// Seconds from start to end; for a run still running, to `now`; for a run that died,
    /// to its last heartbeat. Nil without a start time.
    public func duration(now: Double) -> Double? {
        guard let start = metadata?.startTime else { return nil }
        if let end = metadata?.endTime { return end - start }
        switch status(now: now) {
        case .running: return now - start
        default: return metadata?.heartbeat.map { $0 - start }
        }
    }

    /// The start time: `metadata.json`'s, else the first row's (a Python noko run has no
    /// metadata; its rows' times come from `summary`).
    public func startTime(summary: SidecarSummary?) -> Double? {
        metadata?.startTime ?? summary?.tables.map(\.firstTime).filter(\.isFinite).min()
    }

    /// The end time, when the run ended: `metadata.json`'s, else (Python noko) the last row's.
    public func endTime(summary: SidecarSummary?) -> Double? {
        if let end = metadata?.endTime { return end }
        if source == .pythonNoko { return summary?.tables.map(\.lastTime).filter(\.isFinite).max() }
        return nil
    }

    /// ``duration(now:)``, or for a Python noko run the time from its first row to its last.
    public func duration(now: Double, summary: SidecarSummary?) -> Double? {
        if let d = duration(now: now) { return d }
        guard let start = startTime(summary: summary), let end = endTime(summary: summary) else { return nil }
        return end - start
    }

    /// The git checkpoint record (`metadata.git`), or nil outside a repository. A record
    /// that does not decode is reported through `problem` and read as nil.
    public func gitRecord(problem: (String) -> Void = { _ in }) -> GitCheckpointRecord? {
        guard let git = metadata?.git, git != .null else { return nil }
        do {
            return try JSONDecoder().decode(GitCheckpointRecord.self, from: Data(git.serializedBytes()))
        } catch {
            problem("\(url.appendingPathComponent(RunMetadata.fileName).path): \"git\" is not a checkpoint record: \(error)")
            return nil
        }
    }

    /// `metadata.remotes.wandb`: `{entity, project, run_id, url, mode}`, when the run syncs.
    public var wandbRecord: JSONValue? { metadata?.remotes?["wandb"] }

    /// How far `noko-run sync` (or the live process) got, from `sync/wandb.json`; nil when
    /// the run never synced. A state file that cannot be read is reported through `problem`.
    public func wandbSyncStatus(problem: (String) -> Void = { _ in }) -> WandbSyncStatus? {
        do {
            return try WandbSync.status(directory: url)
        } catch {
            problem("\(url.path): \(error)")
            return nil
        }
    }

    /// The journal's path, when it exists.
    public var journalPath: String? {
        let path = url.appendingPathComponent(LoadedRun.journalFileName).path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// Where a ``SidecarSummary`` came from.
    public enum SummarySource: String, Sendable {
        /// `summary.json`, written by the run.
        case sidecar = "summary.json"
        /// Rebuilt by reading `noko.ndjson`.
        case journal = "noko.ndjson"
        /// Rebuilt by reading the `<table>.csv` files.
        case csv = "csv"
        /// The run has no rows yet.
        case none
    }

    /// The run's tables: `summary.json` when present (O(columns)), else rebuilt by streaming
    /// the journal (Python noko's bare `NaN` accepted), else the CSV files.
    public func loadSummary(messages: Logging.Logger = NokoMessages.logger()) throws -> (summary: SidecarSummary, source: SummarySource) {
        let sidecar = url.appendingPathComponent(LoadedRun.summaryFileName)
        if source == .noko, FileManager.default.fileExists(atPath: sidecar.path) {
            return (try SidecarSummary.read(from: sidecar), .sidecar)
        }
        if let journal = journalPath {
            let text: String
            do {
                // Python noko names its CSV files after the tables as they are.
                let python = source == .pythonNoko
                let fileStem: (String) -> String = python ? { table in table } : { table in TableFileName.encode(table) }
                text = try SummaryRebuild.fromJournal(journal, allowsNonFiniteLiterals: python, fileStem: fileStem, messages: messages)
            } catch let error as LogFileError {
                throw CLIError("\(error)")
            }
            return (try SidecarSummary(json: JSONValue(parsing: text), path: journal), .journal)
        }
        let files = csvTables()
        guard !files.isEmpty else { return (SidecarSummary(tables: []), .none) }
        let text: String
        do {
            text = try SummaryRebuild.fromCSV(files.map { ($0.table, $0.url.path) }, messages: messages)
        } catch let error as LogFileError {
            throw CLIError("\(error)")
        }
        return (try SidecarSummary(json: JSONValue(parsing: text), path: url.path), .csv)
    }

    /// The `<table>.csv` files and the tables they hold: noko's file names are decoded
    /// (``TableFileName``); Python noko's are the table names as they are.
    public func csvTables() -> [(table: String, url: URL)] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
        return names.filter { $0.hasSuffix(".csv") }.map { file in
            let stem = String(file.dropLast(4))
            let table = source == .noko ? (TableFileName.decode(stem) ?? stem) : stem
            return (table, url.appendingPathComponent(file))
        }
    }

    // MARK: - Reading files

    /// A JSON file's value, nil when the file is absent; an unreadable or malformed file is
    /// an error naming it.
    static func readJSON(_ url: URL) throws -> JSONValue? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw CLIError("\(url.path): cannot read: \(error.localizedDescription)")
        }
        do {
            return try JSONValue(parsing: [UInt8](data))
        } catch {
            throw CLIError("\(url.path): expected JSON, found malformed text (\(error))")
        }
    }

    static func decodeMetadata(_ json: JSONValue, path: String) throws -> RunMetadata {
        guard case .object = json else {
            throw CLIError("\(path): expected a JSON object, found \(json.serialized().prefix(40))")
        }
        guard let version = json["format_version"]?.intValue else {
            throw CLIError("\(path): expected an integer \"format_version\"; found none")
        }
        guard version <= Int64(Noko.formatVersion) else {
            throw CLIError(
                "\(path): written by a newer noko (format_version \(version); this noko-run reads format_version \(Noko.formatVersion) and older); upgrade noko-run")
        }
        do {
            return try JSONDecoder().decode(RunMetadata.self, from: Data(json.serializedBytes()))
        } catch let DecodingError.keyNotFound(key, _) {
            throw CLIError("\(path): expected \"\(key.stringValue)\"; it is missing")
        } catch let DecodingError.typeMismatch(type, context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw CLIError("\(path): expected \"\(key)\" to be \(type); found another type")
        } catch {
            throw CLIError("\(path): not a noko metadata file: \(error)")
        }
    }

    static func hasPythonNokoFiles(_ url: URL) -> Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.contains(journalFileName) || names.contains { $0.hasSuffix(".csv") }
    }
}
