import Foundation
import Noko
import NokoPlatform

/// A program writing 100 MB to stdout with `print`, with console capture on and off: the
/// whole time from the first line to `finish()` returning (so the tee has written every
/// byte to `output.log`), in a child process each time (capture replaces descriptors 1 and
/// 2 of the whole process). Its stdout is a file (`program > out.txt`), then `/dev/null`:
/// nothing cheaper for the program to write to, so the hardest case for the ratio.
func consoleCaptureBenchmark(_ arguments: [String]) throws {
    let bytes = 100_000_000
    let executable = CommandLine.arguments[0]
    func once(capture: Bool, toFile: Bool) throws -> Double {
        try withScratchDirectory("console") { directory in
            let child = Process()
            child.executableURL = URL(fileURLWithPath: executable)
            child.arguments = [consoleChildMode, capture ? "on" : "off", directory.path, String(bytes)]
            if toFile {
                let out = directory.appendingPathComponent("stdout.txt")
                _ = FileManager.default.createFile(atPath: out.path, contents: nil)
                child.standardOutput = try FileHandle(forWritingTo: out)
            } else {
                child.standardOutput = FileHandle.nullDevice
            }
            let report = Pipe()
            child.standardError = report
            try child.run()
            let text = String(decoding: report.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            child.waitUntilExit()
            guard child.terminationStatus == 0, let seconds = text.firstMatch(of: /elapsed (\S+)/).flatMap({ Double($0.1) }) else {
                throw BenchError("console-capture child failed (\(child.terminationStatus)): \(text)")
            }
            if capture {
                let logged = FileSystem.info(directory.appendingPathComponent("runs/bench/output.log").path)?.size ?? 0
                guard logged == UInt64(bytes) else { throw BenchError("output.log has \(logged) of \(bytes) bytes") }
            }
            return seconds
        }
    }
    for (toFile, sink) in [(true, "a file"), (false, "/dev/null")] {
        let result = try interleaved(
            "a program printing 100 MB (1,000,000 lines of 100 bytes) to \(sink), until finish() returns", repetitions: 5,
            a: ("capture off", { try once(capture: false, toFile: toFile) }), b: ("capture on", { try once(capture: true, toFile: toFile) }))
        print(result.report(unit: "s"))
        print(String(format: "  capture off %.0f MB/s, on %.0f MB/s; target: ratio ≤ 1.10", 100 / result.medianA, 100 / result.medianB))
    }
}

/// The hidden mode the benchmark starts itself in: `console-capture-child on|off DIR BYTES`.
let consoleChildMode = "console-capture-child"

/// The child's side: `initExtra` with capture on or off, `print` the lines, `finish()`,
/// then report the time on the (restored) stderr.
func consoleCaptureChild(_ arguments: [String]) throws -> Never {
    var options = RunOptions()
    options.runsDir = arguments[2] + "/runs"
    options.runName = "bench"
    options.checkpoint = false
    options.console.capture = arguments[1] == "on"
    options.console.sizeLimit = 1 << 30
    let run = try Noko.initExtra(options: options)
    let total = Int(arguments[3])!
    // 99 characters and a newline: a log line of a training loop, more or less.
    let padding = String(repeating: "x", count: 99 - "step 0000000 loss 0.123456 ".count)
    let start = WallClock.monotonic()
    var i = 0
    while i * 100 < total {
        print("step \(String(i + 10_000_000).dropFirst()) loss 0.\(100_000 + i % 900_000) \(padding)")
        i += 1
    }
    run.finish()
    let elapsed = WallClock.monotonic() - start
    FileHandle.standardError.write(Data("elapsed \(elapsed)\n".utf8))
    exit(0)
}
