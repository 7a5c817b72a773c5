import Foundation
import NokoCore
import Testing

@testable import NokoCLI

/// Run directories built the way noko writes them, with fixed clocks and values, so
/// golden outputs never depend on the time, the host or the temp path.
final class Fixtures: Sendable {
    /// "Now" for every command in the tests: 2026-11-27 12:00:00 UTC.
    static let now = 1_795_780_800.0
    /// When fixture runs start: 2026-11-27 11:00:00 UTC.
    static let start = 1_795_777_200.0

    /// A scratch directory; run directories go in `root/runs`.
    let root: URL

    init(_ label: String = #function) {
        let safe = label.filter { $0.isLetter || $0.isNumber }
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("noko-cli-\(safe)-\(UUID().uuidString.prefix(8))")
        try! FileManager.default.createDirectory(at: root.appendingPathComponent("runs"), withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: root)
    }

    /// A context with the fixed clock, UTC, no colour, the scratch directory as working directory.
    func context(terminal: Terminal = .plain, environment: [String: String] = [:]) -> CommandContext {
        .capturing(terminal: terminal, now: Fixtures.now, environment: environment, workingDirectory: root)
    }

    /// Parses `arguments` as `noko-run` would and runs the command; returns its standard output.
    @discardableResult
    func run(_ arguments: [String], context: CommandContext? = nil) throws -> String {
        let context = context ?? self.context()
        try NokoRun.parseCommand(arguments).run(in: context)
        return context.capturedOutput
    }

    func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    // MARK: - Runs

    /// A noko run with every file the run module writes: metadata (finished), config, seeds,
    /// a git record, a wandb record, and two tables logged through noko's own outputs.
    @discardableResult
    func finishedRun(
        _ name: String = "train_a", lr: Double = 0.1, batch: Int = 64, optimizer: String = "sgd", epochs: Int = 12,
        status: String = "finished", exitCode: Int? = 0, git: Bool = true, wandb: Bool = true
    ) throws -> URL {
        let directory = url("runs/\(name)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var metadata: [String: JSONValue] = [
            "format_version": 1, "run_name": .string(name), "run_dir": .string(directory.path), "noko_version": "0.1.0",
            "status": .string(status), "start_time": .double(Fixtures.start), "heartbeat_interval": 10,
            "argv": [".build/release/train", "--lr", .string(String(lr)), "--note", "two words"],
            "program": "train", "cwd": "/home/alice/project", "host": "gpu-node-1", "user": "alice", "pid": 4242,
            "os": "Ubuntu 24.04", "swift_version": "6.3.1", "rank": 0, "world_size": 1, "seed": 42,
            "environment": ["CUDA_VISIBLE_DEVICES": "0"],
        ]
        if status == "running" {
            metadata["heartbeat"] = .double(Fixtures.now - 4)
        } else {
            metadata["end_time"] = .double(Fixtures.start + 3723.5)
            metadata["heartbeat"] = .double(Fixtures.start + 3720)
        }
        if let exitCode { metadata["exit_code"] = .int(Int64(exitCode)) }
        if status == "finished" { metadata["summary"] = ["best_accuracy": 0.94, "note": "converged"] }
        if status == "killed" { metadata["signal"] = "SIGTERM" }
        if git {
            metadata["git"] = [
                "root": "/home/alice/project", "branch": "main", "detached": false,
                "head": "1111111111111111111111111111111111111111", "dirty": true,
                "checkpoint": "2222222222222222222222222222222222222222", "checkpoint_branch": "noko-checkpoints",
                "previous_checkpoint": "3333333333333333333333333333333333333333", "files": 214, "bytes": 1_234_567,
                "skipped": [["path": "data/big.bin", "reason": "too_large", "size": 120_000_000]],
                "remote_url": "https://github.com/alice/project.git",
                "from_head": ["files_changed": 2, "insertions": 10, "deletions": 3],
                "from_last_checkpoint": ["files_changed": 1, "insertions": 1, "deletions": 1],
            ]
        } else {
            metadata["git"] = .null
        }
        if wandb {
            metadata["remotes"] = [
                "wandb": [
                    "entity": "alice", "project": "proj", "run_id": .string("id-\(name)"),
                    "url": .string("https://wandb.ai/alice/proj/runs/id-\(name)"), "mode": "online",
                ]
            ]
        }
        try write(.object(metadata), to: directory.appendingPathComponent("metadata.json"))
        try write(
            ["lr": .double(lr), "batch_size": .int(Int64(batch)), "optimizer": ["name": .string(optimizer), "momentum": 0.9], "seed": 42, "tags": ["a", "b"]],
            to: directory.appendingPathComponent("config.json"))
        try write(["root_seed": 42, "generators": ["data": 7_001, "init": 7_002]], to: directory.appendingPathComponent("seeds.json"))
        try logRows(into: directory, epochs: epochs, lr: lr)
        return directory
    }

    /// Logs an `epoch` table (RESULTS) and a `grad_step` table with arrays, strings, a bool
    /// and a NaN, through NDJSON, CSV and summary outputs with a stepping clock.
    func logRows(into directory: URL, epochs: Int, lr: Double, summary: Bool = true) throws {
        var outputs: [any LogOutput] = [
            try NDJSONOutput(url: directory.appendingPathComponent("noko.ndjson")), CSVOutput(directory: directory),
        ]
        if summary { outputs.append(StatisticsOutput(url: directory.appendingPathComponent("summary.json"))) }
        let logger = NokoLogger(
            directory: directory, outputs: outputs, flushInterval: nil, messages: Fixtures.quietMessages,
            summarizers: SummarizerRegistry(), clock: .stepping(from: Fixtures.start + 1, by: 0.25))
        for epoch in 0..<epochs {
            for batch in 0..<10 {
                let i = Double(epoch * 10 + batch)
                let weights = (0..<4).map { Double($0) * lr + sin(i / 7 + Double($0)) }
                let loss: Double = epoch == 3 && batch == 5 ? .nan : 1.5 / (1 + i * lr) + 0.01 * cos(i)
                logger.logRow(
                    "grad_step",
                    ["loss": loss, "weights": weights, "phase": batch % 2 == 0 ? "even" : "odd", "clipped": batch == 9,
                     "epoch": epoch] as [String: Any],
                    level: .trace)
            }
            let accuracy = 0.5 + 0.45 * (1 - exp(-Double(epoch + 1) * lr * 3))
            logger.logRow(
                "epoch", ["test_accuracy": accuracy, "test_loss": 1 / Double(epoch + 2), "constant": 1] as [String: Any],
                step: epoch, level: .results)
        }
        logger.logRow("results", ["final_accuracy": 0.5 + 0.45 * (1 - exp(-Double(epochs) * lr * 3)), "verdict": "good"] as [String: Any], level: .results)
        logger.close()
    }

    /// A run that crashed: `running` on record, a `crash` file with the signal.
    @discardableResult
    func crashedRun(_ name: String = "train_crashed") throws -> URL {
        let directory = try finishedRun(name, status: "running", exitCode: nil, wandb: false)
        try Data("SIGSEGV\n".utf8).write(to: directory.appendingPathComponent("crash"))
        return directory
    }

    /// A run directory as Python noko writes it: a journal with bare NaN/Infinity, CSV files
    /// named after the tables as they are (`w1_rows.py:133.csv`), no metadata or summary.
    /// An imitation, kept for what the real one (`PythonNokoInteropTests`) cannot give: fixed
    /// times for the golden outputs, a run without its journal, a call-site table name.
    @discardableResult
    func pythonRun(_ name: String = "py_run", journal: Bool = true, rows: Int = 30) throws -> URL {
        let directory = url("runs/\(name)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var lines = ""
        var csv = "$level,$localtime,$step,$table,$utc_timestamp,loss,phase,reward\n"
        for step in 0..<rows {
            let time = Fixtures.start + Double(step)
            let loss = step == 7 ? "NaN" : step == 8 ? "Infinity" : String(2.0 / Double(step + 1))
            let csvLoss = step == 7 ? "nan" : step == 8 ? "inf" : String(2.0 / Double(step + 1))
            let reward = Double(step % 5) - 1.5
            lines += "{\"$localtime\": \"2026-11-27T11:00:\(String(format: "%02d", step % 60))\", \"$utc_timestamp\": \(time), \"$step\": \(step), \"$level\": 20, \"$table\": \"w1_rows.py:133\", \"loss\": \(loss), \"phase\": \"train\", \"reward\": \(reward)}\n"
            csv += "20,2026-11-27T11:00:00,\(step),w1_rows.py:133,\(time),\(csvLoss),train,\(reward)\n"
        }
        if journal { try Data(lines.utf8).write(to: directory.appendingPathComponent("noko.ndjson")) }
        try Data(csv.utf8).write(to: directory.appendingPathComponent("w1_rows.py:133.csv"))
        return directory
    }

    func write(_ value: JSONValue, to url: URL) throws {
        try Data(value.serializedBytes(pretty: true)).write(to: url)
    }

    static let quietMessages: Logging.Logger = {
        var logger = Logging.Logger(label: "fixtures") { _ in SwallowingLogHandler() }
        logger.logLevel = .critical
        return logger
    }()
}

import Logging

/// Drops every message (fixture logging is expected to warn about the NaN).
struct SwallowingLogHandler: LogHandler {
    var metadata: Logging.Logger.Metadata = [:]
    var logLevel: Logging.Logger.Level = .critical
    subscript(metadataKey key: String) -> Logging.Logger.Metadata.Value? {
        get { nil }
        set {}
    }
    func log(event: LogEvent) {}
}
