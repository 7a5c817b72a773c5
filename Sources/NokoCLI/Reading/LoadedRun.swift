import Foundation
import Logging
import NokoCore
import Noko
import NokoGit
import NokoMLflow
import NokoPlatform
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
package struct LoadedRun: Sendable {
    /// Who wrote the directory.
    package enum Source: String, Sendable {
        /// noko for Swift: `metadata.json` marks the directory.
        case noko
        /// Python noko: `noko.ndjson` and `<table>.csv`, no `metadata.json`.
        case pythonNoko = "python-noko"
    }

    /// The directory.
    package let url: URL
    /// The run's name (`metadata.json`'s `run_name`, else the directory's name).
    package let name: String
    /// Who wrote it.
    package let source: Source
    /// `metadata.json`, when present.
    package let metadata: RunMetadata?
    /// `metadata.json` as written (every key, including ones this version does not know).
    package let metadataJSON: JSONValue?
    /// The text of the `crash` marker (the signal), when the run crashed.
    package let crash: String?
    /// `config.json` as written (nested objects kept).
    package let config: JSONValue?
    /// `seeds.json`: the root seed and each generator's.
    package let seeds: Seeding.Record?
    /// `overrides.json`: what the launch gave (nil for runs from before launch-time config,
    /// from `Noko.initialize` and from Python noko).
    package let overrides: OverridesFile?
    /// What could not be read of the small files (a truncated or hand-edited
    /// `metadata.json`, `config.json`, `seeds.json`, `overrides.json`): each file named with
    /// its error. Such a file is read as absent, so the rows can still be shown.
    package let problems: [String]

    /// The config keys set at launch by overrides, as `config` keys (`model/layers`; an
    /// array element's override names its array), sorted.
    package var overriddenKeys: [String] {
        let keys = (overrides?.overrides ?? []).map { override -> String in
            let key = override.key
            return key.firstIndex(of: "[").map { String(key[..<$0]) } ?? key
        }
        return Set(keys).sorted()
    }

    /// The names of the run directory's files.
    package var layout: RunLayout { RunLayout(url) }

    /// Reads the small files of the run directory at `url` (the rows are read on demand,
    /// by ``loadSummary(messages:)`` and the export functions).
    ///
    /// Throws ``CLIError`` when `url` is not a run directory or the run was written by a
    /// newer `format_version`; a malformed small file is one of ``problems`` instead.
    package static func open(_ url: URL) throws -> LoadedRun {
        guard let info = FileSystem.info(url.path) else {
            throw CLIError("\(url.path): no such run directory")
        }
        guard info.isDirectory else {
            throw CLIError("\(url.path): expected a run directory, found a file")
        }
        let layout = RunLayout(url)
        var problems: [String] = []
        // A damaged small file is reported and read as absent; only a newer
        // `format_version` (the rows may mean something else) stops the read.
        func bestEffort<T>(_ what: String, _ body: () throws(LogFileError) -> T?) -> T? {
            do {
                return try body()
            } catch {
                problems.append("\(error.description); \(what)")
                return nil
            }
        }
        let withoutMetadata = "read as a run without metadata (status, times and argv unknown)"
        let metadataJSON = bestEffort(withoutMetadata) { () throws(LogFileError) in
            try RunFileFormat.readJSON(layout.metadata)
        }
        var metadata: RunMetadata?
        let source: Source
        if let metadataJSON {
            try Self.cliError { () throws(LogFileError) in
                try RunFileFormat.refuseNewer(metadataJSON, newest: Noko.formatVersion, path: layout.metadata.path)
            }
            metadata = bestEffort(withoutMetadata) { () throws(LogFileError) in
                try RunMetadata.decode(metadataJSON, path: layout.metadata.path)
            }
            source = .noko
        } else if FileSystem.exists(layout.metadata.path) {
            source = .noko
        } else if hasPythonNokoFiles(url) {
            source = .pythonNoko
        } else {
            let entries = (try? FileSystem.contentsOfDirectory(url.path)) ?? []
            let found = entries.isEmpty ? "it is empty" : "found: " + entries.prefix(8).joined(separator: ", ") + (entries.count > 8 ? ", …" : "")
            throw CLIError(
                "\(url.path) is not a run directory: expected metadata.json (a noko run) or noko.ndjson / <table>.csv (a Python noko run); \(found)")
        }
        let crash = ((try? FileSystem.readIfPresent(layout.crash.path)) ?? nil)
            .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
            ?? (FileSystem.exists(layout.crash.path) ? "" : nil)
        let config = bestEffort("read as no config") { () throws(LogFileError) in try ConfigFile.read(from: url) }
        let seeds = bestEffort("read as no seeds") { () throws(LogFileError) in try Seeding.Record.read(from: url) }
        let overrides = bestEffort("read as no overrides") { () throws(LogFileError) in try OverridesFile.read(from: url) }
        return LoadedRun(
            url: url, name: metadata?.runName ?? url.lastPathComponent, source: source, metadata: metadata,
            metadataJSON: metadataJSON, crash: crash, config: config, seeds: seeds, overrides: overrides, problems: problems)
    }

    /// The run directories directly inside `directory`, sorted by name: those with a
    /// `metadata.json`, and Python noko's (a `noko.ndjson` or `.csv` files, no metadata).
    package static func runDirectories(in directory: URL) throws -> [URL] {
        guard FileSystem.isDirectory(directory.path) else {
            throw CLIError("\(directory.path): expected a directory of runs; it does not exist")
        }
        let names: [String]
        do {
            names = try FileSystem.contentsOfDirectory(directory.path)
        } catch {
            throw CLIError("\(directory.path): cannot list: \(error.reason)")
        }
        return names.sorted().map { directory.appendingPathComponent($0, isDirectory: true) }.filter {
            FileSystem.exists(RunLayout($0).metadata.path) || hasPythonNokoFiles($0)
        }
    }

    // MARK: - Derived facts

    /// The run's status at `now`: `failed` when a `crash` file exists, `stale` when a
    /// `running` run's heartbeat is old, `unknown` when nothing is recorded (Python noko).
    package func status(now: Double) -> RunStatus {
        RunStatus.of(metadata, crashFileExists: crash != nil, now: now)
    }

    /// Seconds from start to end; for a run still running, to `now`; for a run that died,
    /// to its last heartbeat. Nil without a start time.
    package func duration(now: Double) -> Double? {
        guard let start = metadata?.startTime else { return nil }
        if let end = metadata?.endTime { return end - start }
        switch status(now: now) {
        case .running: return now - start
        default: return metadata?.heartbeat.map { $0 - start }
        }
    }

    /// The start time: `metadata.json`'s, else the first row's (a Python noko run has no
    /// metadata; its rows' times come from `summary`).
    package func startTime(summary: RunStatistics?) -> Double? {
        metadata?.startTime ?? summary?.tables.map(\.firstTime).filter(\.isFinite).min()
    }

    /// The end time, when the run ended: `metadata.json`'s, else (Python noko) the last row's.
    package func endTime(summary: RunStatistics?) -> Double? {
        if let end = metadata?.endTime { return end }
        if source == .pythonNoko { return summary?.tables.map(\.lastTime).filter(\.isFinite).max() }
        return nil
    }

    /// ``duration(now:)``, or for a Python noko run the time from its first row to its last.
    package func duration(now: Double, summary: RunStatistics?) -> Double? {
        if let d = duration(now: now) { return d }
        guard let start = startTime(summary: summary), let end = endTime(summary: summary) else { return nil }
        return end - start
    }

    /// The git checkpoint record (`metadata.git`), or nil outside a repository. A record
    /// that does not decode is reported through `problem` and read as nil.
    package func gitRecord(problem: (String) -> Void = { _ in }) -> GitCheckpointRecord? {
        guard let git = metadata?.git, git != .null else { return nil }
        do {
            return try JSONDecoder().decode(GitCheckpointRecord.self, from: Data(git.serializedBytes()))
        } catch {
            problem("\(layout.metadata.path): \"git\" is not a checkpoint record: \(error)")
            return nil
        }
    }

    /// `metadata.remotes.wandb`: `{entity, project, run_id, url, mode}`, when the run syncs.
    package var wandbRecord: JSONValue? { metadata?.remotes?["wandb"] }

    /// How far `noko-run sync` (or the live process) got, from `sync/wandb.json`; nil when
    /// the run never synced. A state file that cannot be read is reported through `problem`.
    package func wandbSyncStatus(problem: (String) -> Void = { _ in }) -> WandbSyncStatus? {
        do {
            return try WandbSync.status(directory: url)
        } catch {
            problem("\(url.path): \(error)")
            return nil
        }
    }

    /// `metadata.remotes.mlflow`: `{tracking_uri, experiment_id, run_id, url}`.
    package var mlflowRecord: JSONValue? { metadata?.remotes?["mlflow"] }

    /// How far the MLflow upload got, from `sync/mlflow.json`; nil when the run was never
    /// mirrored there.
    package func mlflowSyncStatus(problem: (String) -> Void = { _ in }) -> MLflowSyncStatus? {
        do {
            return try MLflowSync.status(directory: url)
        } catch {
            problem("\(url.path): \(error)")
            return nil
        }
    }

    /// A rerun of this run by `noko-run reproduce`: a sibling directory `<name>.repro-N`.
    package struct Reproduction: Sendable {
        package var name: String
        package var url: URL
        /// Its verdict (`metadata.json`'s `reproduction`); nil while it runs, or when it was
        /// interrupted before one was recorded.
        package var verdict: JSONValue?
    }

    /// The reproductions beside this run, in order of N.
    package func reproductions() -> [Reproduction] {
        let parent = url.deletingLastPathComponent()
        let prefix = name + ".repro-"
        let names = ((try? FileSystem.contentsOfDirectory(parent.path)) ?? []).filter { $0.hasPrefix(prefix) && Int($0.dropFirst(prefix.count)) != nil }
        return names.sorted { Int($0.dropFirst(prefix.count))! < Int($1.dropFirst(prefix.count))! }.map { name in
            let directory = parent.appendingPathComponent(name, isDirectory: true)
            let verdict = (try? RunFileFormat.readJSON(RunLayout(directory).metadata))??["reproduction"]
            return Reproduction(name: name, url: directory, verdict: verdict)
        }
    }

    /// The journal's path, when it exists.
    package var journalPath: String? {
        let path = layout.journal.path
        return FileSystem.exists(path) ? path : nil
    }

    /// Where a ``RunStatistics`` came from.
    package enum SummarySource: Sendable {
        /// `summary.json`, written by the run.
        case sidecar
        /// Rebuilt by reading `noko.ndjson`.
        case journal
        /// Rebuilt by reading the `<table>.csv` files.
        case csv
        /// The run has no rows yet.
        case none

        /// What `--json` calls it: the file read, `csv` or `none`.
        package var name: String {
            switch self {
            case .sidecar: return RunLayout.summaryName
            case .journal: return RunLayout.journalName
            case .csv: return "csv"
            case .none: return "none"
            }
        }
    }

    /// The run's tables: `summary.json` when present (O(columns)), else rebuilt by streaming
    /// the journal (Python noko's bare `NaN` accepted), else the CSV files.
    package func loadSummary(messages: Logging.Logger = NokoMessages.logger()) throws -> (summary: RunStatistics, source: SummarySource) {
        if source == .noko, let statistics = try Self.cliError({ () throws(LogFileError) in try RunStatistics.read(from: url) }) {
            guard let stale = staleness(of: statistics), let journal = journalPath else { return (statistics, .sidecar) }
            do {
                let rebuilt = try StatisticsRebuild.fromJournal(journal, allowsNonFiniteLiterals: false, fileStem: TableFileName.encode, messages: messages)
                messages.warning("\(stale); the tables are read from \(RunLayout.journalName) instead")
                return (rebuilt, .journal)
            } catch {
                messages.warning("\(stale), and reading it fails (\(error)); the tables are shown as \(RunLayout.summaryName) has them")
                return (statistics, .sidecar)
            }
        }
        do {
            if let journal = journalPath {
                // Python noko names its CSV files after the tables as they are.
                let python = source == .pythonNoko
                let fileStem: (String) -> String = python ? { table in table } : { table in TableFileName.encode(table) }
                let statistics = try StatisticsRebuild.fromJournal(journal, allowsNonFiniteLiterals: python, fileStem: fileStem, messages: messages)
                return (statistics, .journal)
            }
            let files = csvTables()
            guard !files.isEmpty else { return (RunStatistics(tables: []), .none) }
            return (try StatisticsRebuild.fromCSV(files.map { ($0.table, $0.url.path) }, messages: messages), .csv)
        } catch let error as LogFileError {
            throw CLIError("\(error)")
        }
    }

    /// Why `summary.json` no longer describes the journal of a run that ended: the journal's
    /// size differs from the one it recorded (the run died before its last write of it, or the
    /// journal was appended to or cut since); nil when it agrees, or while the run runs.
    private func staleness(of statistics: RunStatistics) -> String? {
        guard let recorded = statistics.journalBytes, let journal = journalPath,
            let size = FileSystem.info(journal).map({ Int64($0.size) }), size != recorded,
            status(now: Date().timeIntervalSince1970) != .running
        else { return nil }
        return "\(RunLayout.summaryName) was written when \(RunLayout.journalName) had \(recorded) bytes; it has \(size) now (the run ended without writing it again, or the journal was changed since)"
    }

    /// The `<table>.csv` files and the tables they hold: noko's file names are decoded
    /// (``TableFileName``); Python noko's are the table names as they are.
    package func csvTables() -> [(table: String, url: URL)] {
        let names = (try? FileSystem.contentsOfDirectory(url.path)) ?? []
        return names.filter { $0.hasSuffix(RunLayout.csvExtension) }.map { file in
            let stem = String(file.dropLast(RunLayout.csvExtension.count))
            let table = source == .noko ? (TableFileName.decode(stem) ?? stem) : stem
            return (table, url.appendingPathComponent(file))
        }
    }

    // MARK: - Reading files

    /// `body`'s value; a run file that cannot be read becomes the command's error, naming the
    /// file.
    static func cliError<T>(_ body: () throws(LogFileError) -> T) throws(CLIError) -> T {
        do {
            return try body()
        } catch {
            throw CLIError("\(error.description)")
        }
    }

    static func hasPythonNokoFiles(_ url: URL) -> Bool {
        let names = (try? FileSystem.contentsOfDirectory(url.path)) ?? []
        return names.contains(where: RunLayout.isRowFile)
    }
}
