import Foundation
import Logging
import Synchronization
@testable import NokoCore

/// Runs `python/parquet_check.py` (pyarrow and DuckDB) for the Parquet interop tests.
enum ParquetPython {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("python/parquet_check.py").path

    /// Whether python3 can import pyarrow and duckdb; the interop tests are skipped otherwise.
    static let isAvailable: Bool = {
        (try? run(["-c", "import pyarrow, duckdb"], script: false).status) == 0
    }()

    /// Runs the check script with `arguments`; returns its exit status and output.
    static func run(_ arguments: [String], script useScript: Bool = true) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + (useScript ? [script] : []) + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Runs the check script and parses its JSON output; a failing check throws its message.
    static func check(_ arguments: [String]) throws -> JSONValue {
        let (status, output) = try run(arguments)
        guard status == 0 else { throw ParquetError(file: nil, "parquet_check.py \(arguments.first ?? ""): \(output)") }
        let lastLine = output.split(separator: "\n").last.map(String.init) ?? ""
        return try JSONValue(parsing: lastLine)
    }

    /// Has pyarrow compare every value of `file` with `columns`.
    static func expect(_ file: URL, columns: [(name: String, type: ParquetColumnType, values: [Scalar])]) throws -> JSONValue {
        let expected: JSONValue = [
            "columns": .array(
                columns.map { column in
                    ["name": .string(column.name), "type": .string(column.type.description), "values": .array(column.values.map(JSONValue.init))]
                })
        ]
        let json = file.deletingPathExtension().appendingPathExtension("expected.json")
        try Data(expected.serializedBytes()).write(to: json)
        return try check(["expect", file.path, json.path])
    }
}

/// A fresh empty directory for one test.
func parquetScratchDirectory(_ label: String = #function) -> URL {
    let safe = label.filter { $0.isLetter || $0.isNumber }
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("noko-parquet-tests-\(safe)-\(UUID().uuidString.prefix(8))")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Makes rows the way the logger does: one shared schema per distinct key list.
final class ParquetTestRows {
    private var schemas: [[String]: RowSchema] = [:]
    private var steps: [String: Int] = [:]

    func row(
        _ pairs: KeyValuePairs<String, Scalar>, table: String = "t", level: LogLevel = .info, step: Int? = nil
    ) -> SummarizedRow {
        let keys = pairs.map(\.key)
        let schema = schemas[keys] ?? RowSchema(keys: keys)
        schemas[keys] = schema
        let s = step ?? steps[table, default: 0]
        steps[table] = s + 1
        return SummarizedRow(
            table: table, step: s, level: level, time: Self.time(s), schema: schema, values: pairs.map(\.value))
    }

    static func time(_ step: Int) -> RowTime {
        RowTime(utcTimestamp: 1_700_000_000.25 + Double(step), localTime: "2023-11-14T22:13:\(String(format: "%02d", step % 60))")
    }
}

/// A swift-log logger whose messages a test can read back (warnings about type changes, repairs).
final class ParquetRecordedMessages: Sendable {
    private let lines = Mutex<[String]>([])

    /// Everything logged so far, as `level: message`.
    var all: [String] { lines.withLock { $0 } }

    /// A logger that records into this object.
    var logger: Logger { Logger(label: "noko") { _ in Handler(recorder: self) } }

    fileprivate func record(_ line: String) { lines.withLock { $0.append(line) } }

    private struct Handler: LogHandler {
        let recorder: ParquetRecordedMessages
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) { recorder.record("\(event.level): \(event.message)") }
    }
}
