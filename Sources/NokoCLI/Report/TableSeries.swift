/// One numeric column of one run: its buckets in row order and its exact statistics.
struct ColumnSeries: Sendable {
    /// Buckets of consecutive rows (a summary's buckets, or the rows themselves grouped).
    var buckets: [SeriesBucket]
    /// The smallest and largest finite value (nil when there is none).
    var minimum: Double?
    var maximum: Double?
    /// How many values were NaN.
    var nanCount: Int
    /// Which non-finite values occurred anywhere in the column.
    var marks: NonFiniteMarks
}

/// One table of one run, as the chart builder needs it.
struct TableSeries: Sendable {
    /// Rows in the table.
    var rows: Int
    /// Rows per bucket of the columns' series (1 when every row is its own bucket).
    var rowsPerBucket: Int
    /// The first row's step: where the x axis starts (a bucket sits at its last row's step).
    var firstStep: Double?
    /// The numeric columns, by key.
    var columns: [String: ColumnSeries]
    /// Whether some NaN cannot be placed on the x axis: a summary bucket records a NaN only
    /// when it is the bucket's last value, so NaNs amid finite rows are only counted.
    var hasUnplacedNaN = false
}
