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
