import NokoCore
import NokoPlatform

/// NVIDIA's management library, loaded at run time (`dlopen("libnvidia-ml.so.1")`): no
/// link-time dependency, no `nvidia-smi` subprocess. Each metric is its own call, so one
/// that fails (a MIG device has no utilization of its own, a board without a power sensor)
/// leaves the others standing.
///
/// Immutable once loaded (function pointers and device handles), so shared freely.
final class NVML: @unchecked Sendable {
    /// The library's name as the driver installs it.
    static let defaultLibrary = "libnvidia-ml.so.1"

    /// A GPU, or a MIG device of one: its handle and its place in the `system` table's keys
    /// (`0`, `1/mig/0`).
    struct Device: @unchecked Sendable {
        // NVML's handles are valid until nvmlShutdown, which noko never calls.
        let handle: OpaquePointer?
        let key: String
        let isMIG: Bool
    }

    /// One metric reading that failed: the metric, the NVML function, the device and NVML's code.
    struct Failure: Sendable, Equatable {
        let metric: String
        let function: String
        let device: String
        let code: Int32
        /// NVML's text for the code.
        let reason: String

        /// `NVML_ERROR_NOT_SUPPORTED`: the device has no such reading (not an error).
        var isNotSupported: Bool { code == NVML.notSupported }
    }

    private typealias InitFunction = @convention(c) () -> Int32
    private typealias CountFunction = @convention(c) (UnsafeMutablePointer<UInt32>?) -> Int32
    private typealias HandleByIndexFunction = @convention(c) (UInt32, UnsafeMutablePointer<OpaquePointer?>?) -> Int32
    private typealias DeviceUInt32Function = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt32>?) -> Int32
    private typealias DeviceUInt64sFunction = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt64>?) -> Int32
    private typealias TemperatureFunction = @convention(c) (OpaquePointer?, UInt32, UnsafeMutablePointer<UInt32>?) -> Int32
    private typealias ProcessesFunction = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt32>?, UnsafeMutableRawPointer?) -> Int32
    private typealias MigModeFunction = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt32>?, UnsafeMutablePointer<UInt32>?) -> Int32
    private typealias MigHandleFunction = @convention(c) (OpaquePointer?, UInt32, UnsafeMutablePointer<OpaquePointer?>?) -> Int32
    private typealias ErrorStringFunction = @convention(c) (Int32) -> UnsafePointer<CChar>?

    static let success: Int32 = 0
    static let notSupported: Int32 = 3
    static let insufficientSize: Int32 = 7
    private static let temperatureSensorGPU: UInt32 = 0
    /// `usedGpuMemory` when the driver cannot tell (`NVML_VALUE_NOT_AVAILABLE`).
    private static let valueNotAvailable = UInt64.max
    /// `nvmlProcessInfo_t` (v2 and v3): pid, 4 bytes of padding, usedGpuMemory, GPU
    /// instance id, compute instance id.
    private static let processInfoSize = 24

    let library: DynamicLibrary
    let devices: [Device]
    private let utilization: DeviceUInt32Function?
    private let memory: DeviceUInt64sFunction?
    private let temperature: TemperatureFunction?
    private let power: DeviceUInt32Function?
    private let processes: ProcessesFunction?
    private let processesName: String
    private let errorString: ErrorStringFunction?

    /// Loads NVML from `path` and lists its GPUs and their MIG devices. Fails with a
    /// sentence when the library is missing, does not initialize, or has no device.
    static func load(path: String) -> Result<NVML, NVMLLoadError> {
        let library: DynamicLibrary
        switch DynamicLibrary.open(path) {
        case .success(let opened): library = opened
        case .failure(let error): return .failure(NVMLLoadError(description: "\(error)"))
        }
        func function<F>(_ name: String, as type: F.Type) -> F? {
            library.symbol(name).map { unsafeBitCast($0, to: type) }
        }
        guard let initialize = function("nvmlInit_v2", as: InitFunction.self),
            let count = function("nvmlDeviceGetCount_v2", as: CountFunction.self),
            let handleByIndex = function("nvmlDeviceGetHandleByIndex_v2", as: HandleByIndexFunction.self)
        else {
            return .failure(NVMLLoadError(description: "\(path) lacks nvmlInit_v2, nvmlDeviceGetCount_v2 or nvmlDeviceGetHandleByIndex_v2"))
        }
        let errorString = function("nvmlErrorString", as: ErrorStringFunction.self)
        let initialized = initialize()
        guard initialized == success else {
            return .failure(NVMLLoadError(description: "nvmlInit_v2 failed: \(reason(initialized, errorString))"))
        }
        var deviceCount: UInt32 = 0
        let counted = count(&deviceCount)
        guard counted == success else {
            return .failure(NVMLLoadError(description: "nvmlDeviceGetCount_v2 failed: \(reason(counted, errorString))"))
        }
        let migMode = function("nvmlDeviceGetMigMode", as: MigModeFunction.self)
        let maxMigCount = function("nvmlDeviceGetMaxMigDeviceCount", as: DeviceUInt32Function.self)
        let migHandle = function("nvmlDeviceGetMigDeviceHandleByIndex", as: MigHandleFunction.self)
        var devices: [Device] = []
        for index in 0..<deviceCount {
            var handle: OpaquePointer?
            guard handleByIndex(index, &handle) == success else { continue }
            devices.append(Device(handle: handle, key: "\(index)", isMIG: false))
            // MIG: a GPU split into instances reports each one as a device of its own.
            var current: UInt32 = 0
            var pending: UInt32 = 0
            guard let migMode, let maxMigCount, let migHandle, migMode(handle, &current, &pending) == success, current == 1 else {
                continue
            }
            var slots: UInt32 = 0
            guard maxMigCount(handle, &slots) == success else { continue }
            for slot in 0..<slots {
                var mig: OpaquePointer?
                // Empty slots report NVML_ERROR_NOT_FOUND.
                guard migHandle(handle, slot, &mig) == success else { continue }
                devices.append(Device(handle: mig, key: "\(index)/mig/\(slot)", isMIG: true))
            }
        }
        guard !devices.isEmpty else { return .failure(NVMLLoadError(description: "NVML reports no GPU")) }
        let v3 = function("nvmlDeviceGetComputeRunningProcesses_v3", as: ProcessesFunction.self)
        return .success(
            NVML(
                library: library, devices: devices,
                utilization: function("nvmlDeviceGetUtilizationRates", as: DeviceUInt32Function.self),
                memory: function("nvmlDeviceGetMemoryInfo", as: DeviceUInt64sFunction.self),
                temperature: function("nvmlDeviceGetTemperature", as: TemperatureFunction.self),
                power: function("nvmlDeviceGetPowerUsage", as: DeviceUInt32Function.self),
                processes: v3 ?? function("nvmlDeviceGetComputeRunningProcesses_v2", as: ProcessesFunction.self),
                processesName: v3 != nil ? "nvmlDeviceGetComputeRunningProcesses_v3" : "nvmlDeviceGetComputeRunningProcesses_v2",
                errorString: errorString))
    }

    private init(
        library: DynamicLibrary, devices: [Device], utilization: DeviceUInt32Function?, memory: DeviceUInt64sFunction?,
        temperature: TemperatureFunction?, power: DeviceUInt32Function?, processes: ProcessesFunction?, processesName: String,
        errorString: ErrorStringFunction?
    ) {
        self.library = library
        self.devices = devices
        self.utilization = utilization
        self.memory = memory
        self.temperature = temperature
        self.power = power
        self.processes = processes
        self.processesName = processesName
        self.errorString = errorString
    }

    private static func reason(_ code: Int32, _ errorString: ErrorStringFunction?) -> String {
        guard let text = errorString?(code) else { return "NVML error \(code)" }
        return "\(String(cString: text)) (NVML error \(code))"
    }

    /// Every device's metrics, appended to `pairs` under the `system` table's GPU keys;
    /// each failing reading is reported to `failed` and leaves its column out.
    func sample(into pairs: inout [(String, Scalar)], processID: Int32, failed: (Failure) -> Void) {
        for device in devices {
            func report(_ metric: String, _ function: String, _ code: Int32) {
                failed(Failure(metric: metric, function: function, device: device.key, code: code, reason: NVML.reason(code, errorString)))
            }
            func key(_ metric: String) -> String { SystemTable.gpuKey(device.key, metric) }
            // A MIG device has no utilization, temperature or power of its own (NVML says
            // NOT_SUPPORTED): its parent's columns cover them.
            if !device.isMIG, let utilization {
                var rates: (gpu: UInt32, memory: UInt32) = (0, 0)
                let code = withUnsafeMutableBytes(of: &rates) { utilization(device.handle, $0.baseAddress!.assumingMemoryBound(to: UInt32.self)) }
                if code == NVML.success {
                    pairs.append((key(SystemTable.gpuUtilizationPercent), .int(Int64(rates.gpu))))
                } else {
                    report(SystemTable.gpuUtilizationPercent, "nvmlDeviceGetUtilizationRates", code)
                }
            }
            if let memory {
                var info: (total: UInt64, free: UInt64, used: UInt64) = (0, 0, 0)
                let code = withUnsafeMutableBytes(of: &info) { memory(device.handle, $0.baseAddress!.assumingMemoryBound(to: UInt64.self)) }
                if code == NVML.success {
                    pairs.append((key(SystemTable.gpuMemoryUsedBytes), .int(Int64(clamping: info.used))))
                    pairs.append((key(SystemTable.gpuMemoryTotalBytes), .int(Int64(clamping: info.total))))
                } else {
                    report(SystemTable.gpuMemoryUsedBytes, "nvmlDeviceGetMemoryInfo", code)
                }
            }
            if !device.isMIG, let temperature {
                var celsius: UInt32 = 0
                let code = temperature(device.handle, NVML.temperatureSensorGPU, &celsius)
                if code == NVML.success {
                    pairs.append((key(SystemTable.gpuTemperatureCelsius), .int(Int64(celsius))))
                } else {
                    report(SystemTable.gpuTemperatureCelsius, "nvmlDeviceGetTemperature", code)
                }
            }
            if !device.isMIG, let power {
                var milliwatts: UInt32 = 0
                let code = power(device.handle, &milliwatts)
                if code == NVML.success {
                    pairs.append((key(SystemTable.gpuPowerWatts), .double(Double(milliwatts) / 1000)))
                } else {
                    report(SystemTable.gpuPowerWatts, "nvmlDeviceGetPowerUsage", code)
                }
            }
            if let processes {
                switch processMemory(device, processes, processID: processID) {
                case .success(let bytes): pairs.append((key(SystemTable.gpuProcessMemoryBytes), .int(Int64(clamping: bytes))))
                case .failure(let error): report(SystemTable.gpuProcessMemoryBytes, processesName, error.code)
                }
            }
        }
    }

    /// The GPU memory this process uses on `device` (0 when it runs nothing there).
    private func processMemory(_ device: Device, _ processes: ProcessesFunction, processID: Int32) -> Result<UInt64, NVMLCode> {
        var capacity: UInt32 = 32
        for _ in 0..<3 {
            var count = capacity
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: Int(capacity) * NVML.processInfoSize, alignment: 8)
            defer { buffer.deallocate() }
            let code = processes(device.handle, &count, buffer)
            if code == NVML.insufficientSize {
                capacity = max(count, capacity) * 2
                continue
            }
            guard code == NVML.success else { return .failure(NVMLCode(code)) }
            var total: UInt64 = 0
            for index in 0..<Int(min(count, capacity)) {
                let entry = buffer + index * NVML.processInfoSize
                guard entry.loadUnaligned(as: UInt32.self) == UInt32(bitPattern: processID) else { continue }
                let used = entry.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                if used != NVML.valueNotAvailable { total += used }
            }
            return .success(total)
        }
        return .failure(NVMLCode(NVML.insufficientSize))
    }
}

/// An NVML return code as an error (for `Result`).
struct NVMLCode: Error {
    let code: Int32
    init(_ code: Int32) { self.code = code }
}

/// Why NVML is not used: the library is missing, or did not start.
struct NVMLLoadError: Error, Sendable, CustomStringConvertible {
    let description: String
}
