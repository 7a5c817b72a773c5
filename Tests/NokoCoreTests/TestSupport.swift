import Foundation
import InMemoryLogging
import Logging
import Testing

@testable import NokoCore

/// A message logger that records what noko says.
func recordingMessages() -> (Logging.Logger, InMemoryLogHandler) {
    let handler = InMemoryLogHandler()
    var logger = Logging.Logger(label: "noko") { _ in handler }
    logger.logLevel = .trace
    return (logger, handler)
}

extension InMemoryLogHandler {
    /// Every recorded message at `level` or above, as text.
    func messages(atLeast level: Logging.Logger.Level = .trace) -> [String] {
        entries.filter { $0.level >= level }.map { "\($0.message)" }
    }
}

/// A logger with one in-memory output and recorded messages, no background thread.
func memoryLogger(
    level: LogLevel = .trace, clock: RowClock = .stepping(from: 1_700_000_000, by: 0.001)
) -> (NokoLogger, InMemoryOutput, InMemoryLogHandler) {
    let output = InMemoryOutput(level: level)
    let (messages, handler) = recordingMessages()
    let logger = NokoLogger(
        outputs: [output], flushInterval: nil, messages: messages, summarizers: SummarizerRegistry(), clock: clock)
    return (logger, output, handler)
}

/// The result of running a program.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a program to completion.
@discardableResult
func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes concurrently so neither fills up and blocks the child.
    let errData = LockedData()
    let reader = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
    reader.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !errData.isSet { usleep(1000) }
    return ProcessResult(
        status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData.value, as: UTF8.self))
}

final class LockedData: @unchecked Sendable {
    // Guarded by `lock`; only used to hand a pipe's contents between two threads.
    private let lock = NSLock()
    private var data: Data?
    func set(_ d: Data) { lock.withLock { data = d } }
    var isSet: Bool { lock.withLock { data != nil } }
    var value: Data { lock.withLock { data ?? Data() } }
}

/// True when interop tests must run: `make test` (and so CI) sets `NOKO_REQUIRE_INTEROP=1`,
/// turning a missing Python package from a skip into a failure.
let interopRequired = ProcessInfo.processInfo.environment["NOKO_REQUIRE_INTEROP"] == "1"

/// Python 3 with `modules` importable, or nil (the interop tests then skip, saying why,
/// unless ``interopRequired``).
func python(with modules: [String]) -> String? {
    for candidate in ["/usr/bin/python3", "/usr/local/bin/python3", "/root/.pyenv/shims/python3"]
    where FileManager.default.isExecutableFile(atPath: candidate) {
        let check = try? run(candidate, ["-c", modules.map { "import \($0)" }.joined(separator: "; ")])
        if check?.status == 0 { return candidate }
    }
    if let path = ProcessInfo.processInfo.environment["PATH"] {
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/python3"
            guard FileManager.default.isExecutableFile(atPath: candidate) else { continue }
            let check = try? run(candidate, ["-c", modules.map { "import \($0)" }.joined(separator: "; ")])
            if check?.status == 0 { return candidate }
        }
    }
    return nil
}

/// A Python helper script next to the tests.
func pythonScript(_ name: String, file: String = #filePath) -> String {
    URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("python/\(name)").path
}

/// A product built next to the test bundle (e.g. `noko-test-child`).
func builtProduct(_ name: String) -> String {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
        dir = dir.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
}

func readText(_ url: URL) -> String {
    (try? String(contentsOf: url, encoding: .utf8)) ?? ""
}
