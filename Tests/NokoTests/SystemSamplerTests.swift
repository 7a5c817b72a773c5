import Foundation
import InMemoryLogging
import Logging
import NokoPlatform
import NokoTestSupport
import Testing

@testable import Noko

/// A logger into memory whose messages are recorded, and a sampler on it without a
/// background thread (samples are taken by the test).
private func sampler(nvml: String = "/nonexistent/libnvidia-ml.so.1", _ label: String = #function)
    -> (SystemSampler, InMemoryOutput, InMemoryLogHandler, NokoLogger)
{
    let handler = InMemoryLogHandler()
    var messages = Logging.Logger(label: "noko") { _ in handler }
    messages.logLevel = .trace
    let memory = InMemoryOutput()
    let logger = NokoLogger(outputs: [memory], flushInterval: nil, messages: messages)
    let sampler = SystemSampler(
        logger: logger,
        settings: SystemSampler.Settings(interval: nil, diskPath: temporaryDirectory(label).path, nvmlLibrary: nvml))
    return (sampler, memory, handler, logger)
}

private func messages(_ handler: InMemoryLogHandler, _ level: Logging.Logger.Level) -> [String] {
    handler.entries.filter { $0.level == level }.map { "\($0.message)" }
}

private func int(_ row: SummarizedRow?, _ key: String) -> Int64? {
    if case .int(let value)? = row?[key] { return value }
    return nil
}

private func double(_ row: SummarizedRow?, _ key: String) -> Double? {
    switch row?[key] {
    case .double(let value)?: return value
    case .int(let value)?: return Double(value)
    default: return nil
    }
}

/// What the test reads from /proc itself, to compare with the sampler's row.
private struct ProcReading {
    var rss: Int64 = 0
    var threads: Int64 = 0
    var descriptors: Int64 = 0
    var memoryTotal: Int64 = 0
    var memoryAvailable: Int64 = 0
    var diskFree: Int64 = 0

    init(diskPath: String) throws {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        func field(_ text: String, _ name: String) -> Int64 {
            let line = text.split(separator: "\n").first { $0.hasPrefix(name + ":") }!
            return Int64(line.split(separator: " ", omittingEmptySubsequences: true)[1].trimmingCharacters(in: .whitespaces))!
        }
        rss = field(status.replacingOccurrences(of: "\t", with: " "), "VmRSS") * 1024
        threads = field(status.replacingOccurrences(of: "\t", with: " "), "Threads")
        // The listing's own descriptor shows in it.
        descriptors = Int64(try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count - 1)
        let meminfo = try String(contentsOfFile: "/proc/meminfo", encoding: .utf8)
        memoryTotal = field(meminfo, "MemTotal") * 1024
        memoryAvailable = field(meminfo, "MemAvailable") * 1024
        let attributes = try FileManager.default.attributesOfFileSystem(forPath: diskPath)
        diskFree = (attributes[.systemFreeSize] as! NSNumber).int64Value
    }
}

/// `value` lies between the two readings taken around the sample, give or take `slack`.
private func between(_ value: Int64?, _ before: Int64, _ after: Int64, slack: Int64) -> Bool {
    guard let value else { return false }
    return value >= min(before, after) - slack && value <= max(before, after) + slack
}

@Suite(.serialized) struct SystemSamplerTests {
    #if os(Linux)
    @Test func stableFieldsAgreeWithProcReadAtTheSameMoment() throws {
        let (sampler, memory, _, logger) = sampler()
        defer { logger.close() }
        let path = temporaryDirectory().path
        let before = try ProcReading(diskPath: path)
        sampler.sampleNow()
        let after = try ProcReading(diskPath: path)
        let row = memory.rows(in: "system").last
        #expect(between(int(row, "process/rss_bytes"), before.rss, after.rss, slack: 8 << 20))
        // Other tests run in this process meanwhile, starting threads and opening files.
        #expect(between(int(row, "process/threads"), before.threads, after.threads, slack: 4))
        #expect(between(int(row, "process/open_fds"), before.descriptors, after.descriptors, slack: 8))
        #expect(int(row, "memory/total_bytes") == before.memoryTotal)
        #expect(between(int(row, "memory/available_bytes"), before.memoryAvailable, after.memoryAvailable, slack: 64 << 20))
        #expect(int(row, "memory/used_bytes").map { $0 + int(row, "memory/available_bytes")! } == before.memoryTotal)
        #expect(int(row, "cpu/cores") == Int64(ProcessInfo.processInfo.activeProcessorCount))
        #expect(double(row, "load/1m").map { $0 >= 0 } == true)
        #expect(row?["disk/read_bytes"] != nil && row?["network/received_bytes"] != nil)
    }

    @Test func diskFreeIsTheRunsVolumes() throws {
        let (sampler, memory, _, logger) = sampler()
        defer { logger.close() }
        let path = temporaryDirectory().path
        let before = try ProcReading(diskPath: path)
        sampler.sampleNow()
        let after = try ProcReading(diskPath: path)
        // Other processes write to the same disk meanwhile.
        #expect(between(int(memory.rows(in: "system").last, "disk/free_bytes"), before.diskFree, after.diskFree, slack: 256 << 20))
    }
    #endif

    /// In a child process of its own: this one runs other tests in parallel, whose CPU
    /// would count as this process's.
    @Test func cpuPercentIsInRangeAndRisesUnderABusyLoop() throws {
        let child = try Child(["system-cpu"])
        #expect(child.wait() == 0, "\(child.stderr)")
        func values(_ label: String) -> [Double] {
            child.lines.filter { $0.hasPrefix(label + " ") }.compactMap { Double($0.dropFirst(label.count + 1)) }
        }
        let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
        let busy = try #require(values("busy").first, "\(child.lines)")
        let idle = try #require(values("idle").first, "\(child.lines)")
        #expect(busy >= 0 && busy <= 100 * cores + 5)
        #expect(idle >= 0 && idle <= 100 * cores + 5)
        #expect(busy > 5 && busy > 2 * idle, "busy \(busy) %, idle \(idle) %")
        let machine = values("machine")
        #expect(machine.count == 2, "\(child.lines)")
        #expect(machine.allSatisfy { $0 >= 0 && $0 <= 100 })
    }

    @Test func theFirstSampleHasNoRateAndTheNextOneDoes() throws {
        let (sampler, memory, _, logger) = sampler()
        defer { logger.close() }
        sampler.sampleNow()
        let rows = memory.rows(in: "system")
        #expect(rows.first?["process/cpu_percent"] == nil)
        #expect(rows.last.flatMap { double($0, "process/cpu_percent") }.map { $0 >= 0 } == true)
    }

    @Test func withoutNVMLThereIsOneDebugMessageAndNoGPUColumn() throws {
        let (sampler, memory, handler, logger) = sampler()
        defer { logger.close() }
        sampler.sampleNow()
        #expect(memory.rows(in: "system").allSatisfy { row in !row.keys.contains { $0.hasPrefix("gpu/") } })
        #expect(messages(handler, .debug).filter { $0.contains("no GPU metrics") }.count == 1)
        #expect(messages(handler, .warning).isEmpty)
    }

    @Test func gpuMetricsThroughAFakeNVMLEachFailingOnItsOwnWithMIGDevices() throws {
        let library = try FakeNVML.build()
        let (sampler, memory, handler, logger) = sampler(nvml: library)
        defer { logger.close() }
        #expect(sampler.gpuDevices == ["0", "1", "1/mig/0", "1/mig/2"])
        sampler.sampleNow()
        sampler.sampleNow()
        let rows = memory.rows(in: "system")
        #expect(rows.count == 3)
        for row in rows {
            #expect(int(row, "gpu/0/utilization_percent") == 37)
            #expect(int(row, "gpu/0/memory_used_bytes") == 3 << 30)
            #expect(int(row, "gpu/0/memory_total_bytes") == 16 << 30)
            #expect(int(row, "gpu/0/temperature_c") == 55)
            #expect(int(row, "gpu/0/process_memory_bytes") == 512 << 20)
            #expect(int(row, "gpu/1/utilization_percent") == 80)
            #expect(int(row, "gpu/1/temperature_c") == 61)
            // 40 processes: more than the first buffer, so the retry with a larger one.
            #expect(int(row, "gpu/1/process_memory_bytes") == 2 << 30)
            #expect(int(row, "gpu/1/mig/0/memory_used_bytes") == 1 << 30)
            #expect(int(row, "gpu/1/mig/0/memory_total_bytes") == 10 << 30)
            #expect(int(row, "gpu/1/mig/0/process_memory_bytes") == 256 << 20)
            #expect(int(row, "gpu/1/mig/2/memory_used_bytes") == 2 << 30)
            #expect(int(row, "gpu/1/mig/2/process_memory_bytes") == 0)
            #expect(!row.keys.contains { $0.hasPrefix("gpu/1/mig/1/") }, "an empty MIG slot")
            #expect(!row.keys.contains { $0.hasSuffix("/power_watts") }, "the failing metric")
            #expect(row["process/rss_bytes"] != nil, "the other metrics go on")
        }
        // One warning for the failing metric, not one per sample or per GPU.
        let warnings = messages(handler, .warning)
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.contains("power_watts") == true)
        #expect(warnings.first?.contains("nvmlDeviceGetPowerUsage") == true)
        #expect(warnings.first?.contains("Unknown Error") == true)
    }

    @Test func aLibraryThatIsNotNVMLIsNotUsed() throws {
        #if os(Linux)
        guard case .failure(let error) = NVML.load(path: "libc.so.6") else {
            Issue.record("libc was taken for NVML")
            return
        }
        #expect(error.description.contains("lacks nvmlInit_v2"), "\(error)")
        #endif
        guard case .failure(let missing) = NVML.load(path: "/nonexistent/libnvidia-ml.so.1") else {
            Issue.record("a missing library loaded")
            return
        }
        #expect(missing.description.contains("/nonexistent/libnvidia-ml.so.1"), "\(missing)")
    }

    /// Hardware, not a package: machines without an NVIDIA driver skip it.
    @Test(.enabled(if: (try? NVML.load(path: NVML.defaultLibrary).get()) != nil, "no NVIDIA driver (libnvidia-ml.so.1) on this machine"))
    func theRealNVMLWhenThisMachineHasIt() throws {
        let nvml = try NVML.load(path: NVML.defaultLibrary).get()
        let (sampler, memory, _, logger) = sampler(nvml: NVML.defaultLibrary)
        defer { logger.close() }
        sampler.sampleNow()
        let row = try #require(memory.rows(in: "system").last)
        for device in nvml.devices {
            #expect(row["gpu/\(device.key)/memory_total_bytes"] != nil)
        }
    }

    @Test func aUserTableNamedSystemGetsAWarningAndAnotherName() throws {
        let (sampler, memory, handler, logger) = sampler()
        defer { logger.close() }
        logger.logRow("system", ["x": 1])
        logger.logRow("system", ["x": 2])
        logger.logSummary("system", [("x", .int(3))])
        sampler.sampleNow()
        #expect(memory.rows(in: "system_1").map { $0["x"] } == [.int(1), .int(2), .int(3)])
        #expect(memory.rows(in: "system").count == 2)
        #expect(memory.rows(in: "system").allSatisfy { $0["x"] == nil })
        #expect(messages(handler, .warning).filter { $0.contains("'system' is reserved") }.count == 1)
    }

    @Test func nokoSystemTurnsSamplingOffOrSetsTheInterval() {
        var warnings: [String] = []
        let configured = Duration.seconds(10)
        for off in ["off", "OFF", "0", "false", "no"] {
            #expect(SystemSampler.interval(configured, environment: ["NOKO_SYSTEM": off]) { warnings.append($0) } == nil)
        }
        #expect(SystemSampler.interval(configured, environment: [:]) { warnings.append($0) } == configured)
        #expect(SystemSampler.interval(nil, environment: [:]) { warnings.append($0) } == nil)
        #expect(SystemSampler.interval(configured, environment: ["NOKO_SYSTEM": "2.5"]) { warnings.append($0) } == .milliseconds(2500))
        #expect(SystemSampler.interval(nil, environment: ["NOKO_SYSTEM": "on"]) { warnings.append($0) } == .seconds(10))
        #expect(warnings.isEmpty)
        #expect(SystemSampler.interval(configured, environment: ["NOKO_SYSTEM": "sometimes"]) { warnings.append($0) } == configured)
        #expect(warnings.count == 1 && warnings[0].contains("NOKO_SYSTEM='sometimes'"))
    }

    @Test func aRunLogsASampleAtStartAndAtFinishAndNOKOSYSTEMOffHasNone() throws {
        let runs = temporaryDirectory()
        let child = try Child(["extra", runs.path, "on", "3"])
        #expect(child.wait() == 0, "\(child.stderr)")
        let journal = runs.appendingPathComponent("on/noko.ndjson").path
        let system = try LogFileLoader.loadTable("system", fromJournal: journal)
        #expect(system.rowCount == 2, "the default interval is 10 s: one sample at start, one at finish")
        #expect(system["process/cpu_percent"]?.first == .null)
        #expect(system["process/cpu_percent"]?.last.map { $0 != .null } == true)
        #expect(system["process/rss_bytes"]?.allSatisfy { $0 != .null } == true)
        #expect(try LogFileLoader.loadTable("t", fromJournal: journal).rowCount == 3)

        let off = try Child(["extra", runs.path, "off", "3"], environment: ["NOKO_SYSTEM": "off"])
        #expect(off.wait() == 0, "\(off.stderr)")
        let offJournal = try String(contentsOfFile: runs.appendingPathComponent("off/noko.ndjson").path, encoding: .utf8)
        #expect(!offJournal.contains("\"$table\":\"system\""))
    }

    @Test func theFinishingSampleRightAfterAPeriodicOneTakesItsRateOverTheIntervalBefore() throws {
        let (sampler, memory, _, logger) = sampler()
        defer { logger.close() }
        func cpu() -> Double {
            let t = WallClock.processCPUTime()
            return t.user + t.system
        }
        CurrentProcess.sleep(seconds: 1.1)
        let (cpuBefore, wallBefore) = (cpu(), WallClock.monotonic())
        sampler.sampleNow()
        // Busy for a while (over a second), then two samples microseconds apart: the
        // second's rate covers the busy stretch, not the microseconds.
        var sink = 0.0
        while WallClock.monotonic() - wallBefore < 1.2 { for i in 0..<10_000 { sink += Double(i).squareRoot() } }
        #expect(sink > 0)
        sampler.sampleNow()
        sampler.sampleNow()
        let (cpuAfter, wallAfter) = (cpu(), WallClock.monotonic())
        let expected = (cpuAfter - cpuBefore) / (wallAfter - wallBefore) * 100
        let rows = memory.rows(in: "system")
        let last = try #require(double(rows.last, "process/cpu_percent"))
        #expect(abs(last - expected) < expected * 0.5 + 5, "\(last) %, expected about \(expected) %")
    }

    @Test func anIntervalSamplesInTheBackground() throws {
        let handler = InMemoryLogHandler()
        let memory = InMemoryOutput()
        let logger = NokoLogger(outputs: [memory], flushInterval: nil, messages: Logging.Logger(label: "noko") { _ in handler })
        let sampler = SystemSampler(
            logger: logger,
            settings: SystemSampler.Settings(
                interval: .milliseconds(20), diskPath: temporaryDirectory().path, nvmlLibrary: "/nonexistent/libnvidia-ml.so.1"))
        let deadline = WallClock.monotonic() + 30
        while memory.rows(in: "system").count < 4 && WallClock.monotonic() < deadline { CurrentProcess.sleep(seconds: 0.01) }
        sampler.stop()
        let count = memory.rows(in: "system").count
        #expect(count >= 4)
        sampler.stop()
        sampler.sampleNow()
        #expect(memory.rows(in: "system").count == count, "nothing after stop")
        logger.close()
    }
}

/// The fake NVML of `Fixtures/fake_nvml.c`, compiled once per test process.
enum FakeNVML {
    private static let built: Result<String, FakeNVMLError> = {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/fake_nvml.c")
        let output = temporaryDirectory("fake-nvml").appendingPathComponent("libnvidia-ml.so.1").path
        let compiler = Process()
        compiler.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        compiler.arguments = ["cc", "-shared", "-fPIC", "-O1", "-o", output, source.path]
        do {
            try compiler.run()
            compiler.waitUntilExit()
        } catch {
            return .failure(FakeNVMLError(description: "cannot run cc: \(error)"))
        }
        guard compiler.terminationStatus == 0 else {
            return .failure(FakeNVMLError(description: "cc failed on \(source.path) (status \(compiler.terminationStatus))"))
        }
        return .success(output)
    }()

    static func build() throws -> String { try built.get() }
}

struct FakeNVMLError: Error, CustomStringConvertible {
    let description: String
}
