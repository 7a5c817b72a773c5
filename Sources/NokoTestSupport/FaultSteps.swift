import Foundation
import NokoPlatform
import Synchronization

/// Simulates a crash at every step of `body`: for k = 0, 1, 2, … it runs `body` with an
/// injected fault that stops it before its k-th system call on a file under `directory`
/// (nothing after that runs, no clean-up: what a process killed there leaves), then calls
/// `check` to inspect what a reader finds. It ends with the first k that `body` completes
/// without reaching, and returns how many steps there were.
///
/// `action` chooses what the fault does: `.stop` (a crash) by default, or `.fail(EIO)` and
/// the like (a failing disk; the writer's own error handling runs).
///
/// The fault hook is process-wide but only touches paths under `directory`, so tests that
/// use it can run beside others.
package func interruptEveryStep(
    under directory: URL, action: FaultInjection.Action = .stop, _ body: () throws -> Void,
    check: (_ step: Int) throws -> Void
) throws -> Int {
    let prefix = directory.standardizedFileURL.path + "/"
    var step = 0
    while true {
        let calls = Atomic<Int>(0)
        let target = step
        var token: Int? = FaultInjection.install { _, path in
            guard path.hasPrefix(prefix) || path + "/" == prefix else { return nil }
            return calls.add(1, ordering: .relaxed).oldValue == target ? action : nil
        }
        defer { token.map(FaultInjection.remove) }
        do {
            try body()
            if calls.load(ordering: .relaxed) <= target { return step }
        } catch where calls.load(ordering: .relaxed) > target {
            // The injected fault ended the write (perhaps wrapped in the writer's own error).
        }
        token.map(FaultInjection.remove)
        token = nil
        try check(step)
        step += 1
    }
}
