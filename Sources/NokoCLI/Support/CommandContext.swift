import Foundation
import NokoCore
import NokoPlatform
import Synchronization

/// Everything a command needs from the world: where output goes, what the terminal can
/// show, the clock, the time zone and the environment.
///
/// `noko-run` uses ``standard()``; tests make a ``capturing(terminal:now:timeZone:environment:)``
/// context so output, "now" and the time zone are fixed and golden files do not depend on
/// the machine.
package final class CommandContext: Sendable {
    /// How standard output renders (colour, width).
    package let terminal: Terminal
    /// The current time as Unix seconds: durations of running runs and `stale` detection.
    package let now: Double
    /// The zone start times are shown in.
    package let timeZone: TimeZone
    /// Environment variables (`NO_COLOR`, `PAGER`, `WANDB_*`…).
    package let environment: [String: String]
    /// The directory relative paths are resolved against.
    package let workingDirectory: URL
    private let sink: Sink

    private enum Sink: Sendable {
        case standard
        case capture(CaptureBuffer)
    }

    private final class CaptureBuffer: Sendable {
        let bytes = Mutex<(out: [UInt8], err: [UInt8])>(([], []))
    }

    private init(
        terminal: Terminal, now: Double, timeZone: TimeZone, environment: [String: String], workingDirectory: URL,
        sink: Sink
    ) {
        self.terminal = terminal
        self.now = now
        self.timeZone = timeZone
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.sink = sink
    }

    /// The real process: standard output and error, the system clock, the local zone.
    package static func standard() -> CommandContext {
        let environment = ProcessInfo.processInfo.environment
        return CommandContext(
            terminal: .standardOutput(environment: environment), now: RowClock.system.now(), timeZone: .current,
            environment: environment,
            workingDirectory: URL(fileURLWithPath: FileSystem.currentDirectory, isDirectory: true),
            sink: .standard)
    }

    /// A context that keeps what commands write (read it with ``capturedOutput`` and
    /// ``capturedError``).
    package static func capturing(
        terminal: Terminal = .plain, now: Double, timeZone: TimeZone = TimeZone(identifier: "UTC")!,
        environment: [String: String] = [:],
        workingDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
    ) -> CommandContext {
        CommandContext(
            terminal: terminal, now: now, timeZone: timeZone, environment: environment, workingDirectory: workingDirectory,
            sink: .capture(CaptureBuffer()))
    }

    /// The same context with another terminal (commands use it to turn colour off for `--json`).
    package func with(terminal: Terminal) -> CommandContext {
        CommandContext(
            terminal: terminal, now: now, timeZone: timeZone, environment: environment, workingDirectory: workingDirectory,
            sink: sink)
    }

    /// Writes terminal text to standard output (add the newline yourself). Values
    /// interpolated into it are escaped (``TerminalText``).
    package func write(_ text: TerminalText) {
        write(bytes: Array(text.rendered.utf8))
    }

    /// Writes bytes to standard output.
    package func write(bytes: [UInt8]) {
        switch sink {
        // A closed pipe (`| head`): nothing more can be said.
        case .standard: FileDescriptor.standardOutput.writeIgnoringErrors(bytes)
        case .capture(let buffer): buffer.bytes.withLock { $0.out.append(contentsOf: bytes) }
        }
    }

    /// Writes a line to standard error (notes and warnings that are not data): terminal
    /// text, whose interpolated values are escaped (``TerminalText``); `newline: false`
    /// writes it without a newline (a progress bar redrawn with `\r`).
    package func note(_ text: TerminalText, newline: Bool = true) {
        let line = text.rendered
        let bytes = Array((!newline || line.hasSuffix("\n") ? line : line + "\n").utf8)
        switch sink {
        case .standard: FileDescriptor.standardError.writeIgnoringErrors(bytes)
        case .capture(let buffer): buffer.bytes.withLock { $0.err.append(contentsOf: bytes) }
        }
    }

    /// Whether output really reaches the process's standard output (a pager may be started).
    package var writesToStandardOutput: Bool {
        if case .standard = sink { return true }
        return false
    }

    /// What was written to standard output (capturing contexts only).
    package var capturedOutput: String {
        String(decoding: capturedOutputBytes, as: UTF8.self)
    }

    /// The bytes written to standard output (capturing contexts only).
    package var capturedOutputBytes: [UInt8] {
        if case .capture(let buffer) = sink { return buffer.bytes.withLock { $0.out } }
        return []
    }

    /// What was written to standard error (capturing contexts only).
    package var capturedError: String {
        if case .capture(let buffer) = sink { return String(decoding: buffer.bytes.withLock { $0.err }, as: UTF8.self) }
        return ""
    }

    /// `path` as given, or relative to ``workingDirectory``.
    package func url(forPath path: String, isDirectory: Bool = false) -> URL {
        if path.hasPrefix("/") { return URL(fileURLWithPath: path, isDirectory: isDirectory).standardizedFileURL }
        if path.hasPrefix("~/"), let home = environment["HOME"] {
            return URL(fileURLWithPath: home + path.dropFirst(), isDirectory: isDirectory).standardizedFileURL
        }
        return URL(fileURLWithPath: workingDirectory.path + "/" + path, isDirectory: isDirectory).standardizedFileURL
    }
}
