import Foundation
import Noko

/// What the TensorBoard output adds to the row path, with rows like the Python baselines'
/// W1 (12 doubles, 3 ints, 1 string, table `train`, level INFO, through `logRow`):
///
/// 1. NDJSON + CSV, without and with TensorBoard (the target: ratio ≤ 1.5), timed
///    over the logging loop (what the caller waits for, the flusher running alongside as in
///    a real run), and over the loop plus a final `flush()` (all the work TensorBoard causes).
/// 2. TensorBoard alone against an output that drops rows, with no background flusher, so
///    the loop times `write` alone and the final `flush()` carries all the encoding and I/O:
///    TensorBoard's whole cost per row, serially.
///
/// `noko-bench tensorboard [--rows=N] [--repetitions=N]`.
func tensorBoardBench(_ arguments: [String]) throws {
    let rowCount = integerOption("--rows", in: arguments) ?? 20_000
    let repetitions = integerOption("--repetitions", in: arguments) ?? 21
    print("\(rowCount) rows of 16 values per run, \(repetitions) interleaved repetitions per comparison")

    try compare(
        "NDJSON + CSV", rowCount: rowCount, repetitions: repetitions, aLabel: "ndjson+csv", bLabel: "+tensorboard",
        flushInterval: .seconds(1),
        outputs: { directory, withTensorBoard in
            var outputs: [any LogOutput] = [
                try NDJSONOutput(url: RunLayout(directory).journal),
                CSVOutput(directory: directory, messages: benchMessages),
            ]
            if withTensorBoard { outputs.append(try TensorBoardOutput(directory: directory, messages: benchMessages)) }
            return outputs
        })
    try compare(
        "TensorBoard alone, no flusher", rowCount: rowCount, repetitions: repetitions, aLabel: "discard",
        bLabel: "tensorboard", flushInterval: nil,
        outputs: { directory, withTensorBoard in
            [withTensorBoard ? try TensorBoardOutput(directory: directory, messages: benchMessages) : DiscardingOutput()]
        })
}

private let benchMessages = NokoMessages.logger()

/// Receives rows and keeps nothing: the floor for "TensorBoard alone".
private final class DiscardingOutput: LogOutput {
    let name = "discard"
    let level = LogLevel.trace
    func write(_ row: SummarizedRow) throws {}
}

private func compare(
    _ title: String, rowCount: Int, repetitions: Int, aLabel: String, bLabel: String, flushInterval: Duration?,
    outputs: @escaping (URL, Bool) throws -> [any LogOutput]
) throws {
    var totals: (a: [Double], b: [Double]) = ([], [])
    func run(withTensorBoard: Bool) throws -> Double {
        let directory = scratchDirectory("tensorboard")
        defer { try? FileManager.default.removeItem(at: directory) }
        let logger = NokoLogger(
            directory: directory, outputs: try outputs(directory, withTensorBoard), flushInterval: flushInterval,
            messages: benchMessages)
        var random = SplitMix64(seed: 42)
        let loop = time {
            for i in 0..<rowCount {
                let row: [String: Any] = [
                    "loss": random.unit(), "acc": random.unit(), "lr": random.unit(), "grad_norm": random.unit(),
                    "x4": random.unit(), "x5": random.unit(), "x6": random.unit(), "x7": random.unit(),
                    "x8": random.unit(), "x9": random.unit(), "x10": random.unit(), "x11": random.unit(),
                    "epoch": i / 1000, "batch": i % 1000, "samples": i * 32, "phase": i % 10 == 0 ? "eval" : "train",
                ]
                logger.logRow("train", row)
            }
        }
        let drain = time { logger.flush() }
        logger.close()
        if withTensorBoard { totals.b.append(loop + drain) } else { totals.a.append(loop + drain) }
        return loop
    }
    let loop = try interleaved(
        "\(title), logging loop", repetitions: repetitions, a: (aLabel, { try run(withTensorBoard: false) }),
        b: (bLabel, { try run(withTensorBoard: true) }))
    let total = ABResult(name: "\(title), loop + final flush", aLabel: aLabel, bLabel: bLabel, a: totals.a, b: totals.b)
    let perRow = 1e6 / Double(rowCount)
    for result in [loop, total] {
        print(result.report(unit: "µs", scale: perRow, per: "/row"))
        print(String(format: "  tensorboard adds %.3f µs/row", (result.medianB - result.medianA) * perRow))
    }
}

/// The value of `--name=N` (main.swift treats every argument without a dash as a case name).
private func integerOption(_ name: String, in arguments: [String]) -> Int? {
    arguments.lazy.compactMap { $0.hasPrefix(name + "=") ? Int($0.dropFirst(name.count + 1)) : nil }.first
}
