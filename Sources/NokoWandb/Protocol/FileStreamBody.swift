import NokoCore

/// A file_stream request body (docs/wandb-protocol.md, "file_stream"):
/// `{"files": {"wandb-history.jsonl": {"offset", "content"}, "wandb-events.jsonl": …,
/// "output.log": …, "wandb-summary.json": {"offset": 0, "content": [whole summary]}},
/// "uploaded": [run files], "complete": true, "exitcode": n}`, each
/// part present only when it has something; `{}` is the heartbeat.
enum FileStreamBody {
    /// Assembles a body. `historyContent` holds the history lines already written as
    /// comma-separated JSON string literals (``HistoryTranslator``).
    static func make(
        historyOffset: Int64, historyContent: [UInt8], historyLineCount: Int, summary: JSONValue?,
        exitCode: Int64?, eventsOffset: Int64 = 0, eventsContent: [UInt8] = [], eventsLineCount: Int = 0,
        consoleOffset: Int64 = 0, consoleContent: [UInt8] = [], consoleLineCount: Int = 0, uploaded: [String] = []
    ) -> [UInt8] {
        var writer = WireWriter(capacity: historyContent.count + eventsContent.count + consoleContent.count + 512)
        writer.append(0x7B)
        var needsComma = false
        if historyLineCount > 0 || summary != nil || eventsLineCount > 0 || consoleLineCount > 0 {
            writer.append("\"files\":{")
            var fileComma = false
            /// `"name":{"offset":n,"content":[lines]}`, `lines` already string literals.
            func appendFile(_ name: String, offset: Int64, lines: [UInt8]) {
                if fileComma { writer.append(0x2C) }
                writer.bytes.append(contentsOf: "\"\(name)\":{\"offset\":".utf8)
                writer.writeInt(offset)
                writer.append(",\"content\":[")
                writer.bytes.append(contentsOf: lines)
                writer.append("]}")
                fileComma = true
            }
            if historyLineCount > 0 { appendFile("wandb-history.jsonl", offset: historyOffset, lines: historyContent) }
            if eventsLineCount > 0 { appendFile("wandb-events.jsonl", offset: eventsOffset, lines: eventsContent) }
            if consoleLineCount > 0 { appendFile("output.log", offset: consoleOffset, lines: consoleContent) }
            if let summary {
                if fileComma { writer.append(0x2C) }
                var line = WireWriter(capacity: 1024)
                line.write(summary)
                writer.append("\"wandb-summary.json\":{\"offset\":0,\"content\":[")
                writer.writeEscaped(line.bytes)
                writer.append("]}")
            }
            writer.append(0x7D)
            needsComma = true
        }
        if !uploaded.isEmpty {
            if needsComma { writer.append(0x2C) }
            writer.append("\"uploaded\":[")
            for (i, name) in uploaded.enumerated() {
                if i > 0 { writer.append(0x2C) }
                writer.writeString(name)
            }
            writer.append(0x5D)
            needsComma = true
        }
        if let exitCode {
            if needsComma { writer.append(0x2C) }
            writer.append("\"complete\":true,\"exitcode\":")
            writer.writeInt(exitCode)
        }
        writer.append(0x7D)
        return writer.bytes
    }

    /// The summary object sent: derived values, the user's keys over them, and
    /// `_wandb.runtime` in whole seconds as the SDK sends it: `runtime` (the run's whole
    /// runtime, known at its end), else the last row's `_runtime`.
    static func summaryObject(derived: [String: JSONValue], user: [String: JSONValue], runtime: Double? = nil) -> JSONValue {
        var members = derived
        for (key, value) in user { members[key] = value }
        if members["_wandb"] == nil, let runtime = runtime ?? derived["_runtime"]?.doubleValue, runtime.isFinite {
            members["_wandb"] = .object(["runtime": .int(Int64(runtime.rounded(.down)))])
        }
        return .object(members)
    }

    /// Whether a file_stream answer asks the run to stop (`{"stopped": true}`).
    static func stopRequested(in response: [UInt8]) -> Bool {
        guard !response.isEmpty, let json = try? JSONValue(parsing: response) else { return false }
        return json["stopped"]?.boolValue == true
    }
}
