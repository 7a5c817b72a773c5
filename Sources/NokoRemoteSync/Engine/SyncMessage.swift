import Foundation
import NokoCore

/// Something the sync engine or a remote wants a human to know: a warning, the error that
/// stopped an upload, where the run is on the dashboard, or (at debug level) the HTTP trace.
/// A remote's public message type adds its name (`wandb: …`).
///
/// Texts never contain a credential: the engine redacts them before a message is made.
package struct SyncMessage: Sendable, Equatable {
    /// How important it is (`warning` and up are meant for stderr).
    package var level: LogLevel
    /// The text, without a prefix.
    package var text: String

    package init(level: LogLevel, text: String) {
        self.level = level
        self.text = text
    }
}

/// Removes every occurrence of a secret from text meant for a human.
package struct Redactor: Sendable {
    package let secrets: [String]

    package init(secrets: [String?]) {
        // Short "secrets" would redact ordinary words; real API keys are 40+ characters.
        self.secrets = secrets.compactMap { $0 }.filter { $0.count >= 8 }
    }

    package func callAsFunction(_ text: String) -> String {
        var text = text
        for secret in secrets where text.contains(secret) {
            text = text.replacingOccurrences(of: secret, with: "<redacted>")
        }
        return text
    }
}
