import Foundation
import Logging
import NokoCore
import NokoPlatform

/// What `initExtra` does with the program's console output.
public struct ConsoleOptions: Sendable {
    /// Keep what the program writes to stdout and stderr (descriptors 1 and 2: `print`, C
    /// libraries, child processes) in `output.log`, from `initExtra` until the run
    /// finishes; the terminal still shows everything. Also off with `NOKO_CONSOLE=off`.
    public var capture = true
    /// `output.log` and `output.1.log` together hold at most this many bytes: `output.log`
    /// is rotated to `output.1.log` when it would grow past half of it.
    public var sizeLimit: UInt64 = 100 << 20

    /// The defaults: capture on, 100 MiB.
    public init() {}
}

/// A run's console capture: prepares `output.log` and its index (appending on resume, with
/// a separator line), starts the tee, and stops it when the run finishes.
final class ConsoleCapture: Sendable {
    private let tee: ConsoleTee
    private let messages: Logging.Logger

    private init(tee: ConsoleTee, messages: Logging.Logger) {
        self.tee = tee
        self.messages = messages
    }

    /// Whether capture is on: the options say so and `NOKO_CONSOLE` does not turn it off
    /// (`off`, `0`, `false`, `no`). Another value is warned about and leaves it on.
    static func isEnabled(_ options: ConsoleOptions, environment: [String: String], messages: Logging.Logger) -> Bool {
        guard options.capture else { return false }
        guard let value = environment["NOKO_CONSOLE"] else { return true }
        switch value.lowercased() {
        case "off", "0", "false", "no": return false
        case "on", "1", "true", "yes", "": return true
        default:
            messages.warning("NOKO_CONSOLE=\(value): expected on or off; the console is captured (NOKO_CONSOLE=off turns it off)")
            return true
        }
    }

    /// Starts capturing into `directory`'s `output.log`; nil (with a warning saying why)
    /// when it cannot, and the run goes on without it.
    static func start(options: ConsoleOptions, environment: [String: String], directory: URL, messages: Logging.Logger) -> ConsoleCapture? {
        guard isEnabled(options, environment: environment, messages: messages) else { return nil }
        let layout = RunLayout(directory)
        let files = ConsoleTee.Files(
            log: layout.outputLog.path, index: layout.outputIndex.path, rotatedLog: layout.rotatedOutputLog.path,
            rotatedIndex: layout.rotatedOutputIndex.path)
        let terminals = (FileDescriptor.standardOutput.isTerminal, FileDescriptor.standardError.isTerminal)
        do {
            // A tee killed mid-write (its process group got SIGKILL) leaves a torn last line.
            if FileSystem.exists(files.log) { _ = try FileSystem.dropTornLine(files.log) }
            let logSize = FileSystem.info(files.log)?.size ?? 0
            let base = try existingBase(layout) ?? rotatedEnd(layout)
            let log = try FileDescriptor.open(files.log, .append)
            defer { log.closeIgnoringErrors() }
            let index = try FileDescriptor.open(files.index, .append)
            defer { index.closeIgnoringErrors() }
            if try index.size() == 0 { try index.writeAll(Array(ConsoleTee.indexHeader(base: base).utf8)) }
            let separator = logSize > 0
                ? "--- noko: run resumed at \(ConsoleLine.isoUTC(RowClock.system.now()))Z (pid \(CurrentProcess.id)) ---\n" : nil
            let tee = try ConsoleTee(
                files: files, log: log, index: index, logSize: logSize, base: base, rotateAt: options.sizeLimit / 2,
                firstLine: separator)
            if terminals.0 && !tee.terminals.standardOutput || terminals.1 && !tee.terminals.standardError {
                messages.warning("could not open a pseudo-terminal: the console is captured through a pipe, so the program no longer writes to a terminal")
            }
            return ConsoleCapture(tee: tee, messages: messages)
        } catch {
            messages.warning("the console is not captured (no output.log): \(error)")
            return nil
        }
    }

    /// The base recorded in `output.index`'s header, nil when there is no header.
    private static func existingBase(_ layout: RunLayout) throws -> UInt64? {
        let reader = LineReader(path: layout.outputIndex.path, bufferSize: 4096, missingFileIsEmpty: true)
        return try reader.withNextLine { line -> UInt64? in
            let fields = String(decoding: line.bytes, as: UTF8.self).split(separator: " ")
            return fields.count == 4 && fields[0] == "noko-output-index" ? UInt64(fields[3]) : nil
        } ?? nil
    }

    /// Where the rotated file ends (over every rotation): the base of a fresh `output.log`.
    private static func rotatedEnd(_ layout: RunLayout) throws -> UInt64 {
        guard let size = FileSystem.info(layout.rotatedOutputLog.path)?.size else { return 0 }
        let reader = LineReader(path: layout.rotatedOutputIndex.path, bufferSize: 4096, missingFileIsEmpty: true)
        let base = try reader.withNextLine { line -> UInt64? in
            let fields = String(decoding: line.bytes, as: UTF8.self).split(separator: " ")
            return fields.count == 4 ? UInt64(fields[3]) : nil
        } ?? nil
        return (base ?? 0) + size
    }

    /// Puts descriptors 1 and 2 back and waits (at most `timeout`) until `output.log` holds
    /// everything written so far.
    func stop(timeout: Double) {
        if !tee.stop(timeout: timeout) {
            messages.warning("output.log may still miss the last output: the console tee did not answer within \(timeout) s")
        }
    }
}
