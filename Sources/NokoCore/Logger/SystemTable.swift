/// The reserved `system` table: noko's own samples of the process, the machine and its GPUs,
/// logged by the run's system sampler like any other table. Its name and column keys are
/// defined here once, for the sampler that writes them and the CLI that reads them.
package enum SystemTable {
    /// The table's name. A user table of that name is logged as ``renamedUserTable`` instead.
    package static let name = "system"
    /// Where a user's rows for a table named ``name`` go.
    package static let renamedUserTable = "system_1"

    /// This process's CPU use, in percent of one core (above 100 with several busy threads).
    package static let processCPUPercent = "process/cpu_percent"
    package static let processResidentBytes = "process/rss_bytes"
    package static let processThreads = "process/threads"
    package static let processOpenDescriptors = "process/open_fds"
    /// The machine's CPU use, in percent of all its cores.
    package static let machineCPUPercent = "cpu/percent"
    package static let machineCores = "cpu/cores"
    package static let memoryUsedBytes = "memory/used_bytes"
    package static let memoryAvailableBytes = "memory/available_bytes"
    package static let memoryTotalBytes = "memory/total_bytes"
    package static let loadAverage1 = "load/1m"
    package static let loadAverage5 = "load/5m"
    package static let loadAverage15 = "load/15m"
    /// Free space on the volume holding the runs directory.
    package static let diskFreeBytes = "disk/free_bytes"
    /// Bytes read from and written to the machine's disks since the run started.
    package static let diskReadBytes = "disk/read_bytes"
    package static let diskWrittenBytes = "disk/written_bytes"
    /// Bytes received and sent on every interface but loopback since the run started.
    package static let networkReceivedBytes = "network/received_bytes"
    package static let networkSentBytes = "network/sent_bytes"

    /// The key of GPU `index`'s `metric` (`gpu/0/utilization_percent`); a MIG device of it
    /// is `gpu/0/mig/1/<metric>`.
    package static func gpuKey(_ device: String, _ metric: String) -> String { "gpu/\(device)/\(metric)" }
    /// GPU metrics' last path component.
    package static let gpuUtilizationPercent = "utilization_percent"
    package static let gpuMemoryUsedBytes = "memory_used_bytes"
    package static let gpuMemoryTotalBytes = "memory_total_bytes"
    package static let gpuTemperatureCelsius = "temperature_c"
    package static let gpuPowerWatts = "power_watts"
    package static let gpuProcessMemoryBytes = "process_memory_bytes"

    /// True for a key of the system table that is a GPU's utilization (a whole GPU's, not a
    /// MIG device's).
    package static func isGPUUtilization(_ key: String) -> Bool {
        key.hasPrefix("gpu/") && key.hasSuffix("/" + gpuUtilizationPercent) && !key.contains("/mig/")
    }
}
