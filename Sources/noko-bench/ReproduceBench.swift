import Foundation
import Noko
import NokoCLI
import NokoCore
import NokoPlatform

/// `noko-run reproduce`'s comparison (`compare --rows`) of two 1,000,000-row journals,
/// against a bare scan of both journals with the same tokenizer (every line read and split
/// into members, nothing compared) in the same run.
///
/// Targets (issue 16): under 2 s, and at most 1.5 × the bare scan.
func reproduceCompareBenchmark(_ arguments: [String]) throws {
    let base = scratchDirectory("reproduce-compare")
    defer { try? FileManager.default.removeItem(at: base) }
    let rows = 1_000_000
    let original = base.appendingPathComponent("original.ndjson")
    let rerun = base.appendingPathComponent("rerun.ndjson")
    let seconds = try time {
        try writeJournal(original, rows: rows, clock: 1_796_000_000)
        // The same rows an hour later: only the clock columns differ.
        try writeJournal(rerun, rows: rows, clock: 1_796_003_600)
    }
    let megabytes = (FileSystem.info(original.path)?.size ?? 0) / 1_000_000
    print("generated two journals of \(rows.formatted()) rows × 8 columns (\(megabytes) MB each) in \(String(format: "%.1f", seconds)) s")

    func scan() throws -> Double {
        try time {
            for path in [original.path, rerun.path] {
                var scanner = JournalScanner(path: path)
                var members = 0
                _ = try LineReader(path: path).forEachLine { line in
                    if let problem = scanner.tokenize(line.bytes) { throw CLIError("\(path):\(line.number): \(problem)") }
                    members += scanner.members.count
                    return true
                }
                precondition(members > rows)
            }
        }
    }
    func compare() throws -> Double {
        try time {
            let result = try JournalComparison.compare(original: .init(path: original.path), rerun: .init(path: rerun.path))
            precondition(result.identical && result.comparedRows == rows + rows / 100)
        }
    }
    let result = try interleaved(
        "compare two \(rows.formatted())-row journals", repetitions: 5, a: ("bare scan of both", scan), b: ("compare --rows", compare))
    print(result.report())
    let met = result.medianB < 2 && result.ratio <= 1.5
    print(
        "compare \(String(format: "%.3f", result.medianB)) s (target < 2 s), \(String(format: "%.2f", result.ratio)) × the bare scan (target ≤ 1.5): \(met ? "met" : "MISSED")"
    )
}

/// A journal as noko writes it: `train` rows of eight doubles, an `eval` row every 100th.
private func writeJournal(_ url: URL, rows: Int, clock: Double) throws {
    var random = SplitMix64(seed: 16)
    var text: [UInt8] = []
    text.reserveCapacity(rows * 260)
    for step in 0..<rows {
        let time = clock + Double(step) * 0.001
        var line = "{\"$table\":\"train\",\"$step\":\(step),\"$level\":10,\"$localtime\":\"2026-12-01T10:00:00\",\"$utc_timestamp\":\(time)"
        for column in ["loss", "accuracy", "lr", "grad_norm", "weights.mean", "weights.min", "weights.max", "weights.std"] {
            line += ",\"\(column)\":\(random.unit())"
        }
        text.append(contentsOf: Array((line + "}\n").utf8))
        if step % 100 == 99 {
            let eval = "{\"$table\":\"eval\",\"$step\":\(step),\"$level\":30,\"$localtime\":\"2026-12-01T10:00:00\",\"$utc_timestamp\":\(time),\"test_loss\":\(random.unit()),\"test_accuracy\":\(random.unit())}\n"
            text.append(contentsOf: Array(eval.utf8))
        }
    }
    try AtomicFile.write(text, to: url.path)
}
