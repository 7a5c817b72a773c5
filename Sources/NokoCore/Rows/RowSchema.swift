/// The ordered, duplicate-free key list of a row.
///
/// The logger interns schemas per table: consecutive rows with the same keys share one
/// `RowSchema` instance, so an output can cache per-schema work (a column mapping, encoded
/// key bytes) keyed by ``id`` and pay for it once, not once per row.
public final class RowSchema: Sendable, Hashable {
    /// A process-unique identifier; equal for every row that shares this instance.
    public let id: Int
    /// The keys, in the order the values of a row are stored.
    public let keys: [String]

    /// Creates a schema; keys must be unique (the logger guarantees this for its rows).
    public init(keys: [String]) {
        self.keys = keys
        self.id = RowSchema.nextID.add(1)
    }

    private static let nextID = AtomicCounter()

    /// The position of `key`, or nil.
    public func index(of key: String) -> Int? { keys.firstIndex(of: key) }

    public static func == (lhs: RowSchema, rhs: RowSchema) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
}
