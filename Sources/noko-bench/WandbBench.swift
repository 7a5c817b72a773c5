#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NokoCore
import NokoWandb
import NokoWandbTestSupport

/// wandb sync benchmarks (issue 6).
///
/// - `wandb-logrow`: the cost of a logged row on the writing thread with sync on, against a
///   server that answers after 1 s and against no server at all, over the same with sync
///   off (target ≤ 1.1). Rows are written the way the journal output writes them: a
///   16-value row formatted as one strict-JSON line, one `write` per row. The engine never
///   touches the writing thread (it reads the journal file), so any difference is
///   contention for the machine's two cores.
/// - `wandb-upload`: `noko-run sync` of a 200,000-row offline run to the loopback server,
///   zero transmit interval: rows per second (target ≥ 50,000).
enum WandbBench {
    static let apiKey = String(repeating: "b", count: 40)

    // MARK: - wandb-logrow

    static func logRow(_ arguments: [String]) throws {
        let rowsPerRepetition = 100_000
        let repetitions = 7
        let slow = try WandbTestServer(apiKey: apiKey, recordBodies: false)
        slow.setResponseDelay(.seconds(1), on: .any)
        let unreachable = try WandbTestServer(apiKey: apiKey, recordBodies: false)
        let deadPort = unreachable.baseURL
        unreachable.stop()
        let fast = try WandbTestServer(apiKey: apiKey, recordBodies: false)

        // Interval 0.25 s rather than the default 15 s so that the engine reads and uploads
        // during the measurement instead of sleeping through it.
        let interval = Duration.milliseconds(250)
        let disabled = (label: "sync off", run: { try loggingLoop(rows: rowsPerRepetition, baseURL: nil, interval: interval) })
        for (label, baseURL) in [("server answers after 1 s", slow.baseURL), ("no server", deadPort)] {
            let result = try interleaved(
                "wandb-logrow (\(label))", repetitions: repetitions, a: disabled,
                b: (label: "sync on", run: { try loggingLoop(rows: rowsPerRepetition, baseURL: baseURL, interval: interval) }))
            print(result.report(unit: "µs", scale: 1e6 / Double(rowsPerRepetition), per: "/row"))
        }
        // The worst case for contention: a fast server and no rate limit, so the engine
        // parses and uploads the journal as fast as it is written.
        let busy = try interleaved(
            "wandb-logrow (fast server, zero interval; informative)", repetitions: repetitions, a: disabled,
            b: (label: "sync on", run: { try loggingLoop(rows: rowsPerRepetition, baseURL: fast.baseURL, interval: .zero) }))
        print(busy.report(unit: "µs", scale: 1e6 / Double(rowsPerRepetition), per: "/row"))
        slow.stop()
        fast.stop()
    }

    /// Seconds spent writing `rows` journal rows, with a sync engine running when `baseURL`
    /// is given (its start and finish are not timed).
    private static func loggingLoop(rows: Int, baseURL: String?, interval: Duration) throws -> Double {
        let directory = scratchDirectory("wandb-logrow")
        defer { try? FileManager.default.removeItem(at: directory) }
        let start = Date().timeIntervalSince1970
        var sync: WandbSync?
        if let baseURL {
            let options = WandbOptions(
                project: "bench", entity: "e", baseURL: baseURL, mode: .online, transmitInterval: interval,
                connectTimeout: .seconds(2))
            sync = WandbSync.start(
                options: options, run: WandbRunInfo(directory: directory, runName: "bench", startTime: start),
                environment: ["WANDB_API_KEY": apiKey], netrcPath: "/nonexistent", messages: { _ in })
            guard sync != nil else { throw BenchError("sync did not start") }
        }
        let journal = open(directory.appendingPathComponent("noko.ndjson").path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        defer { close(journal) }
        var generator = SystemRandomNumberGenerator()
        var writer = JSONWriter(capacity: 1024)
        let seconds = time {
            for i in 0..<rows {
                writer.bytes.removeAll(keepingCapacity: true)
                RowFormat.append(row: i, time: start + Double(i) * 1e-4, generator: &generator, to: &writer)
                _ = writer.bytes.withUnsafeBytes { write(journal, $0.baseAddress!, $0.count) }
            }
        }
        sync?.finish(exitCode: 0, timeout: .milliseconds(10))
        return seconds
    }

    // MARK: - wandb-upload

    static func upload(_ arguments: [String]) throws {
        let rows = 200_000
        let repetitions = 3
        let source = scratchDirectory("wandb-upload-source")
        defer { try? FileManager.default.removeItem(at: source) }
        let journal = source.appendingPathComponent("noko.ndjson")
        try writeJournal(rows: rows, to: journal)
        let bytes = (try FileManager.default.attributesOfItem(atPath: journal.path)[.size] as? Int) ?? 0
        print("wandb-upload: \(rows) rows of 16 values, journal \(bytes / 1_000_000) MB")

        var seconds: [Double] = []
        var requestsPerRun = 0
        for repetition in 0..<repetitions {
            let server = try WandbTestServer(apiKey: apiKey, recordBodies: false)
            let run = try offlineRun(journal: journal, runID: "upload\(repetition)")
            defer { try? FileManager.default.removeItem(at: run.deletingLastPathComponent()) }
            var report: WandbSyncReport?
            let elapsed = try time {
                report = try WandbSync.syncRun(
                    directory: run, options: WandbOptions(baseURL: server.baseURL, transmitInterval: .zero),
                    environment: ["WANDB_API_KEY": apiKey], netrcPath: "/nonexistent", messages: { _ in })
            }
            guard report?.historyLines == Int64(rows), let remote = server.run("upload\(repetition)"),
                remote.lines.count == rows, remote.complete
            else {
                throw BenchError("upload incomplete: \(String(describing: report)), server has \(server.run("upload\(repetition)")?.lines.count ?? 0) lines")
            }
            requestsPerRun = server.requests.count
            seconds.append(elapsed)
            server.stop()
        }
        let best = seconds.min()!
        let typical = median(seconds)
        print(
            "wandb-upload: median \(String(format: "%.3f", typical)) s = \(Int(Double(rows) / typical)) rows/s"
                + " (best \(Int(Double(rows) / best)) rows/s; \(String(format: "%.0f", Double(bytes) / typical / 1e6)) MB/s of journal;"
                + " \(requestsPerRun) requests per run; \(repetitions) repetitions; target ≥ 50000 rows/s)")
    }

    /// A run directory as an offline run leaves it: metadata, the journal (a symlink to a
    /// shared one) and an offline `sync/wandb.json`.
    private static func offlineRun(journal: URL, runID: String) throws -> URL {
        let directory = scratchDirectory("wandb-upload").appendingPathComponent("run")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: directory.appendingPathComponent("noko.ndjson"), withDestinationURL: journal)
        let metadata: JSONValue = [
            "format_version": 1, "run_name": "bench", "status": "finished", "exit_code": 0, "start_time": 1_795_769_873.0,
        ]
        try Data(metadata.serializedBytes(pretty: true)).write(to: directory.appendingPathComponent("metadata.json"))
        let options = WandbOptions(project: "bench", entity: "e", runID: runID, mode: .offline)
        guard let sync = WandbSync.start(
            options: options, run: WandbRunInfo(directory: directory, runName: "bench", startTime: 1_795_769_873.0, config: ["seed": 1]),
            environment: [:], netrcPath: "/nonexistent", messages: { _ in })
        else { throw BenchError("offline sync did not start") }
        _ = sync.finish()
        return directory
    }

    private static func writeJournal(rows: Int, to url: URL) throws {
        var generator = SystemRandomNumberGenerator()
        var writer = JSONWriter(capacity: 1 << 22)
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        for i in 0..<rows {
            RowFormat.append(row: i, time: 1_795_769_873.0 + Double(i) * 0.01, generator: &generator, to: &writer)
            if writer.bytes.count > 1 << 22 {
                try handle.write(contentsOf: writer.bytes)
                writer.bytes.removeAll(keepingCapacity: true)
            }
        }
        try handle.write(contentsOf: writer.bytes)
    }
}

/// The baselines' W1 row (12 floats, 3 ints, 1 short string) as a journal line.
private enum RowFormat {
    static let floatKeys = (0..<12).map { "\"f\($0)\":" }.map { Array($0.utf8) }

    static func append(row i: Int, time: Double, generator: inout SystemRandomNumberGenerator, to writer: inout JSONWriter) {
        writer.append(0x7B)
        for key in floatKeys {
            writer.appendRaw(key)
            writer.writeDouble(Double.random(in: 0..<1, using: &generator))
            writer.append(0x2C)
        }
        writer.appendRaw(Array("\"epoch\":".utf8))
        writer.writeInt(Int64(i / 1000))
        writer.appendRaw(Array(",\"batch\":".utf8))
        writer.writeInt(Int64(i % 1000))
        writer.appendRaw(Array(",\"samples\":".utf8))
        writer.writeInt(Int64(i * 32))
        writer.appendRaw(Array(",\"phase\":".utf8))
        writer.writeString(i % 10 == 0 ? "eval" : "train")
        writer.appendRaw(Array(",\"$table\":\"train\",\"$step\":".utf8))
        writer.writeInt(Int64(i))
        writer.appendRaw(Array(",\"$level\":20,\"$localtime\":\"2026-11-27T10:00:00\",\"$utc_timestamp\":".utf8))
        writer.writeDouble(time)
        writer.appendRaw(Array("}\n".utf8))
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
