import Foundation
import NokoCore

/// The GraphQL `CreateRunFiles` mutation: one upload URL per run file, each then `PUT`
/// without credentials (docs/wandb-protocol.md, "Run files"). The query text is
/// byte-for-byte wandb-core's.
enum CreateRunFiles {
    static let query =
        "\nmutation CreateRunFiles ($entity: String!, $project: String!, $run: String!, $files: [String!]!) {\n\tcreateRunFiles(input: {entityName:$entity,projectName:$project,runName:$run,files:$files}) {\n\t\trunID\n\t\tuploadHeaders\n\t\tfiles {\n\t\t\tname\n\t\t\tuploadUrl\n\t\t}\n\t}\n}\n"

    static func body(entity: String, project: String, runID: String, files: [String]) -> [UInt8] {
        var writer = WireWriter(capacity: 1024)
        writer.append("{\"query\":")
        writer.writeString(query)
        writer.append(",\"variables\":{\"entity\":")
        writer.writeString(entity)
        writer.append(",\"project\":")
        writer.writeString(project)
        writer.append(",\"run\":")
        writer.writeString(runID)
        writer.append(",\"files\":[")
        for (i, name) in files.enumerated() {
            if i > 0 { writer.append(0x2C) }
            writer.writeString(name)
        }
        writer.append("]},\"operationName\":\"CreateRunFiles\"}")
        return writer.bytes
    }

    /// Where each file goes, and the header lines every PUT carries.
    struct Result: Sendable, Equatable {
        var uploadURLs: [String: String]
        /// `"Key:Value"` strings as the server gives them, turned into `"Key: Value"` lines.
        var headers: [String]
    }

    static func parse(_ body: [UInt8]) -> Swift.Result<Result, ProtocolError> {
        guard let json = try? JSONValue(parsing: body) else {
            return .failure(.malformedResponse("CreateRunFiles answer is not JSON"))
        }
        if let errors = json["errors"]?.arrayValue, !errors.isEmpty {
            let messages = errors.compactMap { $0["message"]?.stringValue }
            return .failure(.graphQL(messages.isEmpty ? "unknown GraphQL error" : messages.joined(separator: "; ")))
        }
        guard let created = json["data"]?["createRunFiles"], let files = created["files"]?.arrayValue else {
            return .failure(.malformedResponse("CreateRunFiles answer lacks files"))
        }
        var urls: [String: String] = [:]
        for file in files {
            if let name = file["name"]?.stringValue, let url = file["uploadUrl"]?.stringValue { urls[name] = url }
        }
        let headers = (created["uploadHeaders"]?.arrayValue ?? []).compactMap { entry -> String? in
            guard let text = entry.stringValue, let colon = text.firstIndex(of: ":") else { return nil }
            let name = text[..<colon].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { return nil }
            return name + ": " + text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return .success(Result(uploadURLs: urls, headers: headers))
    }
}
