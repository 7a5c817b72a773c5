import Foundation
import Synchronization

/// A background thread that runs `work` every interval: the logger's flusher, the run's
/// heartbeat.
///
/// A plain thread, not a task: flushing does blocking file I/O, which must never occupy
/// Swift's cooperative thread pool.
package final class IntervalThread: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    package init(name: String, interval: Duration, work: @escaping @Sendable () -> Void) {
        let nanoseconds = Int(interval.components.seconds) * 1_000_000_000 + Int(interval.components.attoseconds / 1_000_000_000)
        // The thread keeps the flusher alive until `stop()`.
        let thread = Thread { [self] in
            while !stopping.load(ordering: .acquiring) {
                _ = wake.wait(timeout: .now() + .nanoseconds(max(1_000_000, nanoseconds)))
                if stopping.load(ordering: .acquiring) { break }
                work()
            }
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Runs `work` now instead of at the end of the interval.
    package func wakeEarly() {
        wake.signal()
    }

    /// Asks the thread to stop without waiting (safe from the flusher thread itself).
    package func requestStop() {
        stopping.store(true, ordering: .releasing)
        wake.signal()
    }

    /// Stops the thread and waits until it has finished its current flush.
    package func stop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wake.signal()
        finished.wait()
    }
}
