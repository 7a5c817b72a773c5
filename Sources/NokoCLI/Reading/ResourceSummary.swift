import Foundation
import Logging
import NokoCore

/// The one line of `noko-run show` about what the run used, from its `system` table: peak
/// resident memory, mean CPU of the process, mean utilization of its GPUs when it had some.
package struct ResourceSummary: Equatable, Sendable {
    /// The largest `process/rss_bytes` sampled.
    package var peakResidentBytes: Double?
    /// The mean of `process/cpu_percent` over the samples that have one.
    package var meanProcessCPUPercent: Double?
    /// The mean of every GPU's `utilization_percent` over every sample.
    package var meanGPUUtilizationPercent: Double?

    /// The summary of `run`'s system table, nil when it has none (sampling off, a Python
    /// noko run, whose `system` table, if any, is the user's).
    ///
    /// The peak comes from the statistics; the means from the table's rows, read from its
    /// CSV file (small: one row per sample), else from the journal.
    package static func of(_ run: LoadedRun, summary: RunStatistics, messages: Logging.Logger) -> ResourceSummary? {
        guard run.source == .noko, let table = summary.table(SystemTable.name) else { return nil }
        let gpuKeys = table.columns.map(\.name).filter(SystemTable.isGPUUtilization)
        let keys = [SystemTable.processCPUPercent] + gpuKeys
        var result = ResourceSummary(peakResidentBytes: table.column(SystemTable.processResidentBytes)?.max)
        let csv = run.layout.csv(stem: table.fileStem).path
        let rows: LogTable?
        if FileManager.default.fileExists(atPath: csv) {
            rows = try? LogFileLoader.load(csv, keys: keys, messages: messages)
        } else if let journal = run.journalPath {
            rows = try? LogFileLoader.loadTable(SystemTable.name, fromJournal: journal, messages: messages)
        } else {
            rows = nil
        }
        if let rows {
            result.meanProcessCPUPercent = mean(rows[SystemTable.processCPUPercent] ?? [])
            result.meanGPUUtilizationPercent = mean(gpuKeys.flatMap { rows[$0] ?? [] })
        }
        return result
    }

    private static func mean(_ values: [Scalar]) -> Double? {
        var sum = 0.0
        var count = 0
        for value in values {
            switch value {
            case .int(let v): sum += Double(v)
            case .double(let v) where v.isFinite: sum += v
            default: continue
            }
            count += 1
        }
        return count == 0 ? nil : sum / Double(count)
    }

    /// `peak RSS 1.2 GB, mean CPU 87.5 %, mean GPU 64.0 %`; nil when nothing is known.
    package var text: String? {
        var parts: [String] = []
        if let peakResidentBytes { parts.append("peak RSS \(DisplayFormat.bytes(Int64(peakResidentBytes)))") }
        if let meanProcessCPUPercent { parts.append("mean CPU \(String(format: "%.1f", meanProcessCPUPercent)) %") }
        if let meanGPUUtilizationPercent { parts.append("mean GPU \(String(format: "%.1f", meanGPUUtilizationPercent)) %") }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    /// `show --json`'s `resources` object.
    package var json: JSONValue {
        [
            "peak_rss_bytes": peakResidentBytes.map(JSONValue.double) ?? .null,
            "mean_cpu_percent": meanProcessCPUPercent.map(JSONValue.double) ?? .null,
            "mean_gpu_utilization_percent": meanGPUUtilizationPercent.map(JSONValue.double) ?? .null,
        ]
    }
}
