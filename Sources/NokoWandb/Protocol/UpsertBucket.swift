import NokoCore

/// The GraphQL `UpsertBucket` mutation: creates the run, or updates its config
/// (docs/wandb-protocol.md, "Creating the run"). The query text is byte-for-byte wandb-core's.
enum UpsertBucket {
    static let query =
        "\nmutation UpsertBucket ($id: String, $name: String, $project: String, $entity: String, $groupName: String, $description: String, $displayName: String, $notes: String, $commit: String, $config: JSONString, $host: String, $debug: Boolean, $program: String, $repo: String, $jobType: String, $state: String, $sweep: String, $tags: [String!], $summaryMetrics: JSONString) {\n\tupsertBucket(input: {id:$id,name:$name,groupName:$groupName,modelName:$project,entityName:$entity,description:$description,displayName:$displayName,notes:$notes,config:$config,commit:$commit,host:$host,debug:$debug,jobProgram:$program,jobRepo:$repo,jobType:$jobType,state:$state,sweep:$sweep,tags:$tags,summaryMetrics:$summaryMetrics}) {\n\t\tbucket {\n\t\t\tid\n\t\t\tname\n\t\t\tdisplayName\n\t\t\tdescription\n\t\t\tconfig\n\t\t\tsweepName\n\t\t\tproject {\n\t\t\t\tid\n\t\t\t\tname\n\t\t\t\tentity {\n\t\t\t\t\tid\n\t\t\t\t\tname\n\t\t\t\t}\n\t\t\t}\n\t\t\thistoryLineCount\n\t\t}\n\t\tinserted\n\t}\n}\n"

    /// The order wandb-core sends the 19 variables in; all are always present.
    static let variableNames = [
        "id", "name", "project", "entity", "groupName", "description", "displayName", "notes", "commit", "config",
        "host", "debug", "program", "repo", "jobType", "state", "sweep", "tags", "summaryMetrics",
    ]

    /// The request body. `withRunParameters` sends display name, group, tags, notes, host,
    /// program, commit and repo (the first upsert of a session); a later upsert, as the
    /// SDK's, sends only name, project, entity and the full config.
    static func body(
        runID: String, project: String, entity: String?, spec: SyncState.RunSpec, tables: [String],
        withRunParameters: Bool
    ) -> [UInt8] {
        var variables: [String: String] = [:]  // name -> JSON text of the value
        func text(_ s: String?) -> String {
            guard let s else { return "null" }
            var writer = WireWriter()
            writer.writeString(s)
            return String(decoding: writer.bytes, as: UTF8.self)
        }
        variables["name"] = text(runID)
        variables["project"] = text(project)
        variables["entity"] = text(entity)
        variables["config"] = text(configString(spec.configSent, tables: tables, checkpoint: spec.checkpoint, environment: spec.environment))
        if withRunParameters {
            variables["groupName"] = text(spec.group)
            variables["displayName"] = text(spec.displayName ?? spec.runName)
            variables["notes"] = text(spec.notes)
            variables["commit"] = text(spec.commit)
            variables["host"] = text(spec.host)
            variables["program"] = text(spec.program)
            variables["repo"] = text(spec.repo.map(SecretRedactor.strippingCredentials))
            variables["jobType"] = text(spec.jobType)
            if let tags = spec.tags {
                variables["tags"] = "[" + tags.map { text($0) }.joined(separator: ",") + "]"
            }
        }
        var writer = WireWriter(capacity: 4096)
        writer.append("{\"query\":")
        writer.writeString(query)
        writer.append(",\"variables\":{")
        for (i, name) in variableNames.enumerated() {
            writer.writeKey(name, first: i == 0)
            writer.bytes.append(contentsOf: (variables[name] ?? "null").utf8)
        }
        writer.append("},\"operationName\":\"UpsertBucket\"}")
        return writer.bytes
    }

    /// The `config` variable: a JSON string of `{"key": {"value": v}}` per top-level key
    /// (nested values kept), plus `_wandb` with `t` (so the Python SDK can resume the run),
    /// `m`, the metric definitions that give each table its own x-axis, and `noko`, the
    /// checkpoint commit (the run's `commit` is HEAD, which others can open), and `e`, the
    /// environment of the writer (one: noko's run), keyed by its ID as the official client does.
    static func configString(_ config: JSONValue, tables: [String], checkpoint: String? = nil, environment: JSONValue? = nil) -> String {
        var writer = WireWriter(capacity: 1024)
        writer.write(configValue(config, tables: tables, checkpoint: checkpoint, environment: environment))
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// The config object ``configString(_:tables:checkpoint:)`` spells (`config.yaml` too).
    static func configValue(_ config: JSONValue, tables: [String], checkpoint: String? = nil, environment: JSONValue? = nil) -> JSONValue {
        var members: [String: JSONValue] = [:]
        if let object = config.objectValue {
            for (key, value) in object where key != "_wandb" {
                members[key] = .object(["value": value])
            }
        } else if config != .null {
            // A config that is not an object (a bare value) still reaches the dashboard.
            members["value"] = .object(["value": config])
        }
        var bookkeeping: [String: JSONValue] = ["t": .object([:]), "m": MetricDefinitions.entries(tables: tables)]
        if let checkpoint { bookkeeping["noko"] = .object(["checkpoint": .string(checkpoint)]) }
        if let environment, let writer = environment["writerId"]?.stringValue {
            bookkeeping["e"] = .object([writer: environment])
        }
        members["_wandb"] = .object(["value": .object(bookkeeping)])
        return .object(members)
    }

    /// What the client needs from the answer.
    struct Result: Sendable, Equatable {
        var runID: String
        var project: String
        var entity: String
        var storageID: String?
        var historyLineCount: Int64
    }

    /// Reads the answer; a GraphQL error (HTTP 200 with `errors`) is not retried.
    static func parse(_ body: [UInt8]) -> Swift.Result<Result, ProtocolError> {
        guard let json = try? JSONValue(parsing: body) else {
            return .failure(.malformedResponse("UpsertBucket answer is not JSON"))
        }
        if let errors = json["errors"]?.arrayValue, !errors.isEmpty {
            let messages = errors.compactMap { $0["message"]?.stringValue }
            return .failure(.graphQL(messages.isEmpty ? "unknown GraphQL error" : messages.joined(separator: "; ")))
        }
        guard let bucket = json["data"]?["upsertBucket"]?["bucket"],
            let name = bucket["name"]?.stringValue,
            let project = bucket["project"]?["name"]?.stringValue,
            let entity = bucket["project"]?["entity"]?["name"]?.stringValue
        else {
            return .failure(.malformedResponse("UpsertBucket answer lacks bucket name, project or entity"))
        }
        return .success(
            Result(
                runID: name, project: project, entity: entity, storageID: bucket["id"]?.stringValue,
                historyLineCount: bucket["historyLineCount"]?.intValue ?? 0))
    }
}

/// The server answered, but not in a way the client can use.
enum ProtocolError: Error, Sendable, Equatable {
    case graphQL(String)
    case malformedResponse(String)
}

/// `_wandb.value.m`: each table's own x-axis, as `define_metric` would declare it
/// (docs/wandb-protocol.md, "One x-axis per table"): the axis `<table>/$step` first, then the glob `<table>/*`
/// whose `"5"` (1-based index of its step metric in this list) points at it.
enum MetricDefinitions {
    static func entries(tables: [String]) -> JSONValue {
        var entries: [JSONValue] = []
        for table in tables {
            let axisIndex = Int64(entries.count + 1)
            entries.append(.object(["1": .string("\(table)/$step"), "6": [3], "7": []]))
            entries.append(.object(["2": .string("\(table)/*"), "5": .int(axisIndex), "6": [1], "7": []]))
        }
        return .array(entries)
    }
}
