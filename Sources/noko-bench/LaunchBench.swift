import Foundation
import Noko

/// The config the launch benchmark's child overrides: 50 array elements and a few fields.
struct LaunchBenchConfig: Codable {
    struct Model: Codable {
        var layers = 2
        var width = 64
    }
    var lr = 0.1
    var seed = 1
    var model = Model()
    var values = [Double](repeating: 0, count: 50)
}

/// `noko-bench --launch-child RUNS_DIR [override…]`: one `initExtra(config: &config)`
/// and `finish()` in a fresh process (initExtra runs once per process), printing
/// "initExtra <seconds>" and "finish <seconds>". NOKO_BENCH_NO_HASH=1 turns the hash off.
func launchChild(_ arguments: [String]) throws -> Never {
    var options = RunOptions()
    options.runsDir = arguments[0]
    options.checkpoint = false
    options.handleSignals = false
    options.outputs.stderrLevel = .error
    options.outputs.tensorBoardLevel = nil
    options.hashExecutable = ProcessInfo.processInfo.environment["NOKO_BENCH_NO_HASH"] != "1"
    options.arguments = ["noko-bench"] + arguments.dropFirst()
    var config = LaunchBenchConfig()
    let start = DispatchTime.now().uptimeNanoseconds
    let run = try Noko.initExtra(config: &config, options: options)
    let started = DispatchTime.now().uptimeNanoseconds
    run.finish()
    let finished = DispatchTime.now().uptimeNanoseconds
    print("initExtra \(Double(started - start) / 1e9)")
    print("finish \(Double(finished - started) / 1e9)")
    exit(0)
}

/// Start-up cost of launch-time config: `initExtra` with 50 overrides against none, and
/// `initExtra` + `finish` with the executable's SHA-256 against without, each in fresh
/// processes (interleaved, medians).
func launchBenchmark(_ arguments: [String]) throws {
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
    let runs = scratchDirectory("launch").path
    let overrides = ["lr=0.01", "seed=7", "model.layers=4", "model.width=32"] + (0..<46).map { "values[\($0)]=\(Double($0) / 8)" }
    func child(_ overrides: [String], hash: Bool = true) throws -> (initExtra: Double, finish: Double) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--launch-child", runs] + overrides
        var environment = ProcessInfo.processInfo.environment
        environment["NOKO_BENCH_NO_HASH"] = hash ? nil : "1"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        var figures: [String: Double] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Double(parts[1]) { figures[String(parts[0])] = value }
        }
        guard process.terminationStatus == 0, let initExtra = figures["initExtra"], let finish = figures["finish"] else {
            throw NSError(domain: "noko-bench", code: 1, userInfo: [NSLocalizedDescriptionKey: "launch child failed: \(output)"])
        }
        return (initExtra, finish)
    }
    let overridden = try interleaved(
        "initExtra with 50 overrides and without (fresh process each)", repetitions: 15,
        a: ("no overrides", { try child([]).initExtra }), b: ("50 overrides", { try child(overrides).initExtra }))
    print(overridden.report(unit: "ms", scale: 1e3))
    print("  target: ratio < 1.1 (50 overrides cost less than a tenth of initExtra)")
    let hashed = try interleaved(
        "initExtra + finish with the executable's SHA-256 and without", repetitions: 15,
        a: ("no hash", { let t = try child([], hash: false); return t.initExtra + t.finish }),
        b: ("hash", { let t = try child([]); return t.initExtra + t.finish }))
    print(hashed.report(unit: "ms", scale: 1e3))
    let startOnly = try interleaved(
        "initExtra alone with the hash and without (it runs on its own thread)", repetitions: 15,
        a: ("no hash", { try child([], hash: false).initExtra }), b: ("hash", { try child([]).initExtra }))
    print(startOnly.report(unit: "ms", scale: 1e3))
    let size = (try? FileManager.default.attributesOfItem(atPath: executable)[.size] as? Int) ?? 0
    print("  executable: \(size / 1_000_000) MB; target: initExtra alone ratio ≈ 1 (the hash is off the start-up path)")
}
