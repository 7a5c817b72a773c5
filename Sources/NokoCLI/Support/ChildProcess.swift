import Foundation
import NokoCore
import NokoPlatform
import Synchronization

/// A program `noko-run` starts and waits for (`reproduce`'s build and rerun): its output
/// passed on as it comes, the last lines kept for an error message, and an interrupt
/// (Ctrl-C, SIGTERM) handed on to it before `noko-run` ends.
package final class ChildProcess: @unchecked Sendable {
    /// Where the child's standard output and error go.
    package enum Output: Sendable {
        /// This process's standard output and error.
        case inherit
        /// Both to this process's standard error (standard output holds `--json`).
        case standardError
        /// Through a pipe: the last lines kept (for an error message), and passed on to this
        /// process's standard error when `echo` is set.
        case tail(echo: Bool)
        /// As ``tail(echo:)``, and every byte appended to the file at `path` (a sweep trial's
        /// log: the program's output from its first byte, before it opens a run).
        case log(path: String, echo: Bool)
        /// Through a pipe, every line kept: output to parse (`squeue`'s).
        case lines
    }

    /// How a child ended.
    package struct Termination: Sendable, Equatable {
        /// The exit status, or 128 + the signal's number when a signal ended it.
        package var status: Int32
        /// The signal that ended it, if one did.
        package var signal: Int32?
        /// The last lines it wrote (when its output went through a pipe; all of them with `.lines`).
        package var tail: [String]

        /// `exit status 3`, `SIGINT`.
        package var description: String {
            signal.map { "killed by \(SignalNumber.name($0))" } ?? "exit status \(status)"
        }
    }

    private let process = Process()
    /// Lines of output kept for errors.
    private let tail = Mutex<[String]>([])
    private static let tailLines = 30
    /// Set before the child's output is read, on the reading thread only.
    private var keepsEveryLine = false

    /// Runs `executable` with `arguments` in `workingDirectory` with exactly `environment`
    /// and waits for it. `started` gets the child as soon as it runs (to interrupt it).
    package static func run(
        _ executable: String, _ arguments: [String], in workingDirectory: URL, environment: [String: String], output: Output,
        started: (ChildProcess) -> Void = { _ in }
    ) throws -> Termination {
        let child = ChildProcess()
        child.process.executableURL = URL(fileURLWithPath: executable)
        child.process.arguments = arguments
        child.process.currentDirectoryURL = workingDirectory
        child.process.environment = environment
        child.process.standardInput = FileHandle.nullDevice
        let pipe: Pipe?
        switch output {
        case .inherit:
            pipe = nil
        case .standardError:
            pipe = nil
            child.process.standardOutput = FileHandle.standardError
        case .tail, .log, .lines:
            let made = Pipe()
            child.process.standardOutput = made
            child.process.standardError = made
            pipe = made
        }
        do {
            try child.process.run()
        } catch {
            throw CLIError("could not start \(executable): \(error.localizedDescription)")
        }
        started(child)
        if let pipe {
            var echo = false
            var log: FileDescriptor?
            switch output {
            case .tail(let echoes): echo = echoes
            case .log(let path, let echoes):
                echo = echoes
                log = try? FileDescriptor.open(path, .append)
            case .lines: child.keepsEveryLine = true
            case .inherit, .standardError: break
            }
            defer { log?.closeIgnoringErrors() }
            // Read to the end on this thread: the child cannot block on a full pipe.
            let reading = pipe.fileHandleForReading
            var pending = ""
            while case let data = reading.availableData, !data.isEmpty {
                if echo { FileDescriptor.standardError.writeIgnoringErrors([UInt8](data)) }
                log?.writeIgnoringErrors([UInt8](data))
                pending += String(decoding: data, as: UTF8.self)
                var lines = pending.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                pending = lines.removeLast()
                child.keep(lines)
            }
            if !pending.isEmpty { child.keep([pending]) }
        }
        child.process.waitUntilExit()
        let status = child.process.terminationStatus
        let signal = child.process.terminationReason == .uncaughtSignal ? status : nil
        return Termination(status: signal.map { 128 + $0 } ?? status, signal: signal, tail: child.tail.withLock { $0 })
    }

    private func keep(_ lines: [String]) {
        tail.withLock { kept in
            kept.append(contentsOf: lines)
            if !keepsEveryLine && kept.count > Self.tailLines { kept.removeFirst(kept.count - Self.tailLines) }
        }
    }

    /// Whether the child is still running.
    package var isRunning: Bool { process.isRunning }

    /// Sends `signal` to the child.
    package func send(_ signal: Int32) {
        try? SignalNumber.send(signal, to: process.processIdentifier)
    }

    /// The child's process id.
    package var processIdentifier: Int32 { process.processIdentifier }

    /// Waits up to `seconds` for the child to end; true when it has.
    package func waitForExit(seconds: Double) -> Bool {
        Self.waitForExit([self], seconds: seconds)
    }

    /// Waits up to `seconds` for all of `children` to end; true when they have.
    package static func waitForExit(_ children: [ChildProcess], seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while children.contains(where: \.isRunning) {
            if Date() > deadline { return false }
            CurrentProcess.sleep(seconds: 0.02)
        }
        return true
    }
}

/// What `noko-run` does when it is interrupted while a child runs: the child is given the
/// signal (once: a Ctrl-C at a terminal reaches the child by itself, and a second one would
/// end it before it has recorded how it ended), then the clean-up runs, then `noko-run` ends
/// by the signal as its sender expects. Only the real process installs it.
package final class InterruptHandling: Sendable {
    private struct State {
        /// The children running now, by process id (a sweep runs several at once).
        var children: [Int32: ChildProcess] = [:]
        var signal: Int32?
        var cleanUp: [@Sendable () -> Void] = []
        var interrupted: Bool { signal != nil }
    }

    private let state = Mutex(State())

    package init() {}

    /// Starts handling SIGINT and SIGTERM for the rest of the process.
    package func install() {
        TerminationRelay.start(name: "noko-run-interrupt") { [self] signal in
            let children = state.withLock { state -> [ChildProcess] in
                state.signal = signal
                return Array(state.children.values)
            }
            // A terminal's Ctrl-C reached the children too: give them a moment to end by themselves.
            if !ChildProcess.waitForExit(children, seconds: 1) {
                for child in children where child.isRunning { child.send(signal) }
                if !ChildProcess.waitForExit(children, seconds: 60) {
                    for child in children where child.isRunning { child.send(SignalNumber.kill) }
                }
            }
            for action in state.withLock({ $0.cleanUp }).reversed() { action() }
        }
    }

    /// Runs a child (``ChildProcess/run(_:_:in:environment:output:started:)``) that an
    /// interrupt is handed to. When one arrived, this does not return: the handler is
    /// cleaning up and then ends the process.
    package func run(
        _ executable: String, _ arguments: [String], in workingDirectory: URL, environment: [String: String],
        output: ChildProcess.Output
    ) throws -> ChildProcess.Termination {
        var pid: Int32 = 0
        let end = try ChildProcess.run(
            executable, arguments, in: workingDirectory, environment: environment, output: output,
            started: { child in
                pid = child.processIdentifier
                // Started after the handler looked: it would not wait for this child.
                if let signal = self.state.withLock({ state in
                    state.children[pid] = child
                    return state.signal
                }) {
                    child.send(signal)
                }
            })
        state.withLock { _ = $0.children.removeValue(forKey: pid) }
        if interrupted { while true { CurrentProcess.sleep(seconds: 1) } }
        return end
    }

    /// Runs `action` if the process is interrupted (latest first).
    package func onInterrupt(_ action: @escaping @Sendable () -> Void) {
        state.withLock { $0.cleanUp.append(action) }
    }

    /// Whether an interrupt arrived; the caller should then stop (the handler ends the process).
    package var interrupted: Bool { state.withLock { $0.interrupted } }
}
