import Foundation
import Noko

/// `logRow` through a run started by `initExtra` (heartbeat, signal relay, crash marker,
/// config row, seeded generators) against the same default outputs without it.
func runOverheadBenchmark(_ arguments: [String]) throws {
    let rows = 50_000
    let workload = RowWorkload(rows: rows)
    var options = RunOptions()
    options.runsDir = scratchDirectory("run-overhead").path
    options.checkpoint = false
    options.outputs.stderrLevel = .error
    options.outputs.tensorBoardLevel = nil
    let run = try Noko.initExtra(config: ["seed": 1, "lr": 0.1], options: options)
    let plain = try defaultLogger(in: scratchDirectory("plain"))
    func loop(_ logger: NokoLogger) -> Double {
        time { for i in 0..<rows { logger.logRow("train", workload.row(i)) } }
    }
    let result = try interleaved(
        "logRow with and without initExtra (50,000 × 16 values per repetition, default outputs)", repetitions: 9,
        a: ("without", { loop(plain) }), b: ("with initExtra", { loop(run.logger) }))
    print(result.report(unit: "µs", scale: 1e6 / Double(rows), per: "/row"))
    print("  target: ratio ≈ 1 (initExtra adds nothing to the row path)")
    plain.close()
    run.finish()
}
