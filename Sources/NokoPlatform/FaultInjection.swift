import Synchronization

/// Faults injected into this layer's system calls, for tests: a full disk at the tenth
/// journal write, `EINTR` on every `fsync`, a crash between an atomic writer's `fsync` and
/// its `rename`.
///
/// Every wrapper in this layer asks ``check(_:_:)`` before its call. With no hook installed
/// that is one relaxed atomic load, so production code pays nothing measurable.
package enum FaultInjection {
    /// The system calls a fault can be injected into.
    package enum Call: String, Sendable, CaseIterable {
        case open, read, write, fsync, rename, truncate, mkdir, unlink, lock, close
    }

    /// What an injected fault does to the call.
    package enum Action: Sendable, Equatable {
        /// The call fails with this `errno` (`EIO`, `ENOSPC`, `EINTR`…) without being made.
        case fail(Int32)
        /// The caller stops right there, as a process killed at that moment would: the
        /// call is not made and no clean-up runs (``NokoSystemError/isInjectedStop``).
        case stop
    }

    /// Decides, for each call on each path, whether a fault happens.
    package typealias Hook = @Sendable (_ call: Call, _ path: String) -> Action?

    private static let armed = Atomic<Bool>(false)
    private static let hooks = Mutex<[Int: Hook]>([:])
    private static let nextToken = Atomic<Int>(0)

    /// Adds `hook`; every installed hook is asked, the first fault wins. Returns the token
    /// that removes it. Hooks are process-wide: a test filters on paths of its own, so tests
    /// running beside it are not touched.
    package static func install(_ hook: @escaping Hook) -> Int {
        let token = nextToken.add(1, ordering: .relaxed).newValue
        hooks.withLock { hooks in
            hooks[token] = hook
            armed.store(true, ordering: .releasing)
        }
        return token
    }

    /// Removes the hook `install` returned `token` for.
    package static func remove(_ token: Int) {
        hooks.withLock { hooks in
            hooks[token] = nil
            armed.store(!hooks.isEmpty, ordering: .releasing)
        }
    }

    /// The fault to inject into `call` on `path`, if any.
    @inline(__always)
    static func check(_ call: Call, _ path: String) -> Action? {
        guard armed.load(ordering: .relaxed) else { return nil }
        for hook in hooks.withLock({ Array($0.values) }) {
            if let action = hook(call, path) { return action }
        }
        return nil
    }

    /// Throws the injected fault for `call`, if there is one. `EINTR` is returned instead of
    /// thrown, so the wrapper's own retry loop meets it as it would meet a real signal.
    static func inject(_ call: Call, _ path: String, operation: @autoclosure () -> String) throws(NokoSystemError) -> Bool {
        switch check(call, path) {
        case nil: return false
        case .fail(let code) where code == NokoSystemError.interrupted: return true
        case .fail(let code): throw NokoSystemError(operation(), path: path, code: code)
        case .stop: throw NokoSystemError(operation(), path: path, code: NokoSystemError.stoppedCode)
        }
    }
}
