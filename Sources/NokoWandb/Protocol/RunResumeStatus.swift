import Foundation
import NokoCore

/// The GraphQL `RunResumeStatus` query: what the server holds of a run, asked when noko
/// continues a run whose server history is longer than its cursor knows (docs/wandb-protocol.md,
/// "Continuing a run"). The query text is byte-for-byte wandb-core's.
enum RunResumeStatus {
    static let query =
        "\nquery RunResumeStatus ($project: String, $entity: String, $name: String!) {\n\tmodel(name: $project, entityName: $entity) {\n\t\tid\n\t\tname\n\t\tentity {\n\t\t\tid\n\t\t\tname\n\t\t}\n\t\tbucket(name: $name, missingOk: true) {\n\t\t\tid\n\t\t\tname\n\t\t\tsummaryMetrics\n\t\t\tdisplayName\n\t\t\tlogLineCount\n\t\t\thistoryLineCount\n\t\t\teventsLineCount\n\t\t\thistoryTail\n\t\t\teventsTail\n\t\t\tconfig\n\t\t\ttags\n\t\t\tnotes\n\t\t\twandbConfig(keys: [\"t\"])\n\t\t}\n\t}\n}\n"

    static func body(project: String, entity: String?, runID: String) -> [UInt8] {
        var writer = WireWriter(capacity: 1024)
        writer.append("{\"query\":")
        writer.writeString(query)
        writer.append(",\"variables\":{\"project\":")
        writer.writeString(project)
        writer.append(",\"entity\":")
        if let entity { writer.writeString(entity) } else { writer.append("null") }
        writer.append(",\"name\":")
        writer.writeString(runID)
        writer.append("},\"operationName\":\"RunResumeStatus\"}")
        return writer.bytes
    }

    /// What the server holds: nil fields where the answer had none.
    struct Result: Sendable, Equatable {
        var historyLineCount: Int64
        var eventsLineCount: Int64
        var logLineCount: Int64
        /// The last history lines, oldest first.
        var historyTail: [String]
        /// The config's keys, unwrapped from `{"value": v}`, `_wandb` left out.
        var config: [String: JSONValue]
        /// The summary's keys, when the server's summary is strict JSON (a NaN in it is not).
        var summary: [String: JSONValue]?
    }

    /// Reads the answer; nil (success) when the server has no such run.
    static func parse(_ body: [UInt8]) -> Swift.Result<Result?, ProtocolError> {
        guard let json = try? JSONValue(parsing: body) else {
            return .failure(.malformedResponse("RunResumeStatus answer is not JSON"))
        }
        if let errors = json["errors"]?.arrayValue, !errors.isEmpty {
            let messages = errors.compactMap { $0["message"]?.stringValue }
            return .failure(.graphQL(messages.isEmpty ? "unknown GraphQL error" : messages.joined(separator: "; ")))
        }
        guard let bucket = json["data"]?["model"]?["bucket"], bucket != .null else { return .success(nil) }
        func decoded(_ key: String) -> JSONValue? {
            bucket[key]?.stringValue.flatMap { try? JSONValue(parsing: Array($0.utf8)) }
        }
        var config: [String: JSONValue] = [:]
        for (key, value) in decoded("config")?.objectValue ?? [:] where key != "_wandb" {
            config[key] = value["value"] ?? value
        }
        return .success(
            Result(
                historyLineCount: bucket["historyLineCount"]?.intValue ?? 0,
                eventsLineCount: bucket["eventsLineCount"]?.intValue ?? 0,
                logLineCount: bucket["logLineCount"]?.intValue ?? 0,
                historyTail: decoded("historyTail")?.arrayValue?.compactMap(\.stringValue) ?? [],
                config: config,
                summary: decoded("summaryMetrics")?.objectValue))
    }
}
