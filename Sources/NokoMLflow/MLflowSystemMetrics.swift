import NokoCore

/// The `system` table's rows as MLflow's own system metrics (`mlflow.system_metrics`), so
/// they land in the run page's "System metrics" section under the names MLflow's monitor
/// gives them; its other columns go as `system/<key>` beside them (docs/mlflow.md, "System
/// metrics"). MLflow counts megabytes as 10⁶ bytes.
enum MLflowSystemMetrics {
    /// The metrics of one row's `values` (the row's keys without `$`), by MLflow name.
    static func metrics(_ values: [String: Double]) -> [(String, Double)] {
        var out: [(String, Double)] = []
        var used: Set<String> = []
        func put(_ name: String, _ value: Double?, from keys: String...) {
            guard let value, value.isFinite else { return }
            out.append(("system/" + name, value))
            used.formUnion(keys)
        }
        let megabyte = 1e6
        put("cpu_utilization_percentage", values[SystemTable.machineCPUPercent], from: SystemTable.machineCPUPercent)
        if let memory = values[SystemTable.memoryUsedBytes] {
            put("system_memory_usage_megabytes", memory / megabyte, from: SystemTable.memoryUsedBytes)
            if let total = values[SystemTable.memoryTotalBytes], total > 0 {
                put("system_memory_usage_percentage", memory / total * 100, from: SystemTable.memoryTotalBytes)
            }
        }
        put("disk_available_megabytes", values[SystemTable.diskFreeBytes].map { $0 / megabyte }, from: SystemTable.diskFreeBytes)
        put("network_receive_megabytes", values[SystemTable.networkReceivedBytes].map { $0 / megabyte }, from: SystemTable.networkReceivedBytes)
        put("network_transmit_megabytes", values[SystemTable.networkSentBytes].map { $0 / megabyte }, from: SystemTable.networkSentBytes)
        for (key, value) in values where key.hasPrefix("gpu/") && !key.contains("/mig/") {
            let parts = key.split(separator: "/")
            guard parts.count == 3 else { continue }
            let gpu = "gpu_\(parts[1])_"
            switch String(parts[2]) {
            case SystemTable.gpuUtilizationPercent: put(gpu + "utilization_percentage", value, from: key)
            case SystemTable.gpuPowerWatts: put(gpu + "power_usage_watts", value, from: key)
            case SystemTable.gpuMemoryUsedBytes:
                put(gpu + "memory_usage_megabytes", value / megabyte, from: key)
                let totalKey = SystemTable.gpuKey(String(parts[1]), SystemTable.gpuMemoryTotalBytes)
                if let total = values[totalKey], total > 0 { put(gpu + "memory_usage_percentage", value / total * 100, from: totalKey) }
            default: break
            }
        }
        for (key, value) in values where !used.contains(key) && value.isFinite {
            out.append(("system/" + key, value))
        }
        return out
    }
}
