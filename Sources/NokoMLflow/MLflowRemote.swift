import Foundation
import NokoCore
import NokoPlatform
import NokoRemoteSync

/// An MLflow tracking server as a remote of the sync engine, over its REST API 2.0: the
/// experiment is found or created, the run created with noko's tags and the config as
/// params, rows go as metrics in `runs/log-batch` requests within the server's limits, and
/// `runs/update` ends the run FINISHED, FAILED or KILLED, after the run's files went up as
/// artifacts (docs/mlflow.md).
final class MLflowRemote: SyncRemote {
    private let settings: MLflowSettings
    private let directory: URL
    private var scanner = JournalScanner(path: "")
    /// The batch's metrics, each serialized, sent in requests within the server's limits.
    private var metrics: [[UInt8]] = []
    private var metricBytes = 0
    /// Keys whose NaN or infinity, or whose shortening, was already warned about.
    private var warnedKeys: Set<String> = []
    private var warnedConfigChange = false

    /// The server's limits for one `runs/log-batch` (MLflow's `MAX_METRICS_PER_BATCH`…),
    /// with room under the 1 MB request limit.
    static let maxMetrics = 1000
    static let maxParams = 100
    static let maxTags = 100
    static let maxBytes = 900_000
    /// The longest param value the server stores (MLflow 3: 6000 characters).
    static let maxParamLength = 6000
    /// The longest tag value (8000 characters).
    static let maxTagLength = 8000

    init(settings: MLflowSettings, directory: URL) {
        self.settings = settings
        self.directory = directory
    }

    let name = MLflowState.remoteName
    var isOnline: Bool { true }
    var tracesHTTP: Bool { false }

    var http: HTTPClientConfiguration {
        HTTPClientConfiguration(
            username: settings.username, password: settings.password, bearerToken: settings.token, connectTimeout: .seconds(20),
            userAgent: "noko-swift")
    }

    var pacing: SyncPacing { SyncPacing(transmitInterval: settings.options.transmitInterval, heartbeatInterval: nil) }

    func record(of cursor: MLflowState) -> MLflowRemoteRecord { cursor.record }

    func describeRefusal(status: Int, what: String, serverMessage: String?) -> String {
        let detail = serverMessage.map { ": \($0)" } ?? ""
        switch status {
        case 401, 403:
            return "the MLflow server refused \(what) (HTTP \(status))\(detail); check MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN)"
        default:
            return "the MLflow server refused \(what) with HTTP \(status)\(detail)"
        }
    }

    // MARK: - Requests

    /// Retried: connection errors, 429 and 5xx; an answer below 500 but 429 comes back to
    /// the remote, which reads MLflow's `error_code`.
    private static let rule = RetryRule(
        successStatuses: 200...428, fatalStatuses: [430, 431, 451, 501], retries: 10,
        backoff: Backoff(minimumWait: .seconds(1), maximumWait: .seconds(60), maximumRetryAfter: .seconds(600)))

    private func post(_ path: String, _ body: JSONValue, what: String) -> RemoteRequest {
        RemoteRequest(url: settings.endpoint(path), body: body.serializedBytes(), timeout: settings.options.requestTimeout, rule: Self.rule, what: what)
    }

    /// The answer's JSON when it is a success; else the failure in MLflow's words.
    private enum Answer {
        case ok(JSONValue)
        case refused(status: Int, code: String?, message: String)
        case stopped(RemoteStep)
    }

    private func call(_ request: RemoteRequest, link: RemoteLink) -> Answer {
        switch link.send(request) {
        case .cancelled: return .stopped(.cancelled)
        case .failed(let message): return .stopped(.failed(message))
        case .ok(let response):
            let json = try? JSONValue(parsing: response.body)
            if (200...299).contains(response.status) { return .ok(json ?? .object([:])) }
            return .refused(
                status: response.status, code: json?["error_code"]?.stringValue,
                message: link.redact(json?["message"]?.stringValue ?? String(decoding: response.body.prefix(300), as: UTF8.self)))
        }
    }

    // MARK: - Opening

    func open(_ cursor: inout MLflowState, link: RemoteLink) -> RemoteStep {
        if cursor.experimentID == nil {
            switch experiment(named: cursor.experimentName, link: link) {
            case .success(let id): cursor.experimentID = id
            case .failure(let step): return step.step
            }
        }
        if cursor.runID == nil {
            var tags: [JSONValue] = []
            for (key, value) in cursor.tags.sorted(by: { $0.key < $1.key }) {
                tags.append(["key": .string(key), "value": .string(value)])
            }
            let body: JSONValue = [
                "experiment_id": .string(cursor.experimentID!), "start_time": .int(Int64((cursor.startTime * 1000).rounded())),
                "run_name": .string(cursor.runName), "tags": .array(tags),
            ]
            switch call(post("runs/create", body, what: "creating the run (runs/create)"), link: link) {
            case .stopped(let step): return step
            case .refused(let status, _, let message): return .failed(describeRefusal(status: status, what: "creating the run", serverMessage: message))
            case .ok(let json):
                guard let id = json["run"]?["info"]?["run_id"]?.stringValue else { return .failed("the MLflow server's runs/create answer has no run_id") }
                cursor.runID = id
                cursor.artifactURI = json["run"]?["info"]?["artifact_uri"]?.stringValue
                link.emit(.info, "syncing run \(cursor.runName) to \(cursor.record.url ?? settings.trackingURI)")
            }
        } else {
            // A resumed run runs again.
            let body: JSONValue = ["run_id": .string(cursor.runID!), "status": "RUNNING"]
            switch call(post("runs/update", body, what: "marking the run running (runs/update)"), link: link) {
            case .stopped(let step): return step
            case .refused(let status, _, let message): return .failed(describeRefusal(status: status, what: "reopening the run", serverMessage: message))
            case .ok: break
            }
        }
        if !cursor.paramsLogged {
            let step = logParams(cursor.config, cursor: cursor, link: link)
            if step != .done { return step }
            cursor.paramsLogged = true
        }
        return upload(MLflowArtifacts.atStart(directory: directory), cursor: &cursor, link: link)
    }

    private struct Stop: Error { var step: RemoteStep }

    private func getRequest(_ pathAndQuery: String, what: String) -> RemoteRequest {
        var get = post(pathAndQuery, .object([:]), what: what)
        get.method = "GET"
        get.body = []
        return get
    }

    /// The experiment's ID, created when there is none (a concurrent creation that answers
    /// RESOURCE_ALREADY_EXISTS is looked up again).
    private func experiment(named name: String, link: RemoteLink) -> Result<String, Stop> {
        for attempt in 0..<2 {
            let query = "experiments/get-by-name?experiment_name=" + (name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? name)
            switch call(getRequest(query, what: "finding experiment \(name)"), link: link) {
            case .stopped(let step): return .failure(Stop(step: step))
            case .ok(let json):
                if let id = json["experiment"]?["experiment_id"]?.stringValue { return .success(id) }
                return .failure(Stop(step: .failed("the MLflow server's experiments/get-by-name answer has no experiment_id")))
            case .refused(let status, let code, let message):
                guard code == "RESOURCE_DOES_NOT_EXIST", attempt == 0 else {
                    return .failure(Stop(step: .failed(describeRefusal(status: status, what: "finding experiment \(name)", serverMessage: message))))
                }
            }
            switch call(post("experiments/create", ["name": .string(name)], what: "creating experiment \(name)"), link: link) {
            case .stopped(let step): return .failure(Stop(step: step))
            case .ok(let json):
                if let id = json["experiment_id"]?.stringValue {
                    link.emit(.info, "created MLflow experiment \(name)")
                    return .success(id)
                }
            case .refused(let status, let code, let message):
                // Another process created it first: look it up again.
                if code != "RESOURCE_ALREADY_EXISTS" {
                    return .failure(Stop(step: .failed(describeRefusal(status: status, what: "creating experiment \(name)", serverMessage: message))))
                }
            }
        }
        return .failure(Stop(step: .failed("the MLflow server neither finds nor creates experiment \(name)")))
    }

    /// The config flattened (`optimizer/lr`) as params, 100 per request; a batch the server
    /// refuses is sent param by param, and each refused one (a value that differs from the
    /// one a resumed run logged: MLflow params cannot change) is a warning naming its key.
    private func logParams(_ config: JSONValue, cursor: MLflowState, link: RemoteLink) -> RemoteStep {
        var params: [JSONValue] = []
        for (key, value) in Self.flattened(config) {
            var text = Self.paramText(value)
            if text.count > Self.maxParamLength {
                link.emit(.warning, "config key \(key): its value has \(text.count) characters, more than MLflow keeps (\(Self.maxParamLength)); the param is shortened, config.json has it whole")
                text = String(text.prefix(Self.maxParamLength))
            }
            params.append(["key": .string(limitedKey(MLflowKeys.encode(key), what: "config key \(key)")), "value": .string(text)])
        }
        var start = 0
        while start < params.count {
            let chunk = Array(params[start..<min(start + Self.maxParams, params.count)])
            start += chunk.count
            let body: JSONValue = ["run_id": .string(cursor.runID!), "params": .array(chunk)]
            switch call(post("runs/log-batch", body, what: "logging the config as params (runs/log-batch)"), link: link) {
            case .stopped(let step): return step
            case .ok: continue
            case .refused:
                for param in chunk {
                    let one: JSONValue = ["run_id": .string(cursor.runID!), "params": [param]]
                    switch call(post("runs/log-batch", one, what: "logging a param (runs/log-batch)"), link: link) {
                    case .stopped(let step): return step
                    case .ok: break
                    case .refused(_, _, let message):
                        let key = MLflowKeys.decode(param["key"]?.stringValue ?? "")
                        link.emit(.warning, "config key \(key): the MLflow run keeps its earlier value (\(message)); MLflow params cannot change")
                    }
                }
            }
        }
        return .done
    }

    static func flattened(_ tree: JSONValue, path: String = "") -> [(String, JSONValue)] {
        switch tree {
        case .object(let members) where !members.isEmpty:
            return members.keys.sorted().flatMap { flattened(members[$0]!, path: path.isEmpty ? $0 : path + "/" + $0) }
        default:
            return [(path.isEmpty ? "value" : path, tree)]
        }
    }

    /// A param's text: a string as it is, anything else as JSON (`0.1`, `true`, `[1,2]`).
    static func paramText(_ value: JSONValue) -> String {
        if case .string(let s) = value { return s }
        return value.serialized()
    }

    // MARK: - Batches

    func beginBatch(_ cursor: MLflowState) {
        metrics.removeAll(keepingCapacity: true)
        metricBytes = 0
    }

    func add(_ line: UnsafeRawBufferPointer, rank: Int) -> RowFate {
        let record: (table: String, members: [(String, Scalar)])
        do {
            record = try scanner.record(line, number: 0)
        } catch {
            return .malformed("\(error)")
        }
        // The config is the run's params; its table stays local.
        if record.table == ConfigTable.name { return .skipped }
        var step: Int64 = 0
        var time: Double = 0
        for (key, value) in record.members {
            if key == "$step", case .int(let s) = value { step = s }
            if key == "$utc_timestamp", let t = value.doubleValue { time = t }
        }
        var values: [(String, Double)] = []
        for (key, value) in record.members where !key.hasPrefix("$") {
            switch value {
            case .int(let v): values.append((key, Double(v)))
            case .double(let v): values.append((key, v))
            case .bool(let v): values.append((key, v ? 1 : 0))
            case .null, .string: continue
            }
        }
        if record.table == SystemTable.name {
            values = MLflowSystemMetrics.metrics(Dictionary(values, uniquingKeysWith: { $1 }))
        } else {
            values = values.map { (MLflowKeys.encode(record.table + "/" + $0.0), $0.1) }
        }
        guard !values.isEmpty else { return .skipped }
        var added: [[UInt8]] = []
        var bytes = 0
        for (encoded, number) in values {
            let name = limitedKey(encoded, what: "metric \(MLflowKeys.decode(encoded))")
            if !number.isFinite, warnedKeys.insert(name).inserted {
                let stored = number.isNaN ? "NaN" : number > 0 ? "1.8e308, the largest double" : "-1.8e308"
                warnings.append("metric \(name): \(number) goes up as MLflow stores it (\(stored)); further ones of this key without a warning")
            }
            let metric: JSONValue = [
                "key": .string(name), "value": number.isFinite ? .double(number) : .string(number.isNaN ? "NaN" : number > 0 ? "Infinity" : "-Infinity"),
                "timestamp": .int(Int64((time * 1000).rounded())), "step": .int(step),
            ]
            let serialized = metric.serializedBytes()
            bytes += serialized.count + 1
            added.append(serialized)
        }
        // A row with more metrics than one request takes goes alone, in several requests.
        if !metrics.isEmpty, metrics.count + added.count > Self.maxMetrics || metricBytes + bytes > Self.maxBytes { return .full }
        metrics += added
        metricBytes += bytes
        return .accepted
    }

    /// `key` within MLflow's 250 characters: a longer one keeps its first 241 and a hash of
    /// the whole, with one warning naming it (the journal keeps the key whole).
    private func limitedKey(_ key: String, what: String) -> String {
        guard key.count > MLflowKeys.maxLength else { return key }
        let short = MLflowKeys.shortened(key)
        if warnedKeys.insert(key).inserted {
            warnings.append("\(what) is \(key.count) characters as an MLflow key, more than MLflow takes (\(MLflowKeys.maxLength)); it goes up as \(short)")
        }
        return short
    }

    func endBatch() -> BatchExtras { .none }

    /// Warnings met while gathering a batch, said when it is sent.
    private var warnings: [String] = []
    /// Artifacts of the last upload that did not go up.
    fileprivate var uploadFailures = 0
    fileprivate var warnedArtifactStore = false

    func send(_ batch: SyncBatch, cursor: inout MLflowState, link: RemoteLink) -> RemoteStep {
        for warning in warnings { link.emit(.warning, warning) }
        warnings = []
        guard let runID = cursor.runID else { return .failed("no MLflow run") }
        var summaryTags: [JSONValue] = []
        if batch.userSummaryChanged {
            // `run.summary` values are tags `summary/<key>`: MLflow has no summary.
            for (key, value) in batch.userSummary.sorted(by: { $0.key < $1.key }) {
                summaryTags.append([
                    "key": .string(limitedKey("summary/" + MLflowKeys.encode(key), what: "summary key \(key)")),
                    "value": .string(String(Self.paramText(value).prefix(Self.maxTagLength))),
                ])
            }
        }
        var start = 0
        var tagStart = 0
        while start < metrics.count || tagStart < summaryTags.count {
            var body: [UInt8] = Array("{\"run_id\":".utf8) + JSONValue.string(runID).serializedBytes() + Array(",\"metrics\":[".utf8)
            var count = 0
            while start < metrics.count, count < Self.maxMetrics, count == 0 || body.count + metrics[start].count < Self.maxBytes {
                if count > 0 { body.append(0x2C) }
                body += metrics[start]
                start += 1
                count += 1
            }
            body += Array("]".utf8)
            let tags = summaryTags[tagStart..<min(summaryTags.count, tagStart + Self.maxTags)]
            tagStart += tags.count
            if !tags.isEmpty { body += Array(",\"tags\":".utf8) + JSONValue.array(Array(tags)).serializedBytes() }
            body += Array("}".utf8)
            let request = RemoteRequest(
                url: settings.endpoint("runs/log-batch"), body: body, timeout: settings.options.requestTimeout, rule: Self.rule,
                what: "uploading rows (runs/log-batch)")
            switch call(request, link: link) {
            case .stopped(let step): return step
            case .refused(let status, _, let message):
                return .failed(describeRefusal(status: status, what: "uploading rows", serverMessage: message))
            case .ok: break
            }
        }
        if batch.exitCode != nil {
            let files = MLflowArtifacts.atEnd(directory: directory, tables: cursor.uploadsTables)
            let step = upload(files, cursor: &cursor, link: link)
            if step != .done { return step }
            cursor.filesComplete = uploadFailures == 0
        }
        if let exitCode = batch.exitCode {
            let status = exitCode == 0 ? "FINISHED" : [130, 137, 143].contains(exitCode) ? "KILLED" : "FAILED"
            let end = batch.endTime ?? Date().timeIntervalSince1970
            let update: JSONValue = ["run_id": .string(runID), "status": .string(status), "end_time": .int(Int64((end * 1000).rounded()))]
            switch call(post("runs/update", update, what: "ending the run (runs/update)"), link: link) {
            case .stopped(let step): return step
            case .refused(let status, _, let message): return .failed(describeRefusal(status: status, what: "ending the run", serverMessage: message))
            case .ok: break
            }
        }
        return .done
    }

    func commit(_ batch: SyncBatch, to cursor: inout MLflowState) {
        cursor.rowsUploaded += Int64(batch.rows)
    }

    func heartbeat(_ cursor: MLflowState, link: RemoteLink) -> RemoteStep { .done }

    /// A config change is recorded as tags `noko.config.<key>` (MLflow params cannot change);
    /// a new name renames the run, tags are set, notes go to `mlflow.note.content`.
    func update(_ update: RunUpdate, cursor: inout MLflowState, link: RemoteLink) -> RemoteStep {
        guard let runID = cursor.runID else { return .done }
        var tags: [JSONValue] = []
        if let config = update.config {
            let before = Dictionary(Self.flattened(cursor.config), uniquingKeysWith: { $1 })
            for (key, value) in Self.flattened(config) where before[key] != value {
                tags.append([
                    "key": .string(limitedKey("noko.config." + MLflowKeys.encode(key), what: "config key \(key)")),
                    "value": .string(String(Self.paramText(value).prefix(Self.maxTagLength))),
                ])
            }
            if !tags.isEmpty && !warnedConfigChange {
                warnedConfigChange = true
                link.emit(.warning, "the config changed during the run; MLflow params cannot change, so the new values are tags noko.config.<key>")
            }
            cursor.config = config
        }
        for tag in update.tags ?? [] { tags.append(["key": .string(tag), "value": ""]) }
        if let notes = update.notes { tags.append(["key": "mlflow.note.content", "value": .string(notes)]) }
        if !tags.isEmpty {
            let body: JSONValue = ["run_id": .string(runID), "tags": .array(Array(tags.prefix(Self.maxTags)))]
            switch call(post("runs/log-batch", body, what: "setting tags (runs/log-batch)"), link: link) {
            case .stopped(let step): return step
            case .refused(let status, _, let message): link.emit(.warning, describeRefusal(status: status, what: "setting tags", serverMessage: message))
            case .ok: break
            }
        }
        if let name = update.displayName {
            let body: JSONValue = ["run_id": .string(runID), "run_name": .string(name)]
            switch call(post("runs/update", body, what: "renaming the run (runs/update)"), link: link) {
            case .stopped(let step): return step
            case .refused(let status, _, let message): link.emit(.warning, describeRefusal(status: status, what: "renaming the run", serverMessage: message))
            case .ok: break
            }
        }
        return .done
    }
}

extension MLflowRemote {
    /// Uploads those of `files` the server lacks in this version through its artifact proxy,
    /// a `PUT` each, recorded in the cursor's `uploaded_files`. A failed upload is a warning
    /// and is left for `noko-run sync`; only a cancel ends the step early.
    fileprivate func upload(_ files: [RunFile], cursor: inout MLflowState, link: RemoteLink) -> RemoteStep {
        uploadFailures = 0
        let wanted = RunFile.pending(files, uploaded: cursor.uploadedFiles, link: link)
        guard !wanted.isEmpty, let runID = cursor.runID else { return .done }
        if cursor.artifactURI == nil {
            switch call(getRequest("runs/get?run_id=" + runID, what: "finding the run's artifact location (runs/get)"), link: link) {
            case .stopped(let step): return step
            case .refused(let status, _, let message):
                link.emit(.warning, describeRefusal(status: status, what: "finding the run's artifact location", serverMessage: message) + "; `noko-run sync --to mlflow` uploads the artifacts later")
                uploadFailures = wanted.count
                return .done
            case .ok(let json): cursor.artifactURI = json["run"]?["info"]?["artifact_uri"]?.stringValue
            }
        }
        guard let artifactURI = cursor.artifactURI, let base = MLflowArtifacts.uploadBase(artifactURI: artifactURI, trackingURI: settings.trackingURI) else {
            if !warnedArtifactStore {
                warnedArtifactStore = true
                link.emit(
                    .warning,
                    "the MLflow server keeps this run's artifacts at \(cursor.artifactURI ?? "an unknown place"), where noko cannot upload; start it with the artifact proxy (`mlflow server --artifacts-destination …`, without --no-serve-artifacts or a --default-artifact-root of its own) for config.json, metadata.json, the diffs and output.log to go up as artifacts")
            }
            return .done
        }
        for (file, fingerprint) in wanted {
            var put = RemoteRequest(
                url: base + "/" + MLflowArtifacts.urlPath(file.name), body: file.bytes, timeout: settings.options.requestTimeout, rule: Self.rule,
                what: "uploading artifact \(file.name)")
            put.method = "PUT"
            put.headers = ["Content-Type: application/octet-stream", "Expect:"]
            switch call(put, link: link) {
            case .stopped(.cancelled): return .cancelled
            case .stopped(.failed(let message)):
                link.emit(.warning, "\(message); `noko-run sync --to mlflow` uploads it later")
                uploadFailures += 1
            case .stopped: uploadFailures += 1
            case .refused(let status, _, let message):
                link.emit(.warning, describeRefusal(status: status, what: "artifact \(file.name)", serverMessage: message) + "; `noko-run sync --to mlflow` uploads it later")
                uploadFailures += 1
            case .ok:
                cursor.uploadedFiles[file.name] = fingerprint
            }
        }
        return .done
    }
}

/// Keys as MLflow allows them (letters, digits, `_ - . / :` and spaces), mapped reversibly:
/// `:` becomes `:3a` and every other byte outside the set `:` and two hex digits, so
/// `$step` is `:24step` and `x[0]` is `x:5b0:5d`.
enum MLflowKeys {
    /// The longest key MLflow takes (`MAX_ENTITY_KEY_LENGTH`).
    static let maxLength = 250

    /// A key over ``maxLength``: its first 241 characters, `-` and 8 hex digits of its hash.
    static func shortened(_ key: String) -> String {
        var hash = SHA256()
        hash.update(Array(key.utf8))
        return String(key.prefix(maxLength - 9)) + "-" + String(hash.finalize().prefix(8))
    }

    static func encode(_ key: String) -> String {
        var out = ""
        for byte in key.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if byte < 0x80, c.isLetter || c.isNumber || "_-./ ".contains(c) {
                out.append(c)
            } else {
                out += ":" + String(byte, radix: 16).leftPadded(to: 2)
            }
        }
        return out
    }

    static func decode(_ key: String) -> String {
        var bytes: [UInt8] = []
        let utf8 = Array(key.utf8)
        var i = 0
        while i < utf8.count {
            if utf8[i] == 0x3A, i + 2 < utf8.count, let byte = UInt8(String(decoding: utf8[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                bytes.append(byte)
                i += 3
            } else {
                bytes.append(utf8[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
