import Foundation
import Synchronization
import NokoCore
import NokoRemoteSync
import NokoWandb
import NokoWandbTestSupport

/// wandb sync benchmarks (issue 6).
///
/// - `wandb-logrow`: `NokoLogger.logRow` (default outputs, the W1 row: 12 Double, 3 Int, 1 short String) with
///   sync on (console output streaming and the start's run files uploading too), against a
///   server that answers after 1 s and against no server at all, over the same with sync
///   off (target ≤ 1.1). The engine never runs on the logging thread
///   (it reads the journal file on its own thread), so any difference is contention for
///   the machine's two cores.
/// - `wandb-upload`: `noko-run sync` of a 200,000-row offline run to the loopback server,
///   zero transmit interval: rows per second (target ≥ 50,000).
enum WandbBench {
    static let apiKey = String(repeating: "b", count: 40)

    // MARK: - wandb-logrow

    static func logRow(_ arguments: [String]) throws {
        let workload = RowWorkload(rows: 100_000)
        let repetitions = 9
        let slow = try WandbTestServer(apiKey: apiKey, recordBodies: false)
        slow.setResponseDelay(.seconds(1), on: .any)
        let unreachable = try WandbTestServer(apiKey: apiKey, recordBodies: false)
        let deadPort = unreachable.baseURL
        unreachable.stop()
        let fast = try WandbTestServer(apiKey: apiKey, recordBodies: false)

        // Interval 0.25 s rather than the default 15 s so that the engine reads and uploads
        // during the measurement instead of sleeping through it.
        let interval = Duration.milliseconds(250)
        let off = (label: "sync off", run: { try loggingLoop(workload, baseURL: nil, interval: interval) })
        for (label, baseURL) in [("server answers after 1 s", slow.baseURL), ("no server", deadPort)] {
            let result = try interleaved(
                "wandb-logrow (\(label))", repetitions: repetitions, a: off,
                b: (label: "sync on", run: { try loggingLoop(workload, baseURL: baseURL, interval: interval) }))
            print(result.report(unit: "µs", scale: 1e6 / Double(workload.rows), per: "/row"))
        }
        // The worst case for contention: a fast server and no rate limit, so the engine
        // parses and uploads the journal as fast as it is written.
        let busy = try interleaved(
            "wandb-logrow (fast server, zero interval; informative)", repetitions: repetitions, a: off,
            b: (label: "sync on", run: { try loggingLoop(workload, baseURL: fast.baseURL, interval: .zero) }))
        print(busy.report(unit: "µs", scale: 1e6 / Double(workload.rows), per: "/row"))
        slow.stop()
        fast.stop()
    }

    /// Seconds spent in `logRow` for the workload, with a sync engine running when
    /// `baseURL` is given (logger set-up and close, sync start and finish are not timed).
    private static func loggingLoop(_ workload: RowWorkload, baseURL: String?, interval: Duration) throws -> Double {
        let directory = scratchDirectory("wandb-logrow")
        defer { try? FileManager.default.removeItem(at: directory) }
        let logger = try defaultLogger(in: directory)
        var sync: WandbSync?
        if let baseURL {
            let options = WandbOptions(
                project: "bench", entity: "e", baseURL: baseURL, mode: .online, transmitInterval: interval,
                connectTimeout: .seconds(2))
            sync = WandbSync.start(
                options: options,
                run: WandbRunInfo(directory: directory, runName: "bench", startTime: Date().timeIntervalSince1970),
                environment: ["WANDB_API_KEY": apiKey], netrcPath: "/nonexistent", messages: { _ in })
            guard sync != nil else { throw BenchError("sync did not start") }
        }
        // With sync on, the remote also streams console output as a program writes it
        // (a line every 5 ms, from a thread of its own, as the console tee appends them)
        // and uploads the run files of the start.
        let console = baseURL == nil ? nil : ConsoleWriter(directory: directory)
        let seconds = time {
            for i in 0..<workload.rows { logger.logRow("train", workload.row(i)) }
        }
        console?.stop()
        logger.close()
        sync?.finish(exitCode: 0, timeout: .milliseconds(10))
        return seconds
    }

    /// Writes `output.log` and `output.index` as the console tee does, one line every 5 ms,
    /// until stopped; and the diff and `Package.resolved` a run's start uploads.
    private final class ConsoleWriter: Sendable {
        private let stopped = Atomic<Bool>(false)

        init(directory: URL) {
            let layout = RunLayout(directory)
            try? Data(String(repeating: "+let x = 1 // a changed line of the working tree\n", count: 2000).utf8).write(to: layout.fromHeadDiff)
            try? Data(String(repeating: "{\"identity\":\"swift-log\",\"version\":\"1.6.2\"}\n", count: 100).utf8).write(to: layout.packageResolved)
            try? Data("noko-output-index 1 base 0\n".utf8).write(to: layout.outputIndex)
            try? Data().write(to: layout.outputLog)
            Thread { [self] in
                guard let log = FileHandle(forWritingAtPath: layout.outputLog.path),
                    let index = FileHandle(forWritingAtPath: layout.outputIndex.path)
                else { return }
                index.seekToEndOfFile()
                var offset = 0, line = 0
                while !stopped.load(ordering: .relaxed) {
                    let text = Data("epoch \(line / 100) step \(line): loss 0.\(line % 1000)\n".utf8)
                    log.write(text)
                    index.write(Data("\(offset) \(offset + text.count) 1 \(Date().timeIntervalSince1970)\n".utf8))
                    offset += text.count
                    line += 1
                    Thread.sleep(forTimeInterval: 0.005)
                }
                try? log.close()
                try? index.close()
            }.start()
        }

        func stop() {
            stopped.store(true, ordering: .relaxed)
        }
    }

    // MARK: - wandb-upload

    static func upload(_ arguments: [String]) throws {
        let rows = 200_000
        let repetitions = 3
        let source = scratchDirectory("wandb-upload-source")
        defer { try? FileManager.default.removeItem(at: source) }
        let journal = RunLayout(source).journal
        let start = Date().timeIntervalSince1970
        let logger = try defaultLogger(in: source)
        let workload = RowWorkload(rows: rows)
        for i in 0..<rows { logger.logRow("train", workload.row(i)) }
        logger.close()
        let bytes = (try FileManager.default.attributesOfItem(atPath: journal.path)[.size] as? Int) ?? 0
        print("wandb-upload: \(rows) rows of 16 values, journal \(bytes / 1_000_000) MB")

        var seconds: [Double] = []
        var requestsPerRun = 0
        for repetition in 0..<repetitions {
            let server = try WandbTestServer(apiKey: apiKey, recordBodies: false)
            let run = try offlineRun(journal: journal, runID: "upload\(repetition)", startTime: start)
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
    private static func offlineRun(journal: URL, runID: String, startTime: Double) throws -> URL {
        let directory = scratchDirectory("wandb-upload").appendingPathComponent("run")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: RunLayout(directory).journal, withDestinationURL: journal)
        let metadata: JSONValue = [
            "format_version": 1, "run_name": "bench", "status": "finished", "exit_code": 0, "start_time": .double(startTime),
        ]
        try Data(metadata.serializedBytes(pretty: true)).write(to: RunLayout(directory).metadata)
        let options = WandbOptions(project: "bench", entity: "e", runID: runID, mode: .offline)
        guard let sync = WandbSync.start(
            options: options, run: WandbRunInfo(directory: directory, runName: "bench", startTime: startTime, config: ["seed": 1]),
            environment: [:], netrcPath: "/nonexistent", messages: { _ in })
        else { throw BenchError("offline sync did not start") }
        _ = sync.finish()
        return directory
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
