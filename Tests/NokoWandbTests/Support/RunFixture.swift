#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NokoCore
import NokoWandb
import NokoRemoteSync
import NokoWandbTestSupport
import Synchronization

/// A run directory for wandb tests: `metadata.json` and a journal written the way noko's
/// logger writes it (one strict-JSON line per row, one `write` per row).
final class RunFixture: Sendable {
    let directory: URL
    let startTime: Double
    private let journal: Mutex<Int32>
    private let steps = Mutex<[String: Int64]>([:])

    init(name: String = "run", status: String = "running", exitCode: Int64? = nil, startTime: Double = 1_795_769_873.0) {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("noko-wandb-tests-\(UUID().uuidString.prefix(8))")
            .appendingPathComponent(name)
        try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.startTime = startTime
        journal = Mutex(open(directory.appendingPathComponent("noko.ndjson").path, O_WRONLY | O_CREAT | O_APPEND, 0o644))
        writeMetadata(status: status, exitCode: exitCode)
    }

    deinit {
        journal.withLock { _ = close($0) }
    }

    func writeMetadata(status: String, exitCode: Int64? = nil, extra: [String: JSONValue] = [:]) {
        var metadata: [String: JSONValue] = [
            "format_version": 1, "run_name": .string(directory.lastPathComponent), "status": .string(status),
            "start_time": .double(startTime), "host": "testhost", "program": "train.swift",
            "git": ["head": "1111111111111111111111111111111111111111", "checkpoint": "2222222222222222222222222222222222222222", "remote_url": "https://user:token@example.com/me/repo.git"],
        ]
        metadata["exit_code"] = exitCode.map(JSONValue.int) ?? .null
        for (key, value) in extra { metadata[key] = value }
        try! Data(JSONValue.object(metadata).serializedBytes(pretty: true)).write(
            to: directory.appendingPathComponent("metadata.json"), options: .atomic)
    }

    func writeConfig(_ config: JSONValue) {
        try! Data(config.serializedBytes(pretty: true)).write(to: directory.appendingPathComponent("config.json"))
    }

    /// Appends one row; the step counts per table from 0 unless given. Returns the step.
    @discardableResult
    func log(_ table: String, _ values: [String: JSONValue], step: Int64? = nil, level: Int64 = 20, time: Double? = nil) -> Int64 {
        let step = steps.withLock { steps -> Int64 in
            let s = step ?? steps[table] ?? 0
            steps[table] = s + 1
            return s
        }
        var row = values
        row["$table"] = .string(table)
        row["$step"] = .int(step)
        row["$level"] = .int(level)
        row["$localtime"] = "2026-11-27T10:00:00"
        row["$utc_timestamp"] = .double(time ?? startTime + Double(step) * 0.5)
        appendRaw(JSONValue.object(row).serializedBytes() + [0x0A])
        return step
    }

    /// Appends console lines to `output.log` and their records to `output.index`, as the
    /// console tee writes them (stream 1 stdout, 2 stderr).
    func writeConsole(_ lines: [(stream: Int, text: String)], time: Double) {
        let log = directory.appendingPathComponent("output.log")
        let index = directory.appendingPathComponent("output.index")
        if !FileManager.default.fileExists(atPath: index.path) {
            try! Data("noko-output-index 1 base 0\n".utf8).write(to: index)
            try! Data().write(to: log)
        }
        var offset = UInt64((try? FileManager.default.attributesOfItem(atPath: log.path)[.size] as? UInt64) ?? 0)
        var text = "", records = ""
        for line in lines {
            let bytes = line.text.utf8.count + 1
            text += line.text + "\n"
            records += "\(offset) \(offset + UInt64(bytes)) \(line.stream) \(time)\n"
            offset += UInt64(bytes)
        }
        for (url, content) in [(log, text), (index, records)] {
            let handle = try! FileHandle(forWritingTo: url)
            handle.seekToEndOfFile()
            handle.write(Data(content.utf8))
            try! handle.close()
        }
    }

    func writeFile(_ name: String, _ text: String) {
        try! Data(text.utf8).write(to: directory.appendingPathComponent(name))
    }

    /// Appends bytes as one write (a torn line when there is no newline).
    func appendRaw(_ bytes: [UInt8]) {
        journal.withLock { fd in _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) } }
    }

    func runInfo(config: JSONValue = ["lr": 0.1, "seed": 3, "nested": ["a": 1]]) -> WandbRunInfo {
        WandbRunInfo(
            directory: directory, runName: directory.lastPathComponent, startTime: startTime, config: config,
            host: "testhost", program: "train.swift", gitCommit: "2222222222222222222222222222222222222222",
            gitRemoteURL: "https://user:token@example.com/me/repo.git")
    }

    var journalSize: Int64 {
        (try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("noko.ndjson").path)[.size] as? Int64) ?? 0
    }

    /// `sync/wandb.json` as JSON.
    var syncState: JSONValue? {
        FileManager.default.contents(atPath: directory.appendingPathComponent("sync/wandb.json").path)
            .flatMap { try? JSONValue(parsing: [UInt8]($0)) }
    }

    /// Every file under the run directory, as bytes, by relative path.
    func allFiles() -> [(String, Data)] {
        let enumerator = FileManager.default.enumerator(atPath: directory.path)!
        var files: [(String, Data)] = []
        while let path = enumerator.nextObject() as? String {
            if let data = FileManager.default.contents(atPath: directory.appendingPathComponent(path).path) {
                files.append((path, data))
            }
        }
        return files
    }
}

/// Collects the messages the sync engine emits.
final class MessageLog: Sendable {
    private let messages = Mutex<[WandbMessage]>([])

    var handler: @Sendable (WandbMessage) -> Void {
        { [self] message in messages.withLock { $0.append(message) } }
    }

    var all: [WandbMessage] { messages.withLock { $0 } }

    func texts(atLeast level: LogLevel) -> [String] {
        all.filter { $0.level >= level }.map(\.text)
    }
}

/// Fast timing for tests: milliseconds instead of seconds.
func testOptions(_ server: WandbTestServer, runID: String = "testrun1", transmit: Duration = .milliseconds(10)) -> WandbOptions {
    WandbOptions(
        project: "p", entity: "e", runID: runID, baseURL: server.baseURL, mode: .online,
        transmitInterval: transmit, heartbeatInterval: .seconds(30), finishTimeout: .seconds(20),
        connectTimeout: .seconds(2), graphQLTimeout: .seconds(5), fileStreamTimeout: .seconds(5),
        retry: WandbRetryPolicy(minimumWait: .milliseconds(10), maximumWait: .milliseconds(100)))
}

func testEnvironment(_ server: WandbTestServer) -> [String: String] {
    ["WANDB_API_KEY": server.apiKey, "HOME": "/nonexistent-home"]
}

/// The history lines of a run, parsed (bare NaN/Infinity read as their journal strings).
func parsedLines(_ run: WandbTestServer.RunRecord) -> [JSONValue] {
    run.history.map { line in line.flatMap { try? ExtendedJSON.parse($0) } ?? .null }
}

/// A value shared between a test and the threads it starts.
final class Locked<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>

    init(_ value: Value) { storage = Mutex(value) }

    var value: Value { storage.withLock { $0 } }

    func update<R: Sendable>(_ body: (inout Value) -> R) -> R { storage.withLock { body(&$0) } }
}

struct SyncDidNotStart: Error {}

/// The engine `WandbSync.start` returned, or an error when it returned nil.
func started(_ sync: WandbSync?) throws -> WandbSync {
    guard let sync else { throw SyncDidNotStart() }
    return sync
}
