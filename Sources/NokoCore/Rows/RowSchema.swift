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
    private let positions: KeyIndex

    /// Creates a schema; keys must be unique (the logger guarantees this for its rows).
    public init(keys: [String]) {
        self.keys = keys
        self.id = RowSchema.nextID.add(1)
        positions = KeyIndex(keys)
    }

    private static let nextID = AtomicCounter()

    /// The position of `key`, or nil.
    public func index(of key: String) -> Int? { positions.position(of: key) }

    /// Where each of `other` sits in this schema, when `other` is a permutation of this
    /// schema's keys; nil otherwise.
    ///
    /// Dictionaries iterate in a different order for every instance, so rows built the same
    /// way arrive with their keys shuffled; this maps them onto one schema.
    func permutation(from other: [String]) -> [Int]? {
        guard other.count == keys.count else { return nil }
        // One array, and the positions taken as bits on the stack: dictionary rows arrive in
        // a new order whenever their storage moves, and this runs for each of those rows.
        let words = (keys.count + 63) / 64
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: words) { filled -> [Int]? in
            filled.initialize(repeating: 0)
            var complete = true
            let result = [Int](unsafeUninitializedCapacity: other.count) { buffer, count in
                other.withUnsafeBufferPointer { other in
                    for i in 0..<other.count {
                        guard let p = positions.position(of: other[i]) else {
                            complete = false
                            return
                        }
                        let bit: UInt64 = 1 << UInt64(p & 63)
                        guard filled[p >> 6] & bit == 0 else {
                            complete = false
                            return
                        }
                        filled[p >> 6] |= bit
                        buffer[i] = p
                    }
                    count = other.count
                }
            }
            return complete ? result : nil
        }
    }

    /// `values` moved to their positions in this schema (see ``permutation(from:)``).
    static func apply(_ permutation: [Int], to values: [Scalar]) -> [Scalar] {
        precondition(permutation.count == values.count)
        // A permutation fills every slot exactly once, so the result is built in place
        // instead of copying `values` and overwriting each element.
        return [Scalar](unsafeUninitializedCapacity: values.count) { buffer, count in
            for (i, p) in permutation.enumerated() { (buffer.baseAddress! + p).initialize(to: values[i]) }
            count = values.count
        }
    }

    public static func == (lhs: RowSchema, rhs: RowSchema) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
}
