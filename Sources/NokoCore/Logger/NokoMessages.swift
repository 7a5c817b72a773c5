import Foundation
import Logging
import Synchronization

import NokoPlatform

/// noko's own messages (warnings about keys, new columns, non-finite values…).
///
/// They go through swift-log under the label `noko`: to stderr at WARNING and above by
/// default, and into the run's `debug.log` at every level, one line each: control
/// characters in a message (a key or value it quotes) are shown as escapes
/// (``TerminalText/escaped(_:)``).
package enum NokoMessages {
    /// A logger writing to stderr at `stderrLevel` and above, and every message to `debugLog`.
    package static func logger(stderrLevel: Logging.Logger.Level = .warning, debugLog: DebugLogFile? = nil) -> Logging.Logger {
        var logger = Logging.Logger(label: "noko") { _ in
            NokoMessageHandler(stderrLevel: stderrLevel, debugLog: debugLog)
        }
        logger.logLevel = .trace
        return logger
    }
}

/// An append-only text file for noko's (and, when bootstrapped, the program's) log lines.
package final class DebugLogFile: Sendable {
    /// The file; a line that fails half-written (a full disk) is cut back off, so a later
    /// line never continues it.
    private let file: Mutex<AppendOnlyFile?>
    /// Where the file is.
    package let url: URL

    /// Opens (creating or appending to) `url`.
    package init(url: URL) throws {
        self.url = url
        let file = try FileDescriptor.open(url.path, .append)
        do {
            self.file = Mutex(AppendOnlyFile(file, size: try file.size()))
        } catch {
            file.closeIgnoringErrors()
            throw error
        }
    }

    /// Appends one line (a newline is added). A line that cannot be written (a full disk) is
    /// dropped: warnings also go to stderr, and there is no one else to tell.
    package func append(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        file.withLock { file in try? file?.append(bytes) }
    }

    /// Flushes to disk and closes; later lines are dropped.
    package func close() {
        file.withLock { file in
            try? file?.descriptor.sync()
            file?.descriptor.closeIgnoringErrors()
            file = nil
        }
    }
}

/// Writes noko's messages to stderr (at a threshold) and to `debug.log` (everything).
package struct NokoMessageHandler: LogHandler {
    /// Metadata printed after every message.
    package var metadata: Logging.Logger.Metadata = [:]
    /// swift-log's metadata provider, if any.
    package var metadataProvider: Logging.Logger.MetadataProvider?
    /// The lowest level handled at all (every level by default; stderr has its own threshold).
    package var logLevel: Logging.Logger.Level = .trace
    /// Messages at this level and above also go to stderr.
    package var stderrLevel: Logging.Logger.Level
    /// The run's `debug.log`, if there is one (looked up for each message, so a handler
    /// made before the run exists writes into the run's file once it does).
    package let debugLog: @Sendable () -> DebugLogFile?
    /// The label printed before each message (swift-log's logger label).
    package var label: String

    /// A handler for `label`.
    package init(label: String = "noko", stderrLevel: Logging.Logger.Level, debugLog: DebugLogFile?) {
        self.init(label: label, stderrLevel: stderrLevel, debugLogProvider: { debugLog })
    }

    /// A handler whose `debug.log` is whatever `debugLogProvider` returns at each message.
    package init(label: String, stderrLevel: Logging.Logger.Level, debugLogProvider: @escaping @Sendable () -> DebugLogFile?) {
        self.label = label
        self.stderrLevel = stderrLevel
        self.debugLog = debugLogProvider
    }

    /// Writes one message: to stderr at ``stderrLevel`` and above, to `debug.log` always.
    package func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        // Messages quote keys, table names and values from the program: their control
        // characters are shown as escapes, so a line stays one line and cannot drive the
        // terminal (stderr, or `cat debug.log`).
        let suffix = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: " ")
        let text = TerminalText.escaped("\(event.message)\(suffix)")
        let label = TerminalText.escaped(label)
        if event.level >= stderrLevel {
            let line = "\(label): \(event.level.rawValue): \(text)\n"
            // One write(2) per line: unbuffered, and lines from threads never interleave.
            // The original stderr, not a captured one: debug.log already keeps the message, so
            // output.log does not get it a second time.
            ConsoleTee.originalStandardError.writeIgnoringErrors(Array(line.utf8))
        }
        if let debugLog = debugLog() {
            let stamp = LocalTimeFormatter.localTime(Int(RowClock.system.now()))
            debugLog.append("\(stamp) \(event.level.rawValue.uppercased()) \(label): \(text)")
        }
    }

    /// One metadata value.
    package subscript(metadataKey key: String) -> Logging.Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
}

extension LogLevel {
    /// The swift-log level for noko's own messages at this level.
    package var swiftLogLevel: Logging.Logger.Level {
        switch value {
        case ..<LogLevel.debug.value: return .trace
        case ..<LogLevel.info.value: return .debug
        case ..<LogLevel.warning.value: return .info
        case ..<LogLevel.error.value: return .warning
        case ..<LogLevel.critical.value: return .error
        default: return .critical
        }
    }
}
