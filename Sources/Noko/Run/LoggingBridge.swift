import Logging
import NokoCore

extension Noko {
    /// Sends the program's own swift-log messages where noko's go: into the current run's
    /// `debug.log` (every level) and to stderr (at `stderrLevel` and above), as Python
    /// noko's `init` wires Python logging.
    ///
    /// Opt-in, and once per process: swift-log's `LoggingSystem.bootstrap` may only be called
    /// once, so call this from your program's entry point, not from a library.
    public static func bootstrapLogging(stderrLevel: LogLevel = .warning) {
        LoggingSystem.bootstrap { label in
            NokoMessageHandler(label: label, stderrLevel: stderrLevel.swiftLogLevel) { Noko.initializedLogger?.debugLog }
        }
    }
}
