import Foundation
import NokoCore
import NokoWandb
import Synchronization

/// Values that sum up a run (`run.summary["best_accuracy"] = 0.97`): recorded in
/// `metadata.json` under `summary` and sent to wandb's run summary when syncing, secrets
/// redacted as in the config.
public final class RunSummary: Sendable {
    private let values = Mutex<[String: JSONValue]>([:])
    private let warned = Mutex<Set<SecretRedactor.Finding>>([])
    private let redactor: SecretRedactor
    private let warn: @Sendable (String) -> Void
    private let onChange: @Sendable (String, JSONValue) -> Void

    init(
        redactor: SecretRedactor, warn: @escaping @Sendable (String) -> Void,
        onChange: @escaping @Sendable (String, JSONValue) -> Void
    ) {
        self.redactor = redactor
        self.warn = warn
        self.onChange = onChange
    }

    /// A value by key; setting one records it at once (reading it back gives the value as set).
    public subscript(key: String) -> JSONValue? {
        get { values.withLock { $0[key] } }
        set {
            let value = newValue ?? .null
            values.withLock { $0[key] = value }
            // Wrapped in an object, so that the key's own name counts as well as its members'.
            let (redacted, findings) = redactor.redact(.object([key: value]))
            for finding in findings where warned.withLock({ $0.insert(finding).inserted }) {
                warn(finding.message(subject: "run.summary key"))
            }
            onChange(key, redacted[key] ?? value)
        }
    }

    /// Every value set so far.
    public var all: [String: JSONValue] { values.withLock { $0 } }
}
