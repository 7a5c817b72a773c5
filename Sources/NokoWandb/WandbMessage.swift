import Foundation
import NokoCore
import NokoPlatform
import NokoRemoteSync

/// Something the sync engine wants a human to know: a warning, an error that stopped the
/// upload, where the run is on the dashboard, or (at debug level) the HTTP trace.
///
/// Texts never contain the API key or the `Authorization` header: the engine redacts them
/// before a message is made, and URLs are shown without userinfo.
package struct WandbMessage: Sendable, Equatable, CustomStringConvertible {
    /// How important it is (`warning` and up are meant for stderr).
    package var level: LogLevel
    /// The text, without a prefix.
    package var text: String

    /// A message.
    package init(level: LogLevel, text: String) {
        self.level = level
        self.text = text
    }

    /// The engine's message, as wandb's.
    package init(_ message: SyncMessage) {
        self.init(level: message.level, text: message.text)
    }

    package var description: String { "wandb: \(text)" }

    /// Where messages go by default: `noko: wandb: …` on stderr for info and up, control
    /// characters (from a run name, a server's reply) shown as escapes (``TerminalText``).
    package static let standardError: @Sendable (WandbMessage) -> Void = { message in
        guard message.level >= .info else { return }
        ConsoleTee.originalStandardError.writeIgnoringErrors(Array("noko: \(TerminalText.escaped(message.description))\n".utf8))
    }
}
