import Foundation

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One reading of this process's and the machine's counters, as the system keeps them:
/// levels (memory, threads) and running totals (CPU time, bytes read). Rates come from two
/// readings (``SystemCounterReader``'s caller subtracts). A counter the platform does not
/// offer is nil.
package struct SystemCounters: Sendable {
    /// When the reading was taken, on the monotonic clock (seconds).
    package var monotonicTime: Double = 0
    /// CPU time this process has used, user plus system, in seconds.
    package var processCPUSeconds: Double = 0
    /// This process's resident memory in bytes.
    package var residentBytes: UInt64?
    /// This process's threads.
    package var threads: Int?
    /// This process's open file descriptors.
    package var openDescriptors: Int?
    /// Machine CPU time since boot, in clock ticks: all of it, and the part not idle
    /// (idle and I/O wait excluded).
    package var machineTotalTicks: UInt64?
    package var machineBusyTicks: UInt64?
    /// CPUs the process may run on.
    package var cores: Int = 1
    /// Physical memory in bytes, and how much is available to programs without swapping.
    package var memoryTotalBytes: UInt64?
    package var memoryAvailableBytes: UInt64?
    /// Runnable processes averaged over 1, 5 and 15 minutes.
    package var loadAverage1: Double?
    package var loadAverage5: Double?
    package var loadAverage15: Double?
    /// Bytes read from and written to the machine's disks since boot.
    package var diskReadBytes: UInt64?
    package var diskWrittenBytes: UInt64?
    /// Bytes received and sent on every network interface but loopback since boot.
    package var networkReceivedBytes: UInt64?
    package var networkSentBytes: UInt64?

    package init() {}
}

/// Reads ``SystemCounters``: on Linux from `/proc` (a handful of small files, parsed
/// without allocating per field), on Darwin the cheap equivalents (`getrusage`,
/// `getloadavg`, physical memory; the rest is nil there).
///
/// Not thread-safe: one reader per sampling thread.
package final class SystemCounterReader {
    /// Whole disks (`sda`, `nvme0n1`), not partitions nor loop, RAM or device-mapper
    /// devices, whose sectors would be counted twice.
    private let disks: Set<String>

    package init() {
        #if os(Linux)
        let skipped = ["loop", "ram", "zram", "dm-", "md", "sr", "nbd", "fd"]
        let names = (try? FileSystem.contentsOfDirectory("/sys/block")) ?? []
        disks = Set(names.filter { name in !skipped.contains { name.hasPrefix($0) } })
        #else
        disks = []
        #endif
    }

    /// Reads every counter now.
    package func read() -> SystemCounters {
        var counters = SystemCounters()
        counters.monotonicTime = WallClock.monotonic()
        let cpu = WallClock.processCPUTime()
        counters.processCPUSeconds = cpu.user + cpu.system
        counters.cores = ProcessInfo.processInfo.activeProcessorCount
        #if os(Linux)
        readLinux(into: &counters)
        #else
        readDarwin(into: &counters)
        #endif
        return counters
    }

    #if os(Linux)
    private func readLinux(into counters: inout SystemCounters) {
        if let status = procFile("/proc/self/status") {
            ProcText.forEachLine(status) { line in
                if let kB = ProcText.value(after: "VmRSS:", in: line) { counters.residentBytes = kB * 1024 }
                if let count = ProcText.value(after: "Threads:", in: line) { counters.threads = Int(count) }
            }
        }
        // The listing's own descriptor is open while it runs: it is not the program's.
        if let names = try? FileSystem.contentsOfDirectory("/proc/self/fd") { counters.openDescriptors = max(0, names.count - 1) }
        if let stat = procFile("/proc/stat") {
            ProcText.forEachLine(stat) { line in
                guard line.starts(with: "cpu ".utf8) else { return }
                let fields = ProcText.numbers(in: line.dropFirst(4), limit: 8)
                guard fields.count >= 4 else { return }
                let total = fields.reduce(0, +)
                let idle = fields[3] + (fields.count > 4 ? fields[4] : 0)
                counters.machineTotalTicks = total
                counters.machineBusyTicks = total - idle
            }
        }
        if let meminfo = procFile("/proc/meminfo") {
            ProcText.forEachLine(meminfo) { line in
                if let kB = ProcText.value(after: "MemTotal:", in: line) { counters.memoryTotalBytes = kB * 1024 }
                if let kB = ProcText.value(after: "MemAvailable:", in: line) { counters.memoryAvailableBytes = kB * 1024 }
            }
        }
        if let loadavg = procFile("/proc/loadavg") {
            let fields = String(decoding: loadavg.prefix(64), as: UTF8.self).split(separator: " ")
            if fields.count >= 3 {
                counters.loadAverage1 = Double(fields[0])
                counters.loadAverage5 = Double(fields[1])
                counters.loadAverage15 = Double(fields[2])
            }
        }
        if !disks.isEmpty, let diskstats = procFile("/proc/diskstats") {
            var read: UInt64 = 0
            var written: UInt64 = 0
            ProcText.forEachLine(diskstats) { line in
                // major minor name reads merged sectors-read ms writes merged sectors-written …
                let words = line.split(separator: UInt8(ascii: " "), maxSplits: 10, omittingEmptySubsequences: true)
                guard words.count >= 10, disks.contains(String(decoding: words[2], as: UTF8.self)) else { return }
                // The kernel counts in 512-byte sectors whatever the device's sector size.
                read += (ProcText.number(words[5]) ?? 0) * 512
                written += (ProcText.number(words[9]) ?? 0) * 512
            }
            counters.diskReadBytes = read
            counters.diskWrittenBytes = written
        }
        if let netdev = procFile("/proc/net/dev") {
            var received: UInt64 = 0
            var sent: UInt64 = 0
            ProcText.forEachLine(netdev) { line in
                guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
                let name = line[..<colon].drop { $0 == UInt8(ascii: " ") }
                guard !name.elementsEqual("lo".utf8) else { return }
                let fields = ProcText.numbers(in: line[line.index(after: colon)...], limit: 9)
                guard fields.count == 9 else { return }
                received += fields[0]
                sent += fields[8]
            }
            counters.networkReceivedBytes = received
            counters.networkSentBytes = sent
        }
    }

    private func procFile(_ path: String) -> [UInt8]? {
        try? FileSystem.read(path, limit: 1 << 20)
    }
    #else
    private func readDarwin(into counters: inout SystemCounters) {
        // Unverified: written for macOS, never compiled or run there by the tests.
        var loads = [Double](repeating: 0, count: 3)
        if getloadavg(&loads, 3) == 3 {
            counters.loadAverage1 = loads[0]
            counters.loadAverage5 = loads[1]
            counters.loadAverage15 = loads[2]
        }
        counters.memoryTotalBytes = ProcessInfo.processInfo.physicalMemory
    }
    #endif

    /// Bytes free for an unprivileged user on the file system holding `path`
    /// (`statvfs(3)`), nil when it cannot be asked.
    package static func availableDiskBytes(at path: String) -> UInt64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return UInt64(info.f_bavail) * UInt64(info.f_frsize)
    }
}

/// Reading `/proc`'s text: lines of `Name:  value unit` and runs of decimal numbers.
enum ProcText {
    static func forEachLine(_ bytes: [UInt8], _ body: (ArraySlice<UInt8>) -> Void) {
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
            body(bytes[start..<end])
            start = end + 1
        }
    }

    /// The first number after `prefix` when `line` starts with it.
    static func value(after prefix: StaticString, in line: ArraySlice<UInt8>) -> UInt64? {
        let count = prefix.utf8CodeUnitCount
        guard line.count > count else { return nil }
        let matches = prefix.withUTF8Buffer { line.prefix(count).elementsEqual($0) }
        guard matches else { return nil }
        return numbers(in: line.dropFirst(count), limit: 1).first
    }

    /// The first `limit` whitespace-separated decimal numbers of `text`.
    static func numbers(in text: ArraySlice<UInt8>, limit: Int) -> [UInt64] {
        var result: [UInt64] = []
        result.reserveCapacity(limit)
        var current: UInt64 = 0
        var inNumber = false
        for byte in text {
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                current = current &* 10 &+ UInt64(byte - UInt8(ascii: "0"))
                inNumber = true
            } else if inNumber {
                result.append(current)
                if result.count == limit { return result }
                current = 0
                inNumber = false
            }
        }
        if inNumber && result.count < limit { result.append(current) }
        return result
    }

    static func number(_ word: ArraySlice<UInt8>) -> UInt64? {
        guard !word.isEmpty, word.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return numbers(in: word, limit: 1).first
    }
}
