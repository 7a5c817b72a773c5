import Foundation
import NokoCore
import Testing

@testable import NokoCLI

extension Fixtures {
    /// A run made to exercise charts, logged through noko's own outputs (journal, CSV,
    /// summary): table `train` with `rows` rows (more than the summary's 1,024 buckets, so
    /// buckets merge) and table `epoch` with 5.
    ///
    /// `train` columns: `loss` (10 → 0.001: four orders of magnitude), `train/acc`
    /// (0.5…1), `train/grad_norm` (a spike of 1,000 at row rows/3), `eval/score` (every 10th
    /// row only), `negative` (all below zero), `flag` (a bool), `phase` (a string: no chart),
    /// and with `nonFinite`, `weird` (NaN at rows 100–102, +∞ at 200, −∞ at 300). Table
    /// `final` has one row (`score`, `verdict`): shown as values, not charts.
    @discardableResult
    func chartRun(
        _ name: String, rows: Int, seed: UInt64, config: JSONValue, nonFinite: Bool = true, host: String = "box-1"
    ) throws -> URL {
        let directory = url("runs/\(name)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let checkpoint = String(repeating: String(seed % 10), count: 40)
        try write(
            [
                "format_version": 1, "run_name": .string(name), "status": "finished", "start_time": .double(Fixtures.start),
                "end_time": .double(Fixtures.start + 95), "host": .string(host), "seed": .int(Int64(seed)),
                "git": [
                    "root": "/home/alice/project", "branch": "main", "detached": false, "head": .string(checkpoint),
                    "dirty": false, "checkpoint": .string(checkpoint), "files": 10, "bytes": 1000, "skipped": [],
                ],
            ], to: directory.appendingPathComponent("metadata.json"))
        try write(config, to: directory.appendingPathComponent("config.json"))
        let logger = NokoLogger(
            directory: directory,
            outputs: [
                try NDJSONOutput(url: directory.appendingPathComponent("noko.ndjson")), CSVOutput(directory: directory),
                StatisticsOutput(url: directory.appendingPathComponent("summary.json")),
            ],
            flushInterval: nil, messages: Fixtures.quietMessages, summarizers: SummarizerRegistry(),
            clock: .stepping(from: Fixtures.start + 1, by: 0.01))
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func noise() -> Double {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Double(state % 10_000) / 10_000 - 0.5
        }
        for i in 0..<rows {
            let t = Double(i) / Double(rows - 1)
            var row: [String: Any] = [
                "loss": 10 * exp(-9.21 * t) * (1 + 0.2 * noise()),
                "train/acc": 0.5 + 0.45 * t + 0.02 * noise(),
                "train/grad_norm": i == rows / 3 ? 1000.0 : 1 + noise(),
                "negative": -1 - Double(i) - 3 * noise(),
                "flag": i % 3 == 0,
                "phase": i % 2 == 0 ? "warmup" : "train",
            ]
            if i % 10 == 0 { row["eval/score"] = 50 + 10 * t + noise() }
            if nonFinite {
                switch i {
                case 100...102: row["weird"] = Double.nan
                case 200: row["weird"] = Double.infinity
                case 300: row["weird"] = -Double.infinity
                default: row["weird"] = sin(Double(i) / 50)
                }
            }
            logger.logRow("train", row, level: .trace)
        }
        logger.logRow("final", ["score": 0.9 + Double(seed) / 100, "verdict": "ok"] as [String: Any], level: .results)
        for epoch in 0..<5 {
            logger.logRow("epoch", ["acc": 0.6 + 0.05 * Double(epoch) + 0.01 * noise()], step: epoch, level: .results)
        }
        logger.close()
        return directory
    }

    /// The charts `chartRun` runs must get (as `table/key`).
    static func chartColumns(nonFinite: Bool = true) -> [String] {
        ["train/loss", "train/train/acc", "train/train/grad_norm", "train/eval/score", "train/negative", "train/flag", "epoch/acc"]
            + (nonFinite ? ["train/weird"] : [])
    }
}

/// Runs `python/check_report.py` (html5lib, strict) on a rendered page.
enum ReportPython {
    /// python3 that can import html5lib, or nil (the checks are then skipped, saying why).
    static let interpreter: String? = {
        var candidates = ["/usr/bin/python3", "/usr/local/bin/python3"]
        if let path = ProcessInfo.processInfo.environment["PATH"] {
            candidates += path.split(separator: ":").map { "\($0)/python3" }
        }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            if (try? runCapturing(candidate, ["-c", "import html5lib"]).status) == 0 { return candidate }
        }
        return nil
    }()

    /// Whether the checks run: `make test` (and so CI) sets `NOKO_REQUIRE_INTEROP=1`, which
    /// turns a missing html5lib from a skip into a failure.
    static var isAvailable: Bool {
        interpreter != nil || ProcessInfo.processInfo.environment["NOKO_REQUIRE_INTEROP"] == "1"
    }

    /// Checks `html` against `spec` (see the script's docstring); returns the script's
    /// output, recording an issue when a check fails.
    @discardableResult
    static func check(_ html: URL, spec: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try verdict(html, spec: spec)
        if result.status != 0 {
            Issue.record("check_report.py failed (exit \(result.status)):\n\(result.output)", sourceLocation: sourceLocation)
        }
        return result.output
    }

    /// The script's exit status and output for `html` against `spec`.
    static func verdict(_ html: URL, spec: JSONValue) throws -> (status: Int32, output: String) {
        let specURL = html.deletingLastPathComponent().appendingPathComponent(html.lastPathComponent + ".spec.json")
        try Data(spec.serializedBytes(pretty: true)).write(to: specURL)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("python/check_report.py").path
        let python = try #require(interpreter, "python3 with html5lib is required (pip install html5lib)")
        return try runCapturing(python, [script, html.path, specURL.path])
    }
}

/// Runs a program to completion; its exit status (the signal number when a signal ended
/// it) and its stdout and stderr together.
func runCapturing(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    // One pipe for both streams, read to the end before waiting: the child never blocks.
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}
