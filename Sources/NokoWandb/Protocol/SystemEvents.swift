import NokoCore

/// The `system` table's rows as lines of `wandb-events.jsonl`, the file the dashboard's
/// System tab charts, under the names wandb's own system monitor uses (`system.cpu`,
/// `system.proc.memory.rssMB`…; docs/wandb-protocol.md, "System metrics"). Rows of that
/// table go there instead of into history.
enum SystemEvents {
    /// Whether `line` is a row of the `system` table: a byte search for its `$table`
    /// member (first in noko's own lines), so the other rows are not parsed twice.
    static func isSystemRow(_ line: UnsafeRawBufferPointer) -> Bool {
        let count = member.count
        guard line.count >= count else { return false }
        let first = member[0]
        var i = 0
        while i <= line.count - count {
            if line[i] == first, UnsafeRawBufferPointer(rebasing: line[i..<(i + count)]).elementsEqual(member) { return true }
            i += 1
        }
        return false
    }

    private static let member = Array("\"\(SummarizedRow.tableKey)\":\"\(SystemTable.name)\"".utf8)

    private static let mebibyte = 1_048_576.0

    /// The event line for a row's `members`: `_wandb`, `_timestamp`, `_runtime` (from
    /// `startTime`, or 0 when it is unknown) and the System tab's keys; nil when the row
    /// holds none of them.
    static func line(_ members: [(String, Scalar)], startTime: Double?) -> JSONValue? {
        var values: [String: Double] = [:]
        var timestamp: Double?
        for (key, value) in members {
            let number: Double
            switch value {
            case .double(let x): number = x
            case .int(let n): number = Double(n)
            default: continue
            }
            if key == SummarizedRow.utcTimestampKey { timestamp = number } else if !key.hasPrefix("$") { values[key] = number }
        }
        var event: [String: JSONValue] = [:]
        func put(_ name: String, _ value: Double?) {
            if let value, value.isFinite { event["system." + name] = .double(value) }
        }
        let cores = values[SystemTable.machineCores]
        // wandb's `cpu` is the process's share of the whole machine (psutil's cpu_percent / cpu_count).
        put("cpu", values[SystemTable.processCPUPercent].flatMap { percent in cores.map { percent / max(1, $0) } })
        put("proc.cpu.threads", values[SystemTable.processThreads])
        put("proc.memory.rssMB", values[SystemTable.processResidentBytes].map { $0 / mebibyte })
        let total = values[SystemTable.memoryTotalBytes]
        if let total, total > 0 {
            put("memory_percent", values[SystemTable.memoryUsedBytes].map { $0 / total * 100 })
            put("proc.memory.percent", values[SystemTable.processResidentBytes].map { $0 / total * 100 })
        }
        put("proc.memory.availableMB", values[SystemTable.memoryAvailableBytes].map { $0 / mebibyte })
        put("disk.in", values[SystemTable.diskReadBytes].map { $0 / mebibyte })
        put("disk.out", values[SystemTable.diskWrittenBytes].map { $0 / mebibyte })
        put("network.recv", values[SystemTable.networkReceivedBytes])
        put("network.sent", values[SystemTable.networkSentBytes])
        for (key, value) in values where key.hasPrefix("gpu/") && !key.contains("/mig/") {
            let parts = key.split(separator: "/")
            guard parts.count == 3 else { continue }
            let gpu = "gpu.\(parts[1])."
            switch String(parts[2]) {
            case SystemTable.gpuUtilizationPercent: put(gpu + "gpu", value)
            case SystemTable.gpuTemperatureCelsius: put(gpu + "temp", value)
            case SystemTable.gpuPowerWatts: put(gpu + "powerWatts", value)
            case SystemTable.gpuMemoryUsedBytes:
                put(gpu + "memoryAllocatedBytes", value)
                if let total = values[SystemTable.gpuKey(String(parts[1]), SystemTable.gpuMemoryTotalBytes)], total > 0 {
                    put(gpu + "memoryAllocated", value / total * 100)
                }
            default: break
            }
        }
        guard !event.isEmpty else { return nil }
        event["_wandb"] = .bool(true)
        if let timestamp {
            event["_timestamp"] = .double(timestamp)
            event["_runtime"] = .double(startTime.map { max(0, timestamp - $0) } ?? 0)
        }
        return .object(event)
    }
}
