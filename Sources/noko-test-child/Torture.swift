import Foundation
import Noko
import NokoPlatform
import NokoWandbTestSupport

/// One life of a run that `scripts/torture` kills with SIGKILL at chosen moments.
///
///     noko-test-child torture RUNS_DIR RUN_NAME TRAIN GRAD EVAL ROWS finish|wait
///
/// Starts (or resumes) the run with every output on: journal, CSV, pprint, summary,
/// TensorBoard, Parquet in row groups of ``TortureLife/rowGroupRows`` rows, a git checkpoint
/// of the working directory, and a live wandb mirror (`WANDB_BASE_URL`, `WANDB_API_KEY`,
/// `WANDB_RUN_ID` from the environment). It then logs ROWS rows of table `train`, numbered
/// from TRAIN; a `grad` row (TRACE) after every third and an `eval` row (RESULTS) after every
/// tenth train row, numbered from GRAD and EVAL, catching up on any a kill cut off; and
/// ends by finishing the run or by waiting to be killed.
///
/// Each train row brings the keys of the ones before it, and every ``TortureLife/growEvery``-th
/// a new one, so the CSV file is rewritten; key `mix` turns from int to double at train row
/// 100, so Parquet widens its column. Rows come in bursts of ``TortureLife/burstRows``
/// followed by a pause of two flush intervals, in which the views are flushed.
///
/// What happened is reported on the descriptor named by `NOKO_TEST_REPORT_FD` (standard
/// output without it), one line each, always after the step it reports has returned:
/// `init <pid>` before `initExtra`, `ready` after it, `logged <train row>` once that row and
/// its grad and eval rows are logged, `newkey <train row>` when that row brought a key,
/// `rowgroup <train row>` when it filled a Parquet row group, `idle <train row>` at the
/// start of each pause, `finishing` before `run.finish()`, `finished` after it.
enum TortureLife {
    static let rowGroupRows = 40
    static let growEvery = 37
    static let burstRows = 25
    static let flushInterval = Duration.milliseconds(15)

    struct Config: Codable {
        var lr = 0.001
        var seed = 11
        var layers = [64, 32]
        var note = "torture"
    }

    static func run(_ arguments: [String]) throws {
        guard arguments.count == 7, let train = Int(arguments[2]), let grad = Int(arguments[3]), let eval = Int(arguments[4]),
            let rows = Int(arguments[5]), ["finish", "wait"].contains(arguments[6])
        else {
            FileHandle.standardError.write(Data("usage: noko-test-child torture RUNS_DIR RUN_NAME TRAIN GRAD EVAL ROWS finish|wait\n".utf8))
            exit(2)
        }
        let environment = ProcessInfo.processInfo.environment
        let report = environment["NOKO_TEST_REPORT_FD"].flatMap(Int32.init).map { FileDescriptor(rawValue: $0, path: "<report>") }
            ?? .standardOutput
        func say(_ line: String) { report.writeIgnoringErrors(Array((line + "\n").utf8)) }

        var options = RunOptions()
        options.runsDir = arguments[0]
        options.runName = arguments[1]
        // Every life but the first continues the run; the first may find nothing to continue.
        options.resume = true
        options.launchInputs = .none
        options.heartbeatInterval = .milliseconds(40)
        options.outputs.flushInterval = flushInterval
        options.outputs.parquetLevel = .trace
        options.outputs.parquetRowGroupRows = rowGroupRows
        options.wandb = WandbOptions(
            project: "torture", mode: .online, transmitInterval: .milliseconds(30),
            retry: WandbRetryPolicy(minimumWait: .milliseconds(20), maximumWait: .milliseconds(200)))

        say("init \(ProcessInfo.processInfo.processIdentifier)")
        var config = Config()
        let run = try Noko.initExtra(config: &config, options: options)
        say("ready")

        var nextGrad = grad, nextEval = eval
        let pause = Double(flushInterval.components.attoseconds) / 1e18 * 2
        for t in train..<(train + rows) {
            var row: [String: Any] = [
                "row": t, "x": t % 50 == 7 ? Double.nan : Double(t) * 0.25, "s": "row \(t), \"quoted\"", "even": t % 2 == 0,
                "v": [Double(t), 1.5, -2.0], "mix": t < 100 ? t as Any : Double(t) + 0.5,
            ]
            for key in 0..<(t / growEvery) { row["g\(key)"] = key * t }
            Noko.logRow("train", row, level: .info)
            while nextGrad * 3 + 2 <= t {
                Noko.logRow("grad", ["row": nextGrad, "norm": 1 / Double(nextGrad + 1)], level: .trace)
                nextGrad += 1
            }
            while nextEval * 10 + 9 <= t {
                Noko.logRow("eval", ["row": nextEval, "accuracy": Double(nextEval % 100) / 100], level: .results)
                nextEval += 1
            }
            say("logged \(t)")
            if t > 0 && t % growEvery == 0 { say("newkey \(t)") }
            if (t - train + 1) % rowGroupRows == 0 { say("rowgroup \(t)") }
            if (t - train + 1) % burstRows == 0 {
                // Console output on both streams, unbuffered, for output.log and the Logs tab.
                FileDescriptor.standardOutput.writeIgnoringErrors(Array("burst ending at row \(t)\n".utf8))
                FileDescriptor.standardError.writeIgnoringErrors(Array("warning: a pause after row \(t)\n".utf8))
                run.summary["last_burst"] = .int(Int64(t))
                say("idle \(t)")
                CurrentProcess.sleep(seconds: pause)
            }
        }
        if arguments[6] == "finish" {
            say("finishing")
            run.finish()
            say("finished")
        } else {
            while true { CurrentProcess.sleep(seconds: 60) }
        }
    }
}

/// The loopback wandb server of the tests, alone in a process, for `scripts/torture`.
///
///     noko-test-child wandb-server
///
/// Prints `listening <base URL> <API key>`, then answers one command per line on stdin:
/// `runs` prints one JSON line, per run ID what the server holds (history lines, gaps,
/// lines re-sent with the same or another text, complete, exit code); `history RUN_ID`
/// prints the run's history lines as one JSON array; `console RUN_ID` its `output.log` lines
/// (and offset gaps); `files RUN_ID` its uploaded run files by name. Ends at the end of stdin, so it never
/// outlives the harness.
enum StandaloneWandbServer {
    static func run() throws {
        let server = try WandbTestServer(recordBodies: false)
        let output = FileDescriptor.standardOutput
        func say(_ line: String) { output.writeIgnoringErrors(Array((line + "\n").utf8)) }
        say("listening \(server.baseURL) \(server.apiKey)")
        while let line = readLine() {
            let words = line.split(separator: " ").map(String.init)
            switch words.first {
            case "runs":
                var runs: [String: JSONValue] = [:]
                for record in server.runs {
                    runs[record.runID] = .object([
                        "history": .int(Int64(record.history.count)),
                        "missing": .int(Int64(record.history.count - record.lines.count)),
                        "gaps": .array(record.gaps.map(JSONValue.string)),
                        "resent": .int(Int64(record.resentLines)),
                        "changed": .int(Int64(record.changedLines)),
                        "complete": .bool(record.complete),
                        "exit_code": record.exitCode.map(JSONValue.int) ?? .null,
                        "upserts": .int(Int64(record.upserts.count)),
                    ])
                }
                say(JSONValue.object(runs).serialized())
            case "history" where words.count == 2:
                let lines = server.run(words[1])?.history.map { $0.map(JSONValue.string) ?? .null } ?? []
                say(JSONValue.array(lines).serialized())
            case "console" where words.count == 2:
                let run = server.run(words[1])
                say(JSONValue.object([
                    "lines": .array((run?.console ?? []).map(JSONValue.string)),
                    "gaps": .array((run?.consoleGaps ?? []).map(JSONValue.string)),
                ]).serialized())
            case "files" where words.count == 2:
                var files: [String: JSONValue] = [:]
                for (name, bytes) in server.run(words[1])?.files ?? [:] { files[name] = .string(String(decoding: bytes, as: UTF8.self)) }
                say(JSONValue.object(files).serialized())
            default:
                say("{\"error\": \"unknown command\"}")
            }
        }
        server.stop()
    }
}
