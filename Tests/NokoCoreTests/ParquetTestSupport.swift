import Foundation
import Testing
@testable import NokoCore

/// Runs `python/parquet_check.py` (pyarrow and DuckDB) for the Parquet interop tests.
enum ParquetPython {
    /// python3 with pyarrow and duckdb, or nil (the interop tests are then skipped).
    static let interpreter: String? = python(with: ["pyarrow", "duckdb"])

    /// Whether the interop tests run; when required, a missing interpreter fails them.
    static var isAvailable: Bool { interpreter != nil || interopRequired }

    /// Runs the check script and parses its JSON output; a failing check throws its message.
    static func check(_ arguments: [String]) throws -> JSONValue {
        let python = try #require(interpreter, "python3 with pyarrow and duckdb is required (pip install pyarrow duckdb)")
        let result = try run(python, [pythonScript("parquet_check.py")] + arguments)
        guard result.status == 0 else {
            throw ParquetError(file: nil, "parquet_check.py \(arguments.first ?? ""): \(result.stdout)\(result.stderr)")
        }
        let lastLine = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        return try JSONValue(parsing: lastLine)
    }

    /// Has pyarrow compare every value of `file` with `columns`.
    static func expect(_ file: URL, columns: [(name: String, type: ParquetColumnType, values: [Scalar])]) throws -> JSONValue {
        let expected: JSONValue = [
            "columns": .array(
                columns.map { column in
                    [
                        "name": .string(column.name), "type": .string(column.type.description),
                        "values": .array(column.values.map(JSONValue.init)),
                    ]
                })
        ]
        let json = file.deletingPathExtension().appendingPathExtension("expected.json")
        try Data(expected.serializedBytes()).write(to: json)
        return try check(["expect", file.path, json.path])
    }
}

/// Makes rows the way the logger does: one shared schema per distinct key list, steps per table.
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

extension Scalar {
    /// This value as the Parquet output stores it in a column of `type` (see ``ParquetColumnType``).
    func converted(to type: ParquetColumnType) -> Scalar {
        switch (self, type) {
        case (.null, _): return .null
        case (.bool(let v), .int64): return .int(v ? 1 : 0)
        case (.bool(let v), .double): return .double(v ? 1 : 0)
        case (.int(let v), .double): return .double(Double(v))
        case (.bool, .string), (.int, .string), (.double, .string): return .string(description)
        default: return self
        }
    }
}
