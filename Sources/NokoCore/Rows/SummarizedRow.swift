import Synchronization

/// A row after summarization: flat, typed, immutable, and ready for every output.
///
/// Outputs receive these from the logger in one order. A class, so handing one row to
/// several outputs (and keeping it in their buffers) costs one reference count each. Besides the user's keys, every row
/// carries the bookkeeping columns noko writes as `$table`, `$step`, `$level`,
/// `$localtime` and `$utc_timestamp`.
public final class SummarizedRow: Sendable {
    /// The table the row was logged into.
    public let table: String
    /// The row's step: per table, counting from 0 unless the caller passed one.
    public let step: Int
    /// The level the row was logged at.
    public let level: LogLevel
    /// When the row was logged.
    public let time: RowTime
    /// The keys of ``values``.
    public let schema: RowSchema
    /// One value per key of ``schema``.
    public let values: [Scalar]
    /// The stem of this table's file names (`<stem>.csv`, `<stem>.parquet`): see
    /// `TableFileName`. The logger assigns it once per table.
    public let fileStem: String

    /// Assembles a row; `values.count` must equal `schema.keys.count`.
    public init(
        table: String, step: Int, level: LogLevel, time: RowTime, schema: RowSchema, values: [Scalar],
        fileStem: String? = nil
    ) {
        precondition(values.count == schema.keys.count, "a row needs one value per key")
        self.table = table
        self.fileStem = fileStem ?? TableFileName.encode(table)
        self.step = step
        self.level = level
        self.time = time
        self.schema = schema
        self.values = values
    }

    /// The journal's text of this row's values, when the journal keeps it for a view that
    /// writes the same text (CSV numbers are the journal's), so a number is formatted once.
    private let valueText = Mutex<ValueText?>(nil)

    /// Set by the journal as it writes the row.
    func keepValueText(_ text: ValueText) { valueText.withLock { $0 = text } }

    /// The journal's text of the values, if it kept it; dropped once taken.
    func takeValueText() -> ValueText? { valueText.withLock { $0.take() } }

    /// The user's keys, in order.
    public var keys: [String] { schema.keys }

    /// The value of a user key, or nil when the row does not have it.
    public subscript(key: String) -> Scalar? {
        guard let i = schema.index(of: key) else { return nil }
        return values[i]
    }

    /// The user's key/value pairs in order.
    public var pairs: Zip2Sequence<[String], [Scalar]> { zip(schema.keys, values) }

    /// The journal's own columns, defined here once: the row's table, step, level, local
    /// time and Unix time. Every writer and reader of the journal, CSV and Parquet uses these.
    package static let tableKey = "$table"
    package static let stepKey = "$step"
    package static let levelKey = "$level"
    package static let localTimeKey = "$localtime"
    package static let utcTimestampKey = "$utc_timestamp"

    /// The bookkeeping columns, sorted, as they appear in the CSV header.
    public static let bookkeepingKeys = [levelKey, localTimeKey, stepKey, tableKey, utcTimestampKey]

    /// The value of a bookkeeping column (`$step`, `$table`…), or nil for any other key.
    public func bookkeepingValue(_ key: String) -> Scalar? {
        switch key {
        case Self.tableKey: return .string(table)
        case Self.stepKey: return .int(Int64(step))
        case Self.levelKey: return .int(Int64(level.value))
        case Self.localTimeKey: return .string(time.localTime)
        case Self.utcTimestampKey: return .double(time.utcTimestamp)
        default: return nil
        }
    }
}

/// The two clocks every row records.
public struct RowTime: Sendable, Hashable {
    /// True Unix time in seconds (fractional), whatever the machine's time zone.
    public let utcTimestamp: Double
    /// Local wall-clock time as `YYYY-MM-DDTHH:MM:SS`, as Python noko writes it.
    public let localTime: String

    /// A time with both clocks given explicitly (tests, replays).
    public init(utcTimestamp: Double, localTime: String) {
        self.utcTimestamp = utcTimestamp
        self.localTime = localTime
    }
}

/// A row's journal line with where each value's text lies in it, in one allocation: the
/// line, then per value its start and end offsets (`UInt32`).
struct ValueText: Sendable {
    private let storage: [UInt8]
    private let lineCount: Int

    /// `bounds` holds each value's start and end offset in `line` (`UInt32`s), in value order.
    init(line: UnsafeRawBufferPointer, bounds: UnsafeRawBufferPointer) {
        lineCount = line.count
        let total = line.count + bounds.count
        storage = [UInt8](unsafeUninitializedCapacity: total) { buffer, count in
            let base = UnsafeMutableRawPointer(buffer.baseAddress!)
            if let source = line.baseAddress { base.copyMemory(from: source, byteCount: line.count) }
            if let source = bounds.baseAddress { (base + line.count).copyMemory(from: source, byteCount: bounds.count) }
            count = total
        }
    }

    /// Calls `body` with a function giving value `i`'s text.
    func withValues<R>(_ body: ((Int) -> UnsafeRawBufferPointer) -> R) -> R {
        storage.withUnsafeBytes { raw in
            let line = raw.baseAddress!
            let lineCount = self.lineCount
            return body { i in
                let start = raw.loadUnaligned(fromByteOffset: lineCount + 8 * i, as: UInt32.self)
                let end = raw.loadUnaligned(fromByteOffset: lineCount + 8 * i + 4, as: UInt32.self)
                return UnsafeRawBufferPointer(start: line + Int(start), count: Int(end - start))
            }
        }
    }
}
