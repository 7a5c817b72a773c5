import Foundation
import NokoPlatform
import Testing

@testable import Noko

#if canImport(Glibc)
import Glibc
#endif

/// The test child built next to the test bundle.
var childPath: String {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("noko-test-child")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
        dir = dir.deletingLastPathComponent()
    }
    return "noko-test-child"
}

/// A running child process whose stdout lines are collected as they arrive.
final class Child: @unchecked Sendable {
    // `lines` is guarded by `lock`; the reader thread appends, the test reads.
    let process = Process()
    private let lock = NSLock()
    private var collected: [String] = []
    private var errData = Data()
    // Signalled once per reader thread when its pipe reaches end of file, so `wait()` can
    // return only after everything the child wrote has been collected.
    private let readersDone = DispatchSemaphore(value: 0)
    private var readersFinished = false
    /// The child's stdin, when it takes commands there (``send(_:)``).
    private let input: Pipe?

    init(_ arguments: [String], environment: [String: String] = [:], takesInput: Bool = false) throws {
        process.executableURL = URL(fileURLWithPath: childPath)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for key in env.keys where key.hasPrefix("WANDB_") || key == "RANK" || key == "WORLD_SIZE" || key.hasPrefix("SLURM_") {
            env[key] = nil
        }
        env.merge(environment) { _, new in new }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        input = takesInput ? Pipe() : nil
        if let input { process.standardInput = input }
        try process.run()
        Thread {
            var buffer = Data()
            while true {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                // Every complete line of the chunk, then one removal: removing line by line
                // from the front is quadratic for a child that writes megabytes at once.
                var start = buffer.startIndex
                var lines: [String] = []
                while let newline = buffer[start...].firstIndex(of: 0x0A) {
                    lines.append(String(decoding: buffer[start..<newline], as: UTF8.self))
                    start = newline + 1
                }
                buffer.removeSubrange(buffer.startIndex..<start)
                if !lines.isEmpty { self.lock.withLock { self.collected += lines } }
            }
            self.readersDone.signal()
        }.start()
        Thread {
            // Chunk by chunk, so a test can read the child's warnings while it runs.
            while true {
                let chunk = err.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                self.lock.withLock { self.errData.append(chunk) }
            }
            self.readersDone.signal()
        }.start()
    }

    var lines: [String] { lock.withLock { collected } }

    /// Writes `line` (and a newline) to the child's stdin.
    func send(_ line: String) {
        guard let input else { return }
        // A child that died must fail the test, not kill the test process with SIGPIPE.
        CurrentProcess.ignoreBrokenPipe()
        FileDescriptor(rawValue: input.fileHandleForWriting.fileDescriptor, path: "<child stdin>")
            .writeIgnoringErrors(Array((line + "\n").utf8))
    }

    /// Sends `command` and waits for the child's next line (its answer); nil when none came
    /// within `timeout` seconds or the child exited.
    func ask(_ command: String, timeout: Double = 120) -> String? {
        let before = lines.count
        send(command)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let now = lines
            if now.count > before { return now[before] }
            if !process.isRunning { return lines.count > before ? lines[before] : nil }
            usleep(5_000)
        }
        return nil
    }
    var stderr: String { lock.withLock { String(decoding: errData, as: UTF8.self) } }

    /// Waits until a line satisfies `condition` (or the child exits, or time runs out).
    @discardableResult
    func waitFor(timeout: Double = 60, _ condition: (String) -> Bool) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = lines.first(where: condition) { return line }
            if !process.isRunning { return lines.first(where: condition) }
            usleep(5_000)
        }
        return nil
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the child to exit and for its stdout and stderr to be read to the end.
    func wait() -> Int32 {
        process.waitUntilExit()
        if !readersFinished {
            // A grandchild that inherited the pipes could hold them open; don't hang on it.
            for _ in 0..<2 { _ = readersDone.wait(timeout: .now() + 30) }
            readersFinished = true
        }
        return process.terminationStatus
    }

    /// The highest `logged N` seen.
    var lastLogged: Int? {
        lines.compactMap { $0.hasPrefix("logged ") ? Int($0.dropFirst(7)) : nil }.max()
    }
}

func readJSON(_ url: URL) throws -> JSONValue {
    try JSONValue(parsing: [UInt8](Data(contentsOf: url)))
}
