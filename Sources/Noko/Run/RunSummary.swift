import Foundation
import NokoCore
import NokoWandb
import Synchronization

/// Values that sum up a run (`run.summary["best_accuracy"] = 0.97`): recorded in
/// `metadata.json` under `summary` and sent to wandb's run summary when syncing.
public final class RunSummary: Sendable {
    private let values = Mutex<[String: JSONValue]>([:])
    private let onChange: @Sendable (String, JSONValue) -> Void

    init(onChange: @escaping @Sendable (String, JSONValue) -> Void) {
        self.onChange = onChange
    }

    /// A value by key; setting one records it at once.
    public subscript(key: String) -> JSONValue? {
        get { values.withLock { $0[key] } }
        set {
            let value = newValue ?? .null
            values.withLock { $0[key] = value }
            onChange(key, value)
        }
    }

    /// Every value set so far.
    public var all: [String: JSONValue] { values.withLock { $0 } }
}
