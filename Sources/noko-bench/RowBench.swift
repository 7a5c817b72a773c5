import Foundation
import Noko
import NokoPlatform
import Synchronization

/// The W1 workload (as measured for Python noko and its peers): rows of 16 values (12 Double,
/// 3 Int, 1 short String) logged to table `train`.
struct RowWorkload {
    let rows: Int
    let doubles: [Double]

    init(rows: Int) {
        self.rows = rows
        var rng = SystemRandomNumberGenerator()
        doubles = (0..<(rows * 12)).map { _ in Double.random(in: 0..<1, using: &rng) }
    }

    static let doubleKeys = (0..<12).map { "metric_\($0)" }

    /// The row as a user would build it.
    func row(_ i: Int) -> [String: Any] {
        var row: [String: Any] = ["epoch": i / 1000, "batch": i % 1000, "samples": i * 32, "phase": i % 10 == 0 ? "eval" : "train"]
        for k in 0..<12 { row[RowWorkload.doubleKeys[k]] = doubles[i * 12 + k] }
        return row
    }
}

/// The floor: a hand-written loop that formats the same journal bytes and issues the same
/// `write` calls, with nothing else.
func floorLoop(_ w: RowWorkload, into directory: URL) -> Double {
    let file = try! FileDescriptor.open(directory.appendingPathComponent("floor.ndjson").path, .append)
    defer { file.closeIgnoringErrors() }
    var keys = ["batch", "epoch", "phase", "samples"] + RowWorkload.doubleKeys
    keys.sort()
    var buffer: [UInt8] = []
    buffer.reserveCapacity(1024)
    return time {
        for i in 0..<w.rows {
            buffer.removeAll(keepingCapacity: true)
            let now = WallClock.now()
            buffer.append(contentsOf: "{\"$table\":\"train\",\"$step\":\(i),\"$level\":20,\"$localtime\":\"2026-11-27T10:00:00\",\"$utc_timestamp\":\(now)".utf8)
            buffer.append(contentsOf: ",\"batch\":\(i % 1000),\"epoch\":\(i / 1000)".utf8)
            for k in 0..<12 {
                buffer.append(contentsOf: ",\"\(RowWorkload.doubleKeys[k])\":".utf8)
                buffer.append(contentsOf: w.doubles[i * 12 + k].description.utf8)
            }
            buffer.append(contentsOf: ",\"phase\":\"\(i % 10 == 0 ? "eval" : "train")\",\"samples\":\(i * 32)}\n".utf8)
            try! file.writeAll(buffer)
        }
    }
}

/// The rows through a logger with `outputs`; returns (loop seconds, seconds including close).
func nokoLoop(_ w: RowWorkload, logger: NokoLogger) -> (loop: Double, withClose: Double) {
    var loop = 0.0
    let total = time {
        loop = time {
            for i in 0..<w.rows { logger.logRow("train", w.row(i)) }
        }
        logger.close()
    }
    return (loop, total)
}

/// Default outputs without TensorBoard (journal, CSV, pprint file, summary) in a fresh run
/// directory: what Python noko's `noko_notb` baseline measures. `tensorBoard` adds it back;
/// `journalOnly` leaves out CSV and summary.
func defaultLogger(
    in directory: URL, extra: [any LogOutput] = [], tensorBoard: Bool = false, journalOnly: Bool = false
) throws -> NokoLogger {
    var options = OutputOptions()
    options.stderrLevel = .error
    if !tensorBoard { options.tensorBoardLevel = nil }
    if journalOnly { (options.csvLevel, options.statisticsLevel) = (nil, nil) }
    return try Noko.makeRunLogger(directory: directory, options: options) { _ in extra }
}

func rowsBenchmark(_ arguments: [String]) throws {
    let rows = 100_000
    let workload = RowWorkload(rows: rows)
    var withClose: [Double] = []
    let result = try interleaved(
        "rows (100,000 × 16 values, default outputs without TensorBoard)", repetitions: 7,
        a: ("floor", { withScratchDirectory("floor") { floorLoop(workload, into: $0) } }),
        b: ("noko", {
            let run = try withScratchDirectory("rows") { try nokoLoop(workload, logger: defaultLogger(in: $0)) }
            withClose.append(run.withClose)
            return run.loop
        }))
    print(result.report(unit: "µs", scale: 1e6 / Double(rows), per: "/row"))
    let perRow = result.medianB * 1e6 / Double(rows)
    // The noko loop also builds each row's [String: Any], which the floor does not.
    var keep = 0
    let building = median((0..<7).map { _ in time { for i in 0..<rows { keep &+= workload.row(i).count } } })
    let buildPerRow = building * 1e6 / Double(rows)
    print(String(format: "  of which building the [String: Any] rows: %.3g µs/row; noko without it: %.3g µs/row, ratio %.3f (%d)",
                 buildPerRow, perRow - buildPerRow, (perRow - buildPerRow) / (result.medianA * 1e6 / Double(rows)), keep % 2))
    print(String(format: "  noko incl. close (final CSV/summary flush and fsync): %.3g µs/row", median(withClose) * 1e6 / Double(rows)))
    print(String(format: "  Python noko (0.3.1 measured on the same kind of machine, default outputs without TensorBoard): 104.6 µs/row -> %.1f× faster", 104.6 / perRow))
    print("  target: noko/floor ≤ 2.0")
    if arguments.contains("--python") { try pythonSideBySide(rows: rows) }
}

/// `rows --python`: the W1 rows through Python noko (`scripts/bench/python_w1.py`, in the
/// virtual environment `make bench` makes) interleaved with noko's, in the same run.
func pythonSideBySide(rows: Int) throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let python = root.appendingPathComponent(".build/bench-python/bin/python").path
    let script = root.appendingPathComponent("scripts/bench/python_w1.py").path
    guard FileManager.default.isExecutableFile(atPath: python) else {
        print("rows --python: no \(python); run scripts/deps.sh bench-python (make bench does)")
        return
    }
    func pythonRun(_ rows: Int, _ mode: String) -> () throws -> Double {
        {
            try withScratchDirectory("python") { directory in
                let process = Process()
                process.executableURL = URL(fileURLWithPath: python)
                process.arguments = [script, directory.path, String(rows), mode]
                let out = Pipe()
                process.standardOutput = out
                process.standardError = FileHandle.nullDevice
                try process.run()
                let data = out.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                guard process.terminationStatus == 0, let line = String(data: data, encoding: .utf8),
                    let json = try? JSONValue(parsing: line.trimmingCharacters(in: .whitespacesAndNewlines)), let seconds = json["seconds"]?.doubleValue
                else { throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "python_w1.py failed"]) }
                return seconds
            }
        }
    }
    let workload = RowWorkload(rows: rows)
    let structs = (0..<rows).map { W1Row(workload, $0) }
    func swiftRun(_ workload: RowWorkload, tensorBoard: Bool, structs: [W1Row]?) -> () throws -> Double {
        {
            try withScratchDirectory("swift") { directory in
                let logger = try defaultLogger(in: directory, tensorBoard: tensorBoard)
                return time {
                    if let structs {
                        for row in structs { logger.logRow("train", row) }
                    } else {
                        for i in 0..<workload.rows { logger.logRow("train", workload.row(i)) }
                    }
                    logger.close()
                }
            }
        }
    }
    let perRow = 1e6 / Double(rows)
    for (label, swift) in [("[String: Any]", swiftRun(workload, tensorBoard: false, structs: nil)), ("Encodable struct", swiftRun(workload, tensorBoard: false, structs: structs))] {
        let result = try interleaved(
            "W1 \(label) rows without TensorBoard, \(rows.formatted()) rows through close()", repetitions: 3, a: ("noko", swift),
            b: ("Python noko 0.3.1", pythonRun(rows, "notb")))
        print(result.report(unit: "µs", scale: perRow, per: "/row") + String(format: ": noko is %.1f× faster", result.ratio))
    }
    // TensorBoard makes Python noko about 20× slower: fewer rows.
    let tbRows = rows / 10
    let small = RowWorkload(rows: tbRows)
    let result = try interleaved(
        "W1 [String: Any] rows with TensorBoard (Python noko: tensorboardX), \(tbRows.formatted()) rows through close()", repetitions: 3,
        a: ("noko", swiftRun(small, tensorBoard: true, structs: nil)), b: ("Python noko 0.3.1", pythonRun(tbRows, "tb")))
    print(result.report(unit: "µs", scale: 1e6 / Double(tbRows), per: "/row") + String(format: ": noko is %.0f× faster (target ≥ 300×)", result.ratio))
}

func summarizeBenchmark(_ arguments: [String]) throws {
    var rng = SystemRandomNumberGenerator()
    let floats = (0..<1_000_000).map { _ in Float.random(in: -1...1, using: &rng) }
    let matrix = (0..<1000).map { _ in (0..<1000).map { _ in Double.random(in: -1...1, using: &rng) } }
    let bytes = Double(floats.count * 4 + 1_000_000 * 8)
    let sink = CountingOutput()
    let logger = NokoLogger(outputs: [sink], flushInterval: nil)
    var checksum = 0.0
    let result = try interleaved(
        "summarize ([Float] × 1,000,000 and [[Double]] 1000×1000, per row)", repetitions: 21,
        a: ("four-pass Swift", {
            time {
                for stats in [fourPass(floats.map(Double.init)), fourPass(matrix.flatMap { $0 })] { checksum += stats.reduce(0, +) }
            }
        }),
        b: ("noko logRow", { time { logger.logRow("w", ["floats": floats, "matrix": matrix]) } }))
        
    print(result.report(unit: "ms", scale: 1e3))
    print(String(format: "  noko: %.2f GB/s; four-pass: %.2f GB/s (checksum %.3g)", bytes / result.medianB / 1e9, bytes / result.medianA / 1e9, checksum))
    print(String(format: "  Python noko (0.3.1, measured on the same kind of machine): 13.1 ms per row (numpy directly: 3.0 ms) -> noko %.1f× faster than Python noko, %.1f× faster than numpy", 13.1e-3 / result.medianB, 3.0e-3 / result.medianB))
    print("  target: noko ≤ four-pass (ratio ≤ 1.0)")
}

/// The straightforward way: one pass per statistic (the baseline to beat).
func fourPass(_ values: [Double]) -> [Double] {
    let n = Double(values.count)
    let mean = values.reduce(0, +) / n
    let minimum = values.min()!
    let maximum = values.max()!
    let std = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n).squareRoot()
    return [mean, minimum, maximum, std]
}

/// Counts rows and keeps nothing.
final class CountingOutput: LogOutput {
    let name = "count"
    let level = LogLevel.trace
    private let count = Mutex(0)
    func write(_ row: SummarizedRow) throws { count.withLock { $0 += 1 } }
}

func schemaGrowthBenchmark(_ arguments: [String]) throws {
    let extraKeys = (0..<200).map { "x_\($0)" }
    var closeTimes: [Double] = []
    func run(rows: Int, flushInterval: Duration) throws -> Double {
        let directory = scratchDirectory("growth")
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = OutputOptions()
        options.stderrLevel = .error
        options.tensorBoardLevel = nil
        options.flushInterval = flushInterval
        let logger = try Noko.makeRunLogger(directory: directory, options: options)
        let workload = RowWorkload(rows: rows)
        var loop = 0.0
        let total = time {
            loop = time {
                for i in 0..<rows {
                    var row = workload.row(i)
                    row.reserveCapacity(16 + i / 200)
                    for k in 0..<(i / 200) { row[extraKeys[k]] = Double(k) }
                    logger.logRow("train", row)
                }
            }
            logger.close()
        }
        if rows == 40_000 || arguments.contains("--once") { closeTimes.append(total - loop) }
        return total
    }
    // `--once`: one 40,000-row run (`--rows=N`: N rows) at a 1 s flush interval, untimed but
    // for its loop and close() (under a profiler).
    if arguments.contains("--once") {
        let rows = arguments.first { $0.hasPrefix("--rows=") }.flatMap { Int($0.dropFirst(7)) } ?? 40_000
        let total = try run(rows: rows, flushInterval: .seconds(1))
        print(String(format: "  %d rows: %.3g s, of which close() %.3g s", rows, total, closeTimes.last ?? 0))
        return
    }
    for interval in [Duration.seconds(1), .milliseconds(10)] {
        closeTimes.removeAll()
        let result = try interleaved(
            "schema growth (a new key every 200 rows, flush interval \(interval))", repetitions: 3,
            a: ("20,000 rows", { try run(rows: 20_000, flushInterval: interval) }),
            b: ("40,000 rows", { try run(rows: 40_000, flushInterval: interval) }))
        print(result.report())
        var kept = 0
        let building = median((0..<3).map { _ in
            let workload = RowWorkload(rows: 40_000)
            return time {
                for i in 0..<40_000 {
                    var row = workload.row(i)
                    row.reserveCapacity(16 + i / 200)
                    for k in 0..<(i / 200) { row[extraKeys[k]] = Double(k) }
                    kept &+= row.count
                }
            }
        })
        print(String(format: "  of the 40,000 rows, building the [String: Any] rows takes %.3g s (%d), close() %.3g s", building, kept % 2, median(closeTimes)))
        // Row i has 16 + i/200 values: doubling the rows multiplies the cells by 3.5.
        func cells(_ n: Int) -> Double { Double(16 * n + 200 * (n / 200) * (n / 200 - 1) / 2) }
        print(String(format: "  per cell: %.0f ns at 20,000 rows (%.2fM cells), %.0f ns at 40,000 rows (%.2fM cells)",
                     result.medianA / cells(20_000) * 1e9, cells(20_000) / 1e6, result.medianB / cells(40_000) * 1e9, cells(40_000) / 1e6))
        print("  target: 40,000 rows < 1 s, and ratio ≤ 2.5")
    }
    print("  Python noko (0.3.1, measured on the same kind of machine): 36.5 s at 20,000 rows, 231 s at 40,000")
}

/// The W1 row as the README's headline usage logs it: a struct (12 Double, 3 Int, a short
/// String), `Encodable`, so noko's row encoder summarizes it.
struct W1Row: Encodable {
    var epoch: Int, batch: Int, samples: Int, phase: String
    var metric_0: Double, metric_1: Double, metric_2: Double, metric_3: Double, metric_4: Double, metric_5: Double
    var metric_6: Double, metric_7: Double, metric_8: Double, metric_9: Double, metric_10: Double, metric_11: Double

    init(_ w: RowWorkload, _ i: Int) {
        let d = { w.doubles[i * 12 + $0] }
        (epoch, batch, samples, phase) = (i / 1000, i % 1000, i * 32, i % 10 == 0 ? "eval" : "train")
        (metric_0, metric_1, metric_2, metric_3, metric_4, metric_5) = (d(0), d(1), d(2), d(3), d(4), d(5))
        (metric_6, metric_7, metric_8, metric_9, metric_10, metric_11) = (d(6), d(7), d(8), d(9), d(10), d(11))
    }
}

/// The same fields without `Encodable`: what every struct row cost before (`Mirror`).
struct W1MirrorRow {
    var epoch: Int, batch: Int, samples: Int, phase: String
    var metric_0: Double, metric_1: Double, metric_2: Double, metric_3: Double, metric_4: Double, metric_5: Double
    var metric_6: Double, metric_7: Double, metric_8: Double, metric_9: Double, metric_10: Double, metric_11: Double

    init(_ r: W1Row) {
        (epoch, batch, samples, phase) = (r.epoch, r.batch, r.samples, r.phase)
        (metric_0, metric_1, metric_2, metric_3, metric_4, metric_5) = (r.metric_0, r.metric_1, r.metric_2, r.metric_3, r.metric_4, r.metric_5)
        (metric_6, metric_7, metric_8, metric_9, metric_10, metric_11) = (r.metric_6, r.metric_7, r.metric_8, r.metric_9, r.metric_10, r.metric_11)
    }
}

/// `struct-rows`: 100,000 W1 rows as an `Encodable` struct, as a plain struct (`Mirror`) and
/// as a dictionary, each against the floor in the same run, every figure through `close()`.
///
/// Target (issue 23): the `Encodable` struct ≤ 1.3 × the floor.
func structRowsBenchmark(_ arguments: [String]) throws {
    // `--rows=N`: fewer rows (under valgrind, which counts allocations per row).
    let rows = arguments.first { $0.hasPrefix("--rows=") }.flatMap { Int($0.dropFirst(7)) } ?? 100_000
    let workload = RowWorkload(rows: rows)
    // Built before timing: the rows a program already has.
    let structs = (0..<rows).map { W1Row(workload, $0) }
    let mirrored = structs.map(W1MirrorRow.init)
    let dictionaries = (0..<rows).map { workload.row($0) }
    func floor() -> Double { withScratchDirectory("floor") { floorLoop(workload, into: $0) } }
    // `--journal-only`: without CSV and summary (where the time goes).
    let journalOnly = arguments.contains("--journal-only")
    func noko(_ log: @escaping (NokoLogger, Int) -> Void) -> () throws -> Double {
        {
            try withScratchDirectory("struct-rows") { directory in
                let logger = try defaultLogger(in: directory, journalOnly: journalOnly)
                return time {
                    for i in 0..<rows { log(logger, i) }
                    logger.close()
                }
            }
        }
    }
    let cases: [(String, (NokoLogger, Int) -> Void)] = [
        ("Encodable struct", { $0.logRow("train", structs[$1]) }),
        ("struct through Mirror", { $0.logRow("train", mirrored[$1]) }),
        ("[String: Any]", { $0.logRow("train", dictionaries[$1]) }),
    ]
    // `--encodable`, `--mirror`, `--dictionary`: that case alone (for a profiler).
    let chosen = cases.enumerated().filter { ["--encodable", "--mirror", "--dictionary"].contains(where: arguments.contains) ? arguments.contains(["--encodable", "--mirror", "--dictionary"][$0.offset]) : true }.map(\.element)
    // `--once`: each chosen case once, no floor, no timing: under `valgrind --tool=dhat`, two
    // row counts give the allocations per row (the difference over the difference in rows).
    if arguments.contains("--once") {
        for (_, log) in chosen { _ = try noko(log)() }
        return
    }
    for (label, log) in chosen {
        let result = try interleaved("\(label) rows (\(rows.formatted()) × 16 values, default outputs without TensorBoard, through close())", repetitions: 7, a: ("floor", floor), b: (label, noko(log)))
        print(result.report(unit: "µs", scale: 1e6 / Double(rows), per: "/row"))
    }
    print("  target: Encodable struct / floor ≤ 1.3, [String: Any] / floor ≤ 1.5")
}
