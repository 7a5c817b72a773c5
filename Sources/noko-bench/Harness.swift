import Foundation
import Noko
import NokoPlatform

/// Interleaved A/B timing: the machine is shared and noisy, so a single timing means
/// nothing. Each repetition runs A then B (order alternating), and we compare medians.
struct ABResult {
    var name: String
    var aLabel: String
    var bLabel: String
    var a: [Double]  // seconds per repetition
    var b: [Double]

    var medianA: Double { median(a) }
    var medianB: Double { median(b) }
    /// B's median over A's median.
    var ratio: Double { medianB / medianA }

    func report(unit: String = "s", scale: Double = 1, per: String = "") -> String {
        let fa = String(format: "%.4g", medianA * scale)
        let fb = String(format: "%.4g", medianB * scale)
        return "\(name): \(aLabel) \(fa) \(unit)\(per) | \(bLabel) \(fb) \(unit)\(per) | ratio \(bLabel)/\(aLabel) = "
            + String(format: "%.3f", ratio) + " (medians of \(a.count) interleaved repetitions)"
    }
}

func median(_ xs: [Double]) -> Double {
    precondition(!xs.isEmpty)
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Seconds taken by `body`.
func time(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Runs `a` and `b` `repetitions` times each, interleaved (ABBA…), and collects timings.
/// Each closure returns the seconds it wants counted (so set-up can be excluded).
func interleaved(
    _ name: String, repetitions: Int, a: (label: String, run: () throws -> Double),
    b: (label: String, run: () throws -> Double)
) throws -> ABResult {
    var result = ABResult(name: name, aLabel: a.label, bLabel: b.label, a: [], b: [])
    for i in 0..<repetitions {
        if i % 2 == 0 {
            result.a.append(try a.run())
            result.b.append(try b.run())
        } else {
            result.b.append(try b.run())
            result.a.append(try a.run())
        }
    }
    return result
}

/// This process's scratch directories live here; the benchmarks write gigabytes, so each
/// case's are removed when it ends (``removeScratchDirectories()``).
let scratchRoot = FileManager.default.temporaryDirectory.appendingPathComponent("noko-bench-\(CurrentProcess.id)")

/// A fresh empty directory under ``scratchRoot``.
func scratchDirectory(_ label: String) -> URL {
    let url = scratchRoot.appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Removes every scratch directory of this process.
func removeScratchDirectories() {
    try? FileManager.default.removeItem(at: scratchRoot)
}

/// Runs `body` with a fresh scratch directory and removes the directory afterwards.
func withScratchDirectory<T>(_ label: String, _ body: (URL) throws -> T) rethrows -> T {
    let directory = scratchDirectory(label)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory)
}

extension SplitMix64 {
    /// A double in [0, 1), for benchmark data that is the same in every repetition.
    mutating func unit() -> Double { Double.random(in: 0..<1, using: &self) }
}
