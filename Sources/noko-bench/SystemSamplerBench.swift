import Foundation
import Noko
import NokoCore
import NokoPlatform

/// The system sampler's cost: CPU time per sample (reading /proc, the row into the journal)
/// against logging the same row alone, and what that is at the default interval as a share
/// of one core. Target: under 0.5 % of one core at 10 s.
///
/// Then a 60 s run at the default interval with nothing else running, whose process CPU
/// time is the sampler thread's (`--short` skips it).
func systemSamplerBenchmark(_ arguments: [String]) throws {
    let directory = scratchDirectory("system-sampler")
    let logger = NokoLogger(
        directory: directory, outputs: [try NDJSONOutput(url: RunLayout(directory).journal, level: .trace)], flushInterval: nil)
    defer { logger.close() }
    let sampler = SystemSampler(logger: logger, settings: SystemSampler.Settings(interval: nil, diskPath: directory.path))
    sampler.sampleNow()
    sampler.sampleNow()
    // The same row (the second: it has the rates), already read: what logging it costs
    // without the sampling.
    let row = try LogFileLoader.loadTable(SystemTable.name, fromJournal: RunLayout(directory).journal.path)
    let pairs: [(String, Scalar)] = row.columnNames.filter { !$0.hasPrefix("$") }.compactMap { key in
        row[key]?.last.map { (key, $0) }
    }
    func cpuSeconds(_ body: () -> Void) -> Double {
        let start = WallClock.processCPUTime()
        body()
        let end = WallClock.processCPUTime()
        return end.user + end.system - start.user - start.system
    }
    let samples = 200
    let result = try interleaved(
        "\(samples) samples of \(pairs.count) columns, CPU time", repetitions: 9,
        a: ("log the row", { cpuSeconds { for _ in 0..<samples { logger.logReservedSummary(SystemTable.name, pairs) } } }),
        b: ("sample", { cpuSeconds { for _ in 0..<samples { sampler.sampleNow() } } }))
    print(result.report(unit: "µs", scale: 1e6 / Double(samples), per: "/sample"))
    let perSample = result.medianB / Double(samples)
    let interval = RunOptions.defaultSystemSampleInterval
    let seconds = Double(interval.components.seconds)
    print(String(format: "  at one sample per %.0f s: %.4f %% of one core (target < 0.5 %%)", seconds, perSample / seconds * 100))

    guard !arguments.contains("--short") else { return }
    let quiet = NokoLogger(
        directory: directory, outputs: [try NDJSONOutput(url: directory.appendingPathComponent("quiet.ndjson"), level: .trace)],
        flushInterval: nil)
    let start = WallClock.processCPUTime()
    let background = SystemSampler(
        logger: quiet, settings: SystemSampler.Settings(interval: interval, diskPath: directory.path))
    CurrentProcess.sleep(seconds: 60)
    background.stop()
    let end = WallClock.processCPUTime()
    quiet.close()
    let used = end.user + end.system - start.user - start.system
    print(String(format: "  a 60 s run sampling every %.0f s: %.1f ms of CPU, %.4f %% of one core", seconds, used * 1e3, used / 60 * 100))
}
