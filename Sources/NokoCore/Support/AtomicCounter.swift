import Synchronization

/// A process-wide counter for identifiers.
final class AtomicCounter: Sendable {
    private let value = Atomic<Int>(0)

    /// Adds `delta` and returns the new value.
    func add(_ delta: Int) -> Int {
        value.add(delta, ordering: .relaxed).newValue
    }
}
