import Foundation
import Noko
import NokoCLI

/// `report`: a 1,000,000-row run (16 values a row, logged through the journal and the
/// summary sidecar; not timed) rendered by `noko-run report`. Target: under 3 s and 5 MB.
///
/// A = the default (summary.json's series), B = `--full` (every row streamed from the
/// journal): the ratio is what the sidecar saves.
func reportBenchmark(_ arguments: [String]) throws {
    let rows = 1_000_000
    let directory = scratchDirectory("report")
    let run = directory.appendingPathComponent("train_1m")
    print("  logging \(DisplayFormat.count(rows)) rows into \(run.path) (not timed)…")
    let logging = try time { try logReportWorkload(rows: rows, into: run) }
    print(String(format: "  logged in %.1f s", logging))

    let output = directory.appendingPathComponent("report.html")
    func render(_ extra: [String]) throws -> Double {
        let context = CommandContext.capturing(now: Date().timeIntervalSince1970, workingDirectory: directory)
        return try time { try NokoRun.parseCommand(["report", run.path, "-o", output.path] + extra).run(in: context) }
    }
    var sizes: (summary: Int, full: Int) = (0, 0)
    let result = try interleaved(
        "report (1,000,000 rows × 16 values, 15 charts)", repetitions: 5,
        a: ("summary.json", {
            let seconds = try render([])
            sizes.summary = fileSize(output)
            return seconds
        }),
        b: ("--full", {
            let seconds = try render(["--full"])
            sizes.full = fileSize(output)
            return seconds
        }))
    print(result.report())
    print("  page size: \(DisplayFormat.bytes(Int64(sizes.summary))) from summary.json, \(DisplayFormat.bytes(Int64(sizes.full))) with --full")
    // The floor of --full: reading the journal's records and doing nothing with them.
    let journal = run.appendingPathComponent(RunLayout.journalName).path
    let scans = try (0..<3).map { _ in try time { try JournalScanner.forEachRecord(journal) { _ in true } } }
    print(String(format: "  --full's floor, a bare scan of the journal's records: %.3g s (median of 3); --full/scan = %.2f",
                 median(scans), result.medianB / median(scans)))
    let verdict = result.medianA < 3 && sizes.summary < 5_000_000 ? "met" : "MISSED"
    print("  target: < 3 s and < 5 MB for the default report: \(verdict)")
    if !arguments.contains("--keep") { try? FileManager.default.removeItem(at: directory) }
}

/// A training-like table: a decaying noisy loss with rare spikes, accuracies, a learning
/// rate schedule over four orders of magnitude, gradient statistics, counters and a phase.
private func logReportWorkload(rows: Int, into directory: URL) throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try RunMetadata(runName: directory.lastPathComponent).write(to: directory)
    let logger = NokoLogger(
        directory: directory,
        outputs: [
            try NDJSONOutput(url: directory.appendingPathComponent(RunLayout.journalName)),
            StatisticsOutput(url: directory.appendingPathComponent(RunLayout.summaryName)),
        ],
        flushInterval: nil)
    var state: UInt64 = 0x2545_F491_4F6C_DD1D
    func noise() -> Double {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return Double(state >> 11) / Double(1 << 53) - 0.5
    }
    for i in 0..<rows {
        let t = Double(i) / Double(rows)
        let loss = 2.5 * exp(-4 * t) + 0.05 + 0.1 * noise() + (i % 99_991 == 0 ? 3 : 0)
        let row: [String: Any] = [
            "loss": loss, "train/accuracy": 0.5 + 0.45 * (1 - exp(-5 * t)) + 0.02 * noise(),
            "train/lr": 0.1 * pow(1e-4, t), "train/grad_norm": 1 + 0.5 * noise(), "train/grad_max": 3 + noise(),
            "train/weight_norm": 10 + 5 * t, "eval/loss": loss + 0.1, "eval/accuracy": 0.45 + 0.4 * t,
            "momentum": 0.9, "temperature": 1 + 0.1 * sin(Double(i) / 1000), "entropy": 2 * exp(-t) + 0.1 * noise(),
            "reward": 10 * t + noise(), "epoch": i / 10_000, "batch": i % 10_000, "samples": i * 64,
            "phase": i % 10 == 0 ? "eval" : "train",
        ]
        logger.logRow("train", row, level: .trace)
    }
    logger.close()
}

private func fileSize(_ url: URL) -> Int {
    (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
}
