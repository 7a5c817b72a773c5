import Logging
import NokoCore

/// A swift-log logger whose warnings reach the command's standard error (so tests capture
/// them): NokoCore's loaders report torn lines and similar through it.
package enum CLIMessages {
    /// Messages at `warning` and above, written through `context.note` as `warning: …`.
    package static func logger(_ context: CommandContext) -> Logging.Logger {
        var logger = Logging.Logger(label: "noko-run") { _ in NoteHandler(context: context) }
        logger.logLevel = .warning
        return logger
    }

    private struct NoteHandler: LogHandler {
        let context: CommandContext
        var metadata: Logging.Logger.Metadata = [:]
        var logLevel: Logging.Logger.Level = .warning

        subscript(metadataKey key: String) -> Logging.Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            context.note("\(event.level >= .error ? "error" : "warning"): \(event.message)")
        }
    }
}
