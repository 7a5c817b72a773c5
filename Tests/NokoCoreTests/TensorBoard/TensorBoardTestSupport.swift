import Foundation
import NokoCore
import Testing

/// Helpers for the TensorBoard tests: rows, expected events and the Python check.
enum TensorBoardTestSupport {
    /// `python/check_tensorboard.py` of this test target.
    static let checkScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("python/check_tensorboard.py").path

    /// A python3 that can import TensorBoard; CI installs it, so this is only nil on a
    /// developer machine without it, where the checks skip.
    static let pythonWithTensorBoard: String? = python(with: ["tensorboard"])

    /// Whether the checks run; when required, a missing TensorBoard fails them.
    static var pythonCheckAvailable: Bool { pythonWithTensorBoard != nil || interopRequired }

    static let skipReason: Comment =
        "needs python3 with the tensorboard package (pip install tensorboard; make test installs it)"

    /// Runs the Python check on `directory` against `expected`; returns its status and what it printed.
    static func check(directory: URL, expected: JSONValue) throws -> (status: Int32, output: String) {
        let python = try #require(pythonWithTensorBoard, skipReason)
        let expectedFile = FileManager.default.temporaryDirectory
            .appendingPathComponent("noko-tb-expected-\(UUID().uuidString.prefix(8)).json")
        try Data(expected.serializedBytes()).write(to: expectedFile)
        defer { try? FileManager.default.removeItem(at: expectedFile) }
        let result = try run(python, [checkScript, directory.path, expectedFile.path])
        return (result.status, result.stdout + result.stderr)
    }

    static func row(
        _ table: String, step: Int, time: Double, _ pairs: [(String, Scalar)], schema: RowSchema? = nil,
        level: LogLevel = .info
    ) -> SummarizedRow {
        SummarizedRow(
            table: table, step: step, level: level, time: RowTime(utcTimestamp: time, localTime: "2024-01-01T00:00:00"),
            schema: schema ?? RowSchema(keys: pairs.map(\.0)), values: pairs.map(\.1))
    }

    /// The events TensorBoard should read back, built from the rows by the rules
    /// (written independently of the encoder): tag `<table>/<key>` with `:` as `_`, numbers
    /// and booleans as float32, strings and nulls absent.
    struct ExpectedScalars {
        private(set) var events: [String: [JSONValue]] = [:]

        mutating func add(_ row: SummarizedRow) {
            for (key, value) in zip(row.schema.keys, row.values) {
                let number: Double
                switch value {
                case .int(let v): number = Double(v)
                case .double(let v): number = v
                case .bool(let v): number = v ? 1 : 0
                case .null, .string: continue
                }
                let tag = "\(row.table)/\(key)".replacingOccurrences(of: ":", with: "_")
                events[tag, default: []].append([.int(Int64(row.step)), .double(row.time.utcTimestamp), .double(Double(Float(number)))])
            }
        }

        var json: JSONValue { .object(events.mapValues { .array($0) }) }
    }

    /// The expected-values document of `check_tensorboard.py`.
    static func expectation(
        scalars: ExpectedScalars, hparams: JSONValue = nil, dashboard: JSONValue = nil
    ) -> JSONValue {
        ["scalars": scalars.json, "hparams": hparams, "dashboard": dashboard]
    }
}
