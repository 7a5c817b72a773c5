import Foundation
import NokoCore
import NokoRemoteSync

/// `sync/mlflow.json`, MLflow's cursor: which server run mirrors the run, and how far the
/// upload got (per journal the byte offset of the first row not acknowledged). Rewritten
/// atomically after every acknowledged request; it holds no secret.
struct MLflowState: SyncCursor {
    static let formatVersion: Int64 = 1
    static let remoteName = "mlflow"

    var trackingURI: String
    var experimentName: String
    /// Known once the experiment was found or created.
    var experimentID: String?
    /// Known once the server run was created.
    var runID: String?
    var runName: String
    /// Unix seconds.
    var startTime: Double
    /// The run's tags at creation (noko's and the options').
    var tags: [String: String]
    /// The config, flattened into params when the run is created (redacted by the run module).
    var config: JSONValue
    /// True once every param went up (or was refused with a warning).
    var paramsLogged = false
    /// The run's `artifact_uri` on the server (`mlflow-artifacts:/1/<run>/artifacts`).
    var artifactURI: String?
    /// Each uploaded artifact's fingerprint (``RunFile/fingerprint``) by name.
    var uploadedFiles: [String: String] = [:]
    /// False while an artifact of the run's end failed to go up.
    var filesComplete = false
    /// Every table's CSV goes up at the end (``MLflowOptions/uploadsTables``).
    var uploadsTables = false
    var journals: [String: JournalProgress] = [:]
    /// Rows whose metrics the server acknowledged.
    var rowsUploaded: Int64 = 0
    var userSummary: [String: JSONValue] = [:]
    var finished = false
    var exitCode: Int64?
    var lastError: String?

    init(trackingURI: String, experimentName: String, runName: String, startTime: Double, tags: [String: String], config: JSONValue) {
        self.trackingURI = trackingURI
        self.experimentName = experimentName
        self.runName = runName
        self.startTime = startTime
        self.tags = tags
        self.config = config
    }

    var uploadsOtherRanks: Bool { false }
    var rowsAcknowledged: Int64 { rowsUploaded }

    var record: MLflowRemoteRecord {
        MLflowRemoteRecord(trackingURI: trackingURI, experimentID: experimentID, runID: runID)
    }

    var jsonValue: JSONValue {
        var journalMembers: [String: JSONValue] = [:]
        for (path, progress) in journals {
            journalMembers[path] = .object(["offset": .int(progress.offset), "rows": .int(progress.rows)])
        }
        return .object([
            "format_version": .int(Self.formatVersion),
            "tracking_uri": .string(trackingURI),
            "experiment_name": .string(experimentName),
            "experiment_id": experimentID.map(JSONValue.string) ?? .null,
            "run_id": runID.map(JSONValue.string) ?? .null,
            "run_name": .string(runName),
            "start_time": .double(startTime),
            "tags": .object(tags.mapValues(JSONValue.string)),
            "config": config,
            "params_logged": .bool(paramsLogged),
            "artifact_uri": artifactURI.map(JSONValue.string) ?? .null,
            "uploaded_files": .object(uploadedFiles.mapValues(JSONValue.string)),
            "files_complete": .bool(filesComplete),
            "uploads_tables": .bool(uploadsTables),
            "journals": .object(journalMembers),
            "rows_uploaded": .int(rowsUploaded),
            "user_summary": .object(userSummary),
            "finished": .bool(finished),
            "exit_code": exitCode.map(JSONValue.int) ?? .null,
            "last_error": lastError.map(JSONValue.string) ?? .null,
        ])
    }

    init(json: JSONValue, path: String) throws(SyncCursorError) {
        guard let uri = json["tracking_uri"]?.stringValue, let experiment = json["experiment_name"]?.stringValue,
            let runName = json["run_name"]?.stringValue
        else { throw .invalid("\"tracking_uri\", \"experiment_name\" or \"run_name\" missing") }
        self.init(
            trackingURI: uri, experimentName: experiment, runName: runName, startTime: json["start_time"]?.doubleValue ?? 0,
            tags: (json["tags"]?.objectValue ?? [:]).compactMapValues(\.stringValue), config: json["config"] ?? .object([:]))
        experimentID = json["experiment_id"]?.stringValue
        runID = json["run_id"]?.stringValue
        paramsLogged = json["params_logged"]?.boolValue ?? false
        artifactURI = json["artifact_uri"]?.stringValue
        uploadedFiles = (json["uploaded_files"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        filesComplete = json["files_complete"]?.boolValue ?? false
        uploadsTables = json["uploads_tables"]?.boolValue ?? false
        for (path, progress) in json["journals"]?.objectValue ?? [:] {
            guard let offset = progress["offset"]?.intValue, offset >= 0 else { throw .invalid("journal \"\(path)\" has no valid offset") }
            journals[path] = JournalProgress(offset: offset, rows: progress["rows"]?.intValue ?? 0)
        }
        rowsUploaded = json["rows_uploaded"]?.intValue ?? 0
        userSummary = json["user_summary"]?.objectValue ?? [:]
        finished = json["finished"]?.boolValue ?? false
        exitCode = json["exit_code"]?.intValue
        lastError = json["last_error"]?.stringValue
    }
}

/// Where the run lives on the tracking server: `metadata.json`'s `remotes.mlflow`.
package struct MLflowRemoteRecord: RemoteRecord {
    package var trackingURI: String
    package var experimentID: String?
    package var runID: String?

    package var url: String? {
        guard let experimentID, let runID else { return nil }
        return trackingURI + "/#/experiments/\(experimentID)/runs/\(runID)"
    }

    package var jsonValue: JSONValue {
        .object([
            "tracking_uri": .string(trackingURI), "experiment_id": experimentID.map(JSONValue.string) ?? .null,
            "run_id": runID.map(JSONValue.string) ?? .null, "url": url.map(JSONValue.string) ?? .null,
        ])
    }
}
