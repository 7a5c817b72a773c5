import Foundation
import Logging
import Noko

/// The default outputs of a run directory, plus a Parquet output when `parquet` is given.
private func parquetBenchLogger(in directory: URL, parquet: ParquetCompression?) throws -> NokoLogger {
    var options = OutputOptions()
    options.stderrLevel = .error
    return try Noko.makeRunLogger(directory: directory, options: options) { messages in
        guard let parquet else { return [] }
        return [ParquetOutput(directory: directory, compression: parquet, messages: messages)]
    }
}

private func fileSize(_ url: URL) -> Int {
    (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
}

/// Per-row cost of adding the Parquet output to the default outputs, and its file size
/// against the CSV file of the same table. Target: ratio ≤ 1.3.
func parquetBenchmark(_ arguments: [String]) throws {
    let rows = 100_000
    let workload = RowWorkload(rows: rows)
    var loops: (a: [Double], b: [Double]) = ([], [])
    var lastB: URL?
    let result = try interleaved(
        "parquet (100,000 rows × 16 values; default outputs, then + Parquet/Snappy), incl. close", repetitions: 9,
        a: ("defaults", {
            let run = nokoLoop(workload, logger: try parquetBenchLogger(in: scratchDirectory("parquet-a"), parquet: nil))
            loops.a.append(run.loop)
            return run.withClose
        }),
        b: ("defaults+parquet", {
            let directory = scratchDirectory("parquet-b")
            let run = nokoLoop(workload, logger: try parquetBenchLogger(in: directory, parquet: .snappy))
            loops.b.append(run.loop)
            lastB = directory
            return run.withClose
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
    _ = nokoLoop(workload, logger: try parquetBenchLogger(in: plainDirectory, parquet: ParquetCompression.none))
    let plain = fileSize(plainDirectory.appendingPathComponent("train.parquet"))
    let journal = fileSize(RunLayout(directory).journal)
    print(String(format: "  sizes for table train: CSV %d B | Parquet snappy %d B (%.2f× CSV) | Parquet uncompressed %d B (%.2f× CSV) | journal %d B",
                 csv, snappy, Double(snappy) / Double(csv), plain, Double(plain) / Double(csv), journal))
    let check = try ParquetReader.info(at: directory.appendingPathComponent("train.parquet"))
    print("  the Parquet file holds \(check.rowCount) rows in \(check.rowGroupCount) row groups")
}
