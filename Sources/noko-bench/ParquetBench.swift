import Foundation
import Logging
import Noko

/// The row workload of the `rows` case (baselines.md W1): 16 values per row (12 Double,
/// 3 Int, 1 short String) into table `train`.
private struct ParquetBenchWorkload {
    let rows: Int
    let doubles: [Double]
    static let doubleKeys = (0..<12).map { "metric_\($0)" }

    init(rows: Int) {
        self.rows = rows
        var rng = SystemRandomNumberGenerator()
        doubles = (0..<(rows * 12)).map { _ in Double.random(in: 0..<1, using: &rng) }
    }

    func row(_ i: Int) -> [String: Any] {
        var row: [String: Any] = ["epoch": i / 1000, "batch": i % 1000, "samples": i * 32, "phase": i % 10 == 0 ? "eval" : "train"]
        for k in 0..<12 { row[Self.doubleKeys[k]] = doubles[i * 12 + k] }
        return row
    }
}

/// The default outputs of a run directory, plus a Parquet output when `parquet` is given.
private func parquetBenchLogger(in directory: URL, parquet: ParquetCompression?) throws -> NokoLogger {
    var options = OutputOptions()
    options.stderrLevel = .error
    return try Noko.makeRunLogger(directory: directory, options: options) { messages in
        guard let parquet else { return [] }
        return [ParquetOutput(directory: directory, compression: parquet, messages: messages)]
    }
}

/// Logs the workload; returns (seconds in the logging loop, seconds including close).
private func parquetBenchRun(_ workload: ParquetBenchWorkload, _ logger: NokoLogger) -> (loop: Double, total: Double) {
    var loop = 0.0
    let total = time {
        loop = time {
            for i in 0..<workload.rows { logger.logRow("train", workload.row(i)) }
        }
        logger.close()
    }
    return (loop, total)
}

private func fileSize(_ url: URL) -> Int {
    (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
}

/// Per-row cost of adding the Parquet output to the default outputs, and its file size
/// against the CSV file of the same table. Target: ratio ≤ 1.3.
func parquetBenchmark(_ arguments: [String]) throws {
    let rows = 100_000
    let workload = ParquetBenchWorkload(rows: rows)
    var loops: (a: [Double], b: [Double]) = ([], [])
    var lastB: URL?
    let result = try interleaved(
        "parquet (100,000 rows × 16 values; default outputs, then + Parquet/Snappy), incl. close", repetitions: 9,
        a: ("defaults", {
            let run = parquetBenchRun(workload, try parquetBenchLogger(in: scratchDirectory("parquet-a"), parquet: nil))
            loops.a.append(run.loop)
            return run.total
        }),
        b: ("defaults+parquet", {
            let directory = scratchDirectory("parquet-b")
            let run = parquetBenchRun(workload, try parquetBenchLogger(in: directory, parquet: .snappy))
            loops.b.append(run.loop)
            lastB = directory
            return run.total
        }))
    print(result.report(unit: "µs", scale: 1e6 / Double(rows), per: "/row"))
    let loopA = median(loops.a), loopB = median(loops.b)
    print(String(format: "  logging loop only (without close): defaults %.3g µs/row | +parquet %.3g µs/row | ratio %.3f",
                 loopA * 1e6 / Double(rows), loopB * 1e6 / Double(rows), loopB / loopA))
    print("  target: (defaults+parquet)/defaults ≤ 1.3")

    guard let directory = lastB else { return }
    let csv = fileSize(directory.appendingPathComponent("train.csv"))
    let snappy = fileSize(directory.appendingPathComponent("train.parquet"))
    let plainDirectory = scratchDirectory("parquet-none")
    _ = parquetBenchRun(workload, try parquetBenchLogger(in: plainDirectory, parquet: ParquetCompression.none))
    let plain = fileSize(plainDirectory.appendingPathComponent("train.parquet"))
    let journal = fileSize(directory.appendingPathComponent("noko.ndjson"))
    print(String(format: "  sizes for table train: CSV %d B | Parquet snappy %d B (%.2f× CSV) | Parquet uncompressed %d B (%.2f× CSV) | journal %d B",
                 csv, snappy, Double(snappy) / Double(csv), plain, Double(plain) / Double(csv), journal))
    let check = try ParquetReader.info(at: directory.appendingPathComponent("train.parquet"))
    print("  the Parquet file holds \(check.rowCount) rows in \(check.rowGroupCount) row groups")
}
