import Foundation
import Logging
import NokoCore
import Synchronization
import Testing

/// Helpers for the TensorBoard tests: rows, expected events, the Python check, captured messages.
enum TensorBoardTestSupport {
    /// `python/check_tensorboard.py`, found next to this file.
    static let checkScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("python/check_tensorboard.py")

    /// Whether `python3` can import TensorBoard here; CI installs it, so this is only false on
    /// a developer machine without it.
    static let pythonCheckAvailable: Bool = (try? runPython([checkScript.path, "--probe"]).status) == 0

    static let skipReason: Comment =
        "needs python3 with the tensorboard package (pip install tensorboard; CI installs it)"

    /// Runs `python3` with `arguments`; returns the exit status and what it printed.
    static func runPython(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Runs the Python check on `directory` against `expected`; returns its status and output.
    static func check(directory: URL, expected: JSONValue) throws -> (status: Int32, output: String) {
        let expectedFile = directory.deletingLastPathComponent()
            .appendingPathComponent("expected-\(UUID().uuidString.prefix(8)).json")
        try Data(expected.serializedBytes()).write(to: expectedFile)
        defer { try? FileManager.default.removeItem(at: expectedFile) }
        return try runPython([checkScript.path, directory.path, expectedFile.path])
    }

    /// A fresh directory, removed by the caller.
    static func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("noko-tb-tests-\(UUID().uuidString.prefix(12))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
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

    /// The only event file in `directory`.
    static func eventFile(in directory: URL) throws -> URL {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasPrefix("events.out.tfevents.") }
        guard names.count == 1 else { throw CocoaError(.fileReadUnknown) }
        return directory.appendingPathComponent(names[0])
    }

    /// Collects log messages, for checking warnings.
    final class MessageCapture: Sendable {
        private let lines = Mutex<[String]>([])

        var messages: [String] { lines.withLock { $0 } }

        var logger: Logging.Logger {
            var logger = Logging.Logger(label: "noko") { _ in Handler(capture: self) }
            logger.logLevel = .trace
            return logger
        }

        struct Handler: LogHandler {
            let capture: MessageCapture
            var metadata: Logging.Logger.Metadata = [:]
            var logLevel: Logging.Logger.Level = .trace

            subscript(metadataKey key: String) -> Logging.Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }

            func log(event: LogEvent) {
                capture.lines.withLock { $0.append("\(event.level): \(event.message)") }
            }
        }
    }
}
