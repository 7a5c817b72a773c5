import Foundation
import Noko
import NokoCore

/// The escaping of terminal text and the colour-passing filter, against copying the same
/// bytes (what printing them as they are costs at least).
///
/// `escaped` runs on every name and value `noko-run` prints; clean text (the common case)
/// takes a scan of its bytes. The filter will run on `output.log` for `noko-run logs`: it
/// must keep well ahead of a terminal (tens of MB/s).
func terminalBenchmark(_ arguments: [String]) throws {
    var random = SplitMix64(seed: 26)
    let clean = (0..<200_000).map { i in "train/layer_\(i % 97)/weights.mean_\(random.next() % 1000)" }
    let hostile = clean.map { $0 + "\u{1B}[2J\\x" }
    var sink = 0
    func copying(_ strings: [String]) -> () -> Double {
        { time { for s in strings { sink &+= Array(s.utf8).count } } }
    }
    func escaping(_ strings: [String]) -> () -> Double {
        { time { for s in strings { sink &+= TerminalText.escaped(s).utf8.count } } }
    }
    let perString = 1e9 / Double(clean.count)
    let plain = try interleaved(
        "200,000 names without control characters", repetitions: 9, a: ("copy", copying(clean)), b: ("escaped", escaping(clean)))
    print(plain.report(unit: "ns", scale: perString, per: "/name"))
    let dirty = try interleaved(
        "200,000 names with ESC [ 2 J and a backslash", repetitions: 9, a: ("copy", copying(hostile)), b: ("escaped", escaping(hostile)))
    print(dirty.report(unit: "ns", scale: perString, per: "/name"))

    // A training log: progress bars redrawn with \r, coloured warnings, plain lines.
    var log: [UInt8] = []
    var step = 0
    while log.count < 32 << 20 {
        log += Array("epoch \(step / 100) step \(step) loss 0.\(random.next() % 100000) lr 1e-3 ✓\n".utf8)
        if step % 10 == 0 { log += Array("\r[#####     ] 50% \(step) it/s\r[##########] 100%\n".utf8) }
        if step % 50 == 0 { log += Array("\u{1B}[33mwarning:\u{1B}[0m grad norm \(random.next() % 100)\n".utf8) }
        step += 1
    }
    let chunk = 64 << 10
    let filter = try interleaved(
        "32 MB of output.log in 64 KiB chunks", repetitions: 7,
        a: ("copy", { time { for start in stride(from: 0, to: log.count, by: chunk) { sink &+= Array(log[start..<min(start + chunk, log.count)]).count } } }),
        b: ("ColourPassingFilter", {
            time {
                var filter = TerminalText.ColourPassingFilter()
                for start in stride(from: 0, to: log.count, by: chunk) { sink &+= filter.filter(log[start..<min(start + chunk, log.count)]).count }
                sink &+= filter.finish().count
            }
        }))
    print(filter.report(unit: "ms", scale: 1e3))
    print(String(format: "  filter: %.0f MB/s", Double(log.count) / filter.medianB / 1e6))
    if sink == 42 { print("") }  // keeps the work from being optimized away
}
