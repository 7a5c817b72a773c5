import Foundation
import Logging
import NokoCore
import NokoPlatform
import Synchronization

/// Logs the reserved `system` table: this process, the machine, its disks, network and
/// GPUs, one row per sample (one when the run starts, one every interval, one when it
/// finishes), so the journal, CSV, `summary.json`, `noko-run` and every remote see it like
/// any other table.
///
/// Rates (CPU %) cover the time since the previous sample (at least a second back when
/// there is an older one), so the first row has none; disk and network bytes count from
/// the first sample.
package final class SystemSampler: Sendable {
    /// What to sample and how often.
    package struct Settings: Sendable {
        /// Time between samples; nil for no background thread (``sampleNow()`` only).
        package var interval: Duration?
        /// A path on the volume whose free space is reported (the runs directory).
        package var diskPath: String
        /// Where NVML is loaded from: its soname, or (tests) a fake library's path.
        package var nvmlLibrary: String

        package init(interval: Duration?, diskPath: String, nvmlLibrary: String = NVML.defaultLibrary) {
            self.interval = interval
            self.diskPath = diskPath
            self.nvmlLibrary = nvmlLibrary
        }
    }

    private struct State {
        let reader = SystemCounterReader()
        var first: SystemCounters?
        var previous: SystemCounters?
        var beforePrevious: SystemCounters?
        /// GPU metrics already reported as failing, so each is reported once.
        var failedMetrics: Set<String> = []
        var stopped = false
    }

    private let logger: NokoLogger
    private let settings: Settings
    private let nvml: NVML?
    private let processID = CurrentProcess.id
    private let state: Mutex<State>
    private let thread = Mutex<IntervalThread?>(nil)

    /// Loads NVML (once; a machine without it gets one debug message), logs the first
    /// sample, and starts sampling every `settings.interval`.
    package init(logger: NokoLogger, settings: Settings) {
        self.logger = logger
        self.settings = settings
        switch NVML.load(path: settings.nvmlLibrary) {
        case .success(let loaded):
            nvml = loaded
            logger.messages.debug("system samples include \(loaded.devices.count) GPU device(s) through \(settings.nvmlLibrary)")
        case .failure(let error):
            nvml = nil
            logger.messages.debug("no GPU metrics in the system table: \(error)")
        }
        state = Mutex(State())
        sampleNow()
        if let interval = settings.interval {
            let sampler = IntervalThread(name: "noko-system", interval: interval) { [weak self] in self?.sampleNow() }
            thread.withLock { $0 = sampler }
        }
    }

    deinit {
        // Not `stop()`: the last reference may be dropped on the sampling thread itself.
        thread.withLock { $0?.requestStop() }
    }

    /// The GPUs (and MIG devices) found, by their key in the table (`0`, `0/mig/1`).
    package var gpuDevices: [String] { nvml?.devices.map(\.key) ?? [] }

    /// Takes a sample now and logs it (nothing once stopped).
    package func sampleNow() {
        var failures: [NVML.Failure] = []
        let pairs: [(String, Scalar)]? = state.withLock { s in
            guard !s.stopped else { return nil }
            return row(&s, failures: &failures)
        }
        guard let pairs else { return }
        logger.logReservedSummary(SystemTable.name, pairs)
        for failure in failures { report(failure) }
    }

    /// Stops the background thread and logs the last sample. Safe to call more than once.
    package func stop() {
        let sampler = thread.withLock { t in
            defer { t = nil }
            return t
        }
        sampler?.stop()
        sampleNow()
        state.withLock { $0.stopped = true }
    }

    private func row(_ s: inout State, failures: inout [NVML.Failure]) -> [(String, Scalar)] {
        let now = s.reader.read()
        let first = s.first ?? now
        if s.first == nil { s.first = now }
        defer {
            s.beforePrevious = s.previous
            s.previous = now
        }
        var pairs: [(String, Scalar)] = []
        pairs.reserveCapacity(24)
        func add(_ key: String, _ value: UInt64?) {
            if let value { pairs.append((key, .int(Int64(clamping: value)))) }
        }
        func add(_ key: String, _ value: Int?) {
            if let value { pairs.append((key, .int(Int64(value)))) }
        }
        func add(_ key: String, _ value: Double?) {
            if let value, value.isFinite { pairs.append((key, .double(value))) }
        }
        func since(_ path: KeyPath<SystemCounters, UInt64?>) -> UInt64? {
            guard let current = now[keyPath: path], let start = first[keyPath: path] else { return nil }
            return current >= start ? current - start : 0
        }

        // Rates are taken against the previous sample, or the one before it when the
        // previous is under a second old (the finishing sample may follow a periodic one
        // within microseconds); a short run's last row covers the whole run.
        var processCPU: Double?
        var machineCPU: Double?
        var reference = s.previous
        if let previous = s.previous, now.monotonicTime - previous.monotonicTime < 1, let older = s.beforePrevious {
            reference = older
        }
        if let previous = reference, case let wall = now.monotonicTime - previous.monotonicTime, wall > 0 {
            processCPU = max(0, now.processCPUSeconds - previous.processCPUSeconds) / wall * 100
            if let total = now.machineTotalTicks, let busy = now.machineBusyTicks,
                let previousTotal = previous.machineTotalTicks, let previousBusy = previous.machineBusyTicks, total > previousTotal
            {
                let busyDelta = Double(busy >= previousBusy ? busy - previousBusy : 0)
                machineCPU = min(100, busyDelta / Double(total - previousTotal) * 100)
            }
        }
        add(SystemTable.processCPUPercent, processCPU)
        add(SystemTable.processResidentBytes, now.residentBytes)
        add(SystemTable.processThreads, now.threads)
        add(SystemTable.processOpenDescriptors, now.openDescriptors)
        add(SystemTable.machineCPUPercent, machineCPU)
        add(SystemTable.machineCores, now.cores)
        if let total = now.memoryTotalBytes, let available = now.memoryAvailableBytes {
            add(SystemTable.memoryUsedBytes, total >= available ? total - available : 0)
        }
        add(SystemTable.memoryAvailableBytes, now.memoryAvailableBytes)
        add(SystemTable.memoryTotalBytes, now.memoryTotalBytes)
        add(SystemTable.loadAverage1, now.loadAverage1)
        add(SystemTable.loadAverage5, now.loadAverage5)
        add(SystemTable.loadAverage15, now.loadAverage15)
        add(SystemTable.diskFreeBytes, SystemCounterReader.availableDiskBytes(at: settings.diskPath))
        add(SystemTable.diskReadBytes, since(\.diskReadBytes))
        add(SystemTable.diskWrittenBytes, since(\.diskWrittenBytes))
        add(SystemTable.networkReceivedBytes, since(\.networkReceivedBytes))
        add(SystemTable.networkSentBytes, since(\.networkSentBytes))
        nvml?.sample(into: &pairs, processID: processID) { failure in
            // A device without the reading (a MIG parent's utilization) must not hide
            // another's real failure of the same metric.
            if s.failedMetrics.insert("\(failure.metric)|\(failure.isNotSupported)").inserted { failures.append(failure) }
        }
        return pairs
    }

    /// One message per metric, the first time it fails: a warning, or a debug message when
    /// the device simply has no such reading.
    private func report(_ failure: NVML.Failure) {
        let message: Logger.Message =
            "GPU metric '\(failure.metric)' is left out of the system table: \(failure.function) failed on GPU \(failure.device): \(failure.reason)"
        if failure.isNotSupported {
            logger.messages.debug(message)
        } else {
            logger.messages.warning(message)
        }
    }

    /// The sampling interval `environment` asks for: `NOKO_SYSTEM=off` (or `0`, `false`,
    /// `no`) turns sampling off, a number of seconds sets the interval; anything else is
    /// ignored with a warning naming it.
    package static func interval(
        _ configured: Duration?, environment: [String: String], warn: (String) -> Void
    ) -> Duration? {
        guard let value = environment["NOKO_SYSTEM"]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return configured }
        switch value.lowercased() {
        case "off", "0", "false", "no": return nil
        case "on", "true", "yes": return configured ?? RunOptions.defaultSystemSampleInterval
        default:
            if let seconds = Double(value), seconds.isFinite, seconds > 0 {
                return .milliseconds(Int64(seconds * 1000))
            }
            warn("NOKO_SYSTEM='\(value)' is neither off/on nor a number of seconds; it is ignored")
            return configured
        }
    }
}
