import NokoPlatform
import Foundation
import NokoCore

/// Something the sync engine wants a human to know: a warning, an error that stopped the
/// upload, where the run is on the dashboard, or (at debug level) the HTTP trace.
///
/// Texts never contain the API key or the `Authorization` header: the engine redacts them
/// before a message is made, and URLs are shown without userinfo.
public struct WandbMessage: Sendable, Equatable, CustomStringConvertible {
    /// How important it is (`warning` and up are meant for stderr).
    public var level: LogLevel
    /// The text, without a prefix.
    public var text: String

    /// A message.
    public init(level: LogLevel, text: String) {
        self.level = level
        self.text = text
    }

    public var description: String { "wandb: \(text)" }

    /// Where messages go by default: `noko: wandb: …` on stderr for info and up, control
    /// characters (from a run name, a server's reply) shown as escapes (``TerminalText``).
    public static let standardError: @Sendable (WandbMessage) -> Void = { message in
        guard message.level >= .info else { return }
        ConsoleTee.originalStandardError.writeIgnoringErrors(Array("noko: \(TerminalText.escaped(message.description))\n".utf8))
    }
}

/// Removes every occurrence of a secret from text meant for a human.
struct Redactor: Sendable {
    let secrets: [String]

    init(secrets: [String?]) {
        // Short "secrets" would redact ordinary words; real API keys are 40+ characters.
        self.secrets = secrets.compactMap { $0 }.filter { $0.count >= 8 }
    }

    func callAsFunction(_ text: String) -> String {
        var text = text
        for secret in secrets where text.contains(secret) {
            text = text.replacingOccurrences(of: secret, with: "<redacted>")
        }
        return text
    }
}
