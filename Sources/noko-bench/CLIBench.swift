import Foundation
import Logging
import Noko
import NokoCLI
import NokoPlatform

/// `noko-run show` and `list` on big runs, in process (the command logic, output captured).
///
/// Targets (issue 4): with `summary.json`, under 0.5 s on a run of 1,000,000 rows × 200
/// columns; without it (a Python noko run: a journal with bare NaN and CSV files, or a noko
/// run killed before its first flush), under 3 s on 100,000 rows × 200 columns.
/// Generating the runs is not timed.
func cliBenchmark(_ arguments: [String]) throws {
    let base = scratchDirectory("cli")
    defer { try? FileManager.default.removeItem(at: base) }

    let big = base.appendingPathComponent("big/runs/big_run")
    var seconds = try time { try CLIBenchRuns.summarizedRun(at: big, rows: 1_000_000, columns: 200) }
    let summaryBytes = CLIBenchRuns.size(RunLayout(big).summary)
    print("generated 1,000,000 × 200 summary.json (\(summaryBytes / 1_000_000) MB) in \(String(format: "%.1f", seconds)) s")

    let python = base.appendingPathComponent("python/runs/py_run")
    let strict = base.appendingPathComponent("strict/runs/killed_run")
    seconds = try time { try CLIBenchRuns.streamedRuns(python: python, strict: strict, rows: 100_000, columns: 200) }
    print(
        "generated 100,000 × 200 runs without summary.json in \(String(format: "%.1f", seconds)) s: Python journal \(CLIBenchRuns.size(RunLayout(python).journal) / 1_000_000) MB, CSV \(CLIBenchRuns.size(python.appendingPathComponent("train.csv")) / 1_000_000) MB"
    )

    // CPU seconds per command too: the machine is shared, and CPU time is what other
    // processes cannot inflate.
    var cpu: [String: [Double]] = [:]
    func command(_ arguments: [String], label: String) -> () throws -> Double {
        {
            let context = CommandContext.capturing(now: Date().timeIntervalSince1970)
            let command = try NokoRun.parseCommand(arguments)
            let cpuBefore = processCPUSeconds()
            let seconds = try time { try command.run(in: context) }
            cpu[label, default: []].append(processCPUSeconds() - cpuBefore)
            precondition(!context.capturedOutput.isEmpty, "\(arguments) printed nothing")
            return seconds
        }
    }
    func cpuReport(_ labels: String...) -> String {
        "  CPU time (user + system), medians: " + labels.map { "\($0) \(String(format: "%.3f", median(cpu[$0] ?? [0]))) s" }.joined(separator: " | ")
    }

    let summarized = try interleaved(
        "1,000,000 rows × 200 columns with summary.json", repetitions: 7,
        a: ("show", command(["show", big.path], label: "show big")),
        b: ("list --metric", command(["list", big.deletingLastPathComponent().path, "--metric", "train/loss", "--metric", "max:train/col_007"], label: "list big")))
    print(summarized.report())
    print(cpuReport("show big", "list big"))
    print(verdict("show", summarized.medianA, target: 0.5) + "; " + verdict("list", summarized.medianB, target: 0.5))

    let streamed = try interleaved(
        "100,000 rows × 200 columns without summary.json", repetitions: 3,
        a: ("show (Python noko run)", command(["show", python.path], label: "show python")),
        b: ("list --metric (noko run killed before its first flush)", command(["list", strict.deletingLastPathComponent().path, "--metric", "train/loss"], label: "list journal")))
    print(streamed.report())
    print(cpuReport("show python", "list journal"))
    print(verdict("show", streamed.medianA, target: 3) + "; " + verdict("list", streamed.medianB, target: 3))

    let pythonList = try interleaved(
        "100,000 rows × 200 columns, Python noko run", repetitions: 3,
        a: ("show", command(["show", python.path], label: "show python again")),
        b: ("list --metric", command(["list", python.deletingLastPathComponent().path, "--metric", "train/loss"], label: "list python")))
    print(pythonList.report())
    print(cpuReport("show python again", "list python"))
    print(verdict("list", pythonList.medianB, target: 3))

    let csvOnly = try interleaved(
        "100,000 rows × 200 columns, Python noko run", repetitions: 3,
        a: ("show from noko.ndjson", command(["show", python.path], label: "show journal")),
        b: ("show from train.csv", {
            let journal = RunLayout(python).journal
            let aside = python.deletingLastPathComponent().appendingPathComponent("journal.aside")
            try FileManager.default.moveItem(at: journal, to: aside)
            defer { try? FileManager.default.moveItem(at: aside, to: journal) }
            return try command(["show", python.path], label: "show csv")()
        }))
    print(csvOnly.report())
    print(cpuReport("show journal", "show csv"))
}

/// CPU seconds this process has used (user + system).
private func processCPUSeconds() -> Double {
    let time = WallClock.processCPUTime()
    return time.user + time.system
}

private func verdict(_ label: String, _ seconds: Double, target: Double) -> String {
    "\(label) \(String(format: "%.3f", seconds)) s = \(String(format: "%.2f", seconds / target)) × the \(target) s target (\(seconds <= target ? "met" : "MISSED"))"
}

/// Run directories for the benchmark.
enum CLIBenchRuns {
    static func size(_ url: URL) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
    }

    /// Column names: a few that look like metrics, then `col_000`….
    static func columnNames(_ count: Int) -> [String] {
        let named = ["loss", "accuracy", "lr", "grad_norm"]
        return Array((named + (0..<count).map { String(format: "col_%03d", $0) }).prefix(count))
    }

    static func metadata(_ name: String, at directory: URL, status: String) throws {
        var metadata = RunMetadata(runName: name)
        metadata.status = status
        metadata.startTime = 1_795_777_200
        metadata.endTime = status == "finished" ? 1_795_780_800 : nil
        metadata.heartbeat = 1_795_780_000
        metadata.heartbeatInterval = 10
        metadata.argv = ["train", "--columns", "200"]
        metadata.host = "bench"
        try metadata.write(to: directory)
        let config: JSONValue = ["lr": 0.1, "batch_size": 64, "model": ["layers": 12, "width": 1024]]
        try Data(config.serializedBytes(pretty: true)).write(to: RunLayout(directory).config)
    }

    /// metadata.json, config.json and the summary.json of `rows` × `columns` logged rows (the
    /// rows themselves are not written: show and list read only the sidecar).
    static func summarizedRun(at directory: URL, rows: Int, columns: Int) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try metadata(directory.lastPathComponent, at: directory, status: "finished")
        let summary = StatisticsOutput(url: RunLayout(directory).summary)
        let schema = RowSchema(keys: columnNames(columns))
        var state = (0..<columns).map { Double($0) }
        var rng = SplitMix64(seed: 7)
        for i in 0..<rows {
            var values: [Scalar] = []
            values.reserveCapacity(columns)
            for c in 0..<columns {
                state[c] += rng.unit() - 0.5
                values.append(c % 10 == 9 ? .int(Int64(i / 1000)) : .double(state[c]))
            }
            try summary.write(
                SummarizedRow(
                    table: "train", step: i, level: .info, time: RowTime(utcTimestamp: 1_795_777_200 + Double(i) * 0.003, localTime: ""),
                    schema: schema, values: values))
        }
        try summary.close()
    }

    /// A Python noko run (journal with bare NaN, `train.csv`) and a noko run killed before its
    /// first flush (metadata.json running, strict journal, no summary.json), same rows.
    static func streamedRuns(python: URL, strict: URL, rows: Int, columns: Int) throws {
        for directory in [python, strict] { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
        try metadata(strict.lastPathComponent, at: strict, status: "running")
        let names = columnNames(columns)
        _ = FileManager.default.createFile(atPath: RunLayout(python).journal.path, contents: nil)
        _ = FileManager.default.createFile(atPath: RunLayout(strict).journal.path, contents: nil)
        _ = FileManager.default.createFile(atPath: python.appendingPathComponent("train.csv").path, contents: nil)
        let pythonJournal = try FileHandle(forWritingTo: RunLayout(python).journal)
        let strictJournal = try FileHandle(forWritingTo: RunLayout(strict).journal)
        let csv = try FileHandle(forWritingTo: python.appendingPathComponent("train.csv"))
        defer {
            try? pythonJournal.close()
            try? strictJournal.close()
            try? csv.close()
        }
        var state = (0..<columns).map { Double($0) }
        var rng = SplitMix64(seed: 11)
        var py = "", st = "", cs = (SummarizedRow.bookkeepingKeys + names.sorted()).joined(separator: ",") + "\n"
        let sortedIndex = names.enumerated().sorted { $0.element < $1.element }.map(\.offset)
        var cells = [String](repeating: "", count: columns)
        for i in 0..<rows {
            let time = 1_795_777_200 + Double(i) * 0.003
            let head = "{\"$localtime\": \"2026-11-27T11:00:00\", \"$utc_timestamp\": \(time), \"$step\": \(i), \"$level\": 20, \"$table\": \"train\""
            py += head
            st += head
            for c in 0..<columns {
                state[c] += rng.unit() - 0.5
                let isNaN = (i + c) % 997 == 0
                let text = isNaN ? "NaN" : c % 10 == 9 ? String(i / 1000) : "\(state[c])"
                py += ", \"\(names[c])\": \(text)"
                st += ", \"\(names[c])\": \(isNaN ? "\"NaN\"" : text)"
                cells[c] = isNaN ? "nan" : text
            }
            py += "}\n"
            st += "}\n"
            cs += "20,2026-11-27T11:00:00,\(i),train,\(time)," + sortedIndex.map { cells[$0] }.joined(separator: ",") + "\n"
            if py.utf8.count > 1 << 22 {
                try pythonJournal.write(contentsOf: Data(py.utf8))
                try strictJournal.write(contentsOf: Data(st.utf8))
                try csv.write(contentsOf: Data(cs.utf8))
                py = ""
                st = ""
                cs = ""
            }
        }
        try pythonJournal.write(contentsOf: Data(py.utf8))
        try strictJournal.write(contentsOf: Data(st.utf8))
        try csv.write(contentsOf: Data(cs.utf8))
    }
}
