import Synchronization

/// Summarizers registered for types you don't own, looked up by exact dynamic type.
///
/// `Noko.declareSummarizer(for:_:)` registers into ``shared``; a logger can be given its own
/// registry. Each row reads one snapshot, so registration never races a row in flight.
package final class SummarizerRegistry: Sendable {
    typealias Body = @Sendable (Any, String, inout ValueColumns) -> Void
    struct Entry: Sendable {
        var typeName: String
        var body: Body
    }
    typealias Snapshot = [ObjectIdentifier: Entry]

    private let entries = Mutex<Snapshot>([:])

    /// An empty registry.
    package init() {}

    /// The registry `Noko.declareSummarizer(for:_:)` writes to and loggers read by default.
    package static let shared = SummarizerRegistry()

    /// Registers `body` for values whose dynamic type is exactly `T`.
    ///
    /// - Returns: true when a summarizer for `T` was already registered and is now replaced.
    @discardableResult
    package func declare<T>(for type: T.Type, _ body: @escaping @Sendable (T, String, inout ValueColumns) -> Void) -> Bool {
        let entry = Entry(typeName: String(reflecting: type)) { value, prefix, summary in
            // The walker only calls an entry with a value whose dynamic type is `T`.
            body(value as! T, prefix, &summary)
        }
        return entries.withLock { $0.updateValue(entry, forKey: ObjectIdentifier(type)) != nil }
    }

    /// Removes the summarizer for `T`, if any.
    package func remove<T>(for type: T.Type) {
        _ = entries.withLock { $0.removeValue(forKey: ObjectIdentifier(type)) }
    }

    var snapshot: Snapshot { entries.withLock { $0 } }
}
