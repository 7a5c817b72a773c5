import Synchronization

/// Keeps rows in memory: for tests, yours and ours.
///
/// ```swift
/// let memory = InMemoryOutput()
/// let logger = NokoLogger(outputs: [memory], flushInterval: nil)
/// logger.logRow("t", ["x": 1])
/// #expect(memory.rows(in: "t").first?["x"] == .int(1))
/// ```
public final class InMemoryOutput: LogOutput {
    /// The name messages use for this output.
    public let name: String
    /// The lowest level kept.
    public let level: LogLevel
    private let stored = Mutex<[SummarizedRow]>([])
    private let flushes = Mutex(0)
    private let closed = Mutex(false)

    /// An output keeping every row at `level` and above.
    public init(name: String = "memory", level: LogLevel = .trace) {
        self.name = name
        self.level = level
    }

    public func write(_ row: SummarizedRow) throws {
        stored.withLock { $0.append(row) }
    }

    public func flush() throws { flushes.withLock { $0 += 1 } }
    public func close() throws { closed.withLock { $0 = true } }

    /// Every row received, in order.
    public var rows: [SummarizedRow] { stored.withLock { $0 } }

    /// The rows of one table, in order.
    public func rows(in table: String) -> [SummarizedRow] { rows.filter { $0.table == table } }

    /// How many times ``flush()`` was called.
    public var flushCount: Int { flushes.withLock { $0 } }

    /// True once ``close()`` was called.
    public var isClosed: Bool { closed.withLock { $0 } }
}
