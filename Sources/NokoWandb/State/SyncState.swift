import Foundation
import NokoCore
import NokoPlatform
import NokoRemoteSync

/// `sync/wandb.json`, wandb's cursor: how far the upload got, and everything needed to
/// finish it from the run directory alone (the journal is the queue; this file is how far
/// the server took from it).
///
/// The engine rewrites it atomically after every acknowledged request, so after any crash it
/// says exactly what the server has: per journal the byte offset of the first row not
/// acknowledged, the number of history lines (= the next `_step`), the summary as of that
/// point, and the tables whose axes were declared. It holds no secret: the config in it was
/// redacted by the run module, and the key is never stored.
struct SyncState: SyncCursor {
    static let formatVersion: Int64 = 1
    /// The remote's name: `sync/wandb.json`, `sync/wandb.lock`.
    static let remoteName = "wandb"

    typealias JournalProgress = NokoRemoteSync.JournalProgress

    /// What the remote run is created with (first UpsertBucket of each session).
    struct RunSpec: Sendable, Equatable {
        var runName: String
        var startTime: Double
        var displayName: String?
        var group: String?
        var jobType: String?
        var tags: [String]?
        var notes: String?
        var host: String?
        var program: String?
        /// HEAD: the dashboard's commit link.
        var commit: String?
        /// The checkpoint commit, in the config's `_wandb.value.noko`.
        var checkpoint: String? = nil
        var repo: String?
        var config: JSONValue
        /// The environment block of the config's `_wandb.e` (the fields of
        /// `wandb-metadata.json`), made from `metadata.json` when the state was created.
        var environment: JSONValue? = nil
        /// Config keys of a run another client wrote to, kept under the run's own (MLflow
        /// and wandb replace the whole config with each update).
        var inheritedConfig: [String: JSONValue] = [:]
    }

    var mode: WandbOptions.Mode
    var baseURL: String
    var runID: String
    var entity: String?
    var project: String
    var url: String?
    var spec: RunSpec
    var minimumLevel: Int?
    /// Whether the `config` table goes up as history too (``WandbOptions/sendsConfigTable``).
    var sendsConfigTable = false
    var otherRanks: WandbOptions.OtherRanks
    /// Keyed by path relative to the run directory: `noko.ndjson`, `rank-1/noko.ndjson`.
    var journals: [String: JournalProgress]
    /// True once the remote run exists and `historyLines` counts from its first line.
    /// Until then a history the server already holds for this run ID belongs to someone
    /// else and is appended to; after, lines beyond `historyLines` on the server are this
    /// run's own unacknowledged ones, re-sent at their offsets.
    var created: Bool
    /// History lines the server has acknowledged; the next line's offset and `_step`.
    var historyLines: Int64
    /// Lines of `wandb-events.jsonl` (the `system` table's rows) the server acknowledged.
    var eventLines: Int64 = 0
    /// Lines of `output.log` (the Logs tab) the server acknowledged: the next line's offset.
    var logLines: Int64 = 0
    /// Where the console lines acknowledged so far end, counted over every rotation of the
    /// run's `output.log` (``ConsoleLine/endOffset``).
    var consoleOffset: UInt64 = 0
    /// Run files uploaded (Files tab), by name, with the SHA-256 of what went up: a file is
    /// uploaded again only when it changed.
    var uploadedFiles: [String: String] = [:]
    /// False until every file of the run's end went up (a failed upload leaves it false, so
    /// `noko-run sync` of a finished run still uploads what is missing). True in a cursor
    /// from before run files were uploaded.
    var filesComplete = false
    /// Tables whose x-axis is declared, in declaration order (the order of `_wandb.m`).
    var tables: [String]
    /// The derived summary (last value of every uploaded key) as of the acknowledged rows.
    var summary: [String: JSONValue]
    /// Keys set with `run.summary[…] = …`; they win over derived ones.
    var userSummary: [String: JSONValue]
    /// True once the server acknowledged `complete`.
    var finished: Bool
    /// The exit code sent with `complete`.
    var exitCode: Int64?
    /// The last error that stopped an upload (for `noko-run show`), redacted.
    var lastError: String?

    static func url(in directory: URL) -> URL {
        RunLayout(directory).syncCursor(remoteName)
    }

    var uploadsOtherRanks: Bool { otherRanks == .prefixed }
    var rowsAcknowledged: Int64 { historyLines }

    // MARK: - JSON

    var jsonValue: JSONValue {
        var run: [String: JSONValue] = [
            "run_name": .string(spec.runName), "start_time": .double(spec.startTime), "config": spec.config,
        ]
        run["display_name"] = optional(spec.displayName)
        run["group"] = optional(spec.group)
        run["job_type"] = optional(spec.jobType)
        run["tags"] = spec.tags.map { .array($0.map(JSONValue.string)) } ?? .null
        run["notes"] = optional(spec.notes)
        run["host"] = optional(spec.host)
        run["program"] = optional(spec.program)
        run["commit"] = optional(spec.commit)
        run["checkpoint"] = optional(spec.checkpoint)
        run["repo"] = optional(spec.repo)
        run["environment"] = spec.environment ?? .null
        if !spec.inheritedConfig.isEmpty { run["inherited_config"] = .object(spec.inheritedConfig) }
        var journalMembers: [String: JSONValue] = [:]
        for (path, progress) in journals {
            journalMembers[path] = .object(["offset": .int(progress.offset), "rows": .int(progress.rows)])
        }
        return .object([
            "format_version": .int(SyncState.formatVersion),
            "mode": .string(mode.rawValue),
            "base_url": .string(baseURL),
            "run_id": .string(runID),
            "entity": optional(entity),
            "project": .string(project),
            "url": optional(url),
            "run": .object(run),
            "min_level": minimumLevel.map { .int(Int64($0)) } ?? .null,
            "config_table": .bool(sendsConfigTable),
            "other_ranks": .string(otherRanks.rawValue),
            "journals": .object(journalMembers),
            "created": .bool(created),
            "history_lines": .int(historyLines),
            "event_lines": .int(eventLines),
            "log_lines": .int(logLines),
            "console_offset": .int(Int64(consoleOffset)),
            "uploaded_files": .object(uploadedFiles.mapValues(JSONValue.string)),
            "files_complete": .bool(filesComplete),
            "tables": .array(tables.map(JSONValue.string)),
            "summary": .object(summary),
            "user_summary": .object(userSummary),
            "finished": .bool(finished),
            "exit_code": exitCode.map(JSONValue.int) ?? .null,
            "last_error": optional(lastError),
        ])
    }

    init(
        mode: WandbOptions.Mode, baseURL: String, runID: String, entity: String?, project: String, url: String?,
        spec: RunSpec, minimumLevel: Int?, otherRanks: WandbOptions.OtherRanks
    ) {
        self.mode = mode
        self.baseURL = baseURL
        self.runID = runID
        self.entity = entity
        self.project = project
        self.url = url
        self.spec = spec
        self.minimumLevel = minimumLevel
        self.otherRanks = otherRanks
        self.journals = [:]
        self.created = false
        self.historyLines = 0
        self.tables = []
        self.summary = [:]
        self.userSummary = [:]
        self.finished = false
        self.exitCode = nil
        self.lastError = nil
    }

    /// Reads a state back; the error names what is missing or wrong.
    init(json: JSONValue, path: String) throws(SyncCursorError) {
        func string(_ key: String) throws(SyncCursorError) -> String {
            guard let value = json[key]?.stringValue else { throw .invalid("\"\(key)\" missing or not a string") }
            return value
        }
        guard let mode = WandbOptions.Mode(rawValue: try string("mode")), mode != .disabled else {
            throw .invalid("\"mode\" is not online or offline")
        }
        self.mode = mode
        self.baseURL = try string("base_url")
        self.runID = try string("run_id")
        self.project = try string("project")
        self.entity = json["entity"]?.stringValue
        self.url = json["url"]?.stringValue
        guard let run = json["run"], run.objectValue != nil else { throw .invalid("\"run\" missing") }
        self.spec = RunSpec(
            runName: run["run_name"]?.stringValue ?? "",
            startTime: run["start_time"]?.doubleValue ?? 0,
            displayName: run["display_name"]?.stringValue,
            group: run["group"]?.stringValue,
            jobType: run["job_type"]?.stringValue,
            tags: run["tags"]?.arrayValue?.compactMap(\.stringValue),
            notes: run["notes"]?.stringValue,
            host: run["host"]?.stringValue,
            program: run["program"]?.stringValue,
            commit: run["commit"]?.stringValue,
            checkpoint: run["checkpoint"]?.stringValue,
            repo: run["repo"]?.stringValue,
            config: run["config"] ?? .object([:]),
            environment: run["environment"]?.objectValue.map(JSONValue.object),
            inheritedConfig: run["inherited_config"]?.objectValue ?? [:]
        )
        self.minimumLevel = json["min_level"]?.intValue.map { Int($0) }
        self.sendsConfigTable = json["config_table"]?.boolValue ?? false
        self.otherRanks = json["other_ranks"]?.stringValue.flatMap(WandbOptions.OtherRanks.init(rawValue:)) ?? .skip
        var journals: [String: JournalProgress] = [:]
        for (path, progress) in json["journals"]?.objectValue ?? [:] {
            guard let offset = progress["offset"]?.intValue, offset >= 0 else {
                throw .invalid("journal \"\(path)\" has no valid offset")
            }
            journals[path] = JournalProgress(offset: offset, rows: progress["rows"]?.intValue ?? 0)
        }
        self.journals = journals
        guard let lines = json["history_lines"]?.intValue, lines >= 0 else { throw .invalid("\"history_lines\" missing") }
        self.historyLines = lines
        self.eventLines = json["event_lines"]?.intValue ?? 0
        self.logLines = max(0, json["log_lines"]?.intValue ?? 0)
        self.consoleOffset = UInt64(max(0, json["console_offset"]?.intValue ?? 0))
        self.uploadedFiles = (json["uploaded_files"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        self.filesComplete = json["files_complete"]?.boolValue ?? true
        self.created = json["created"]?.boolValue ?? (lines > 0)
        self.tables = json["tables"]?.arrayValue?.compactMap(\.stringValue) ?? []
        self.summary = json["summary"]?.objectValue ?? [:]
        self.userSummary = json["user_summary"]?.objectValue ?? [:]
        self.finished = json["finished"]?.boolValue ?? false
        self.exitCode = json["exit_code"]?.intValue
        self.lastError = json["last_error"]?.stringValue
    }

    // MARK: - Files

    /// The state in `directory`, nil when there is none.
    static func load(from directory: URL) throws(SyncCursorError) -> SyncState? {
        try load(from: directory, remote: remoteName)
    }

    /// Writes the state atomically: readers see the old file or the new one, never half.
    func save(to directory: URL) throws(SyncCursorError) {
        try save(to: directory, remote: SyncState.remoteName)
    }

    var remoteRecord: WandbRemoteRecord {
        WandbRemoteRecord(entity: entity, project: project, runID: runID, url: url, mode: mode.rawValue)
    }
}

private func optional(_ value: String?) -> JSONValue {
    value.map(JSONValue.string) ?? .null
}

extension SyncState.RunSpec {
    /// The config as the remote gets it: the run's own keys over those another client wrote.
    var configSent: JSONValue {
        guard !inheritedConfig.isEmpty else { return config }
        var members = inheritedConfig
        for (key, value) in config.objectValue ?? [:] { members[key] = value }
        return .object(members)
    }
}
