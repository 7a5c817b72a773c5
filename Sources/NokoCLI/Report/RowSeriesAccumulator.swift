/// Builds a table's series from every row (`report --full`): like `summary.json`'s series,
/// buckets of consecutive rows that merge pairwise when full, so memory stays
/// O(columns × buckets) for any number of rows.
///
/// Unlike the summary, it keeps each bucket's finite envelope apart from its infinities, and
/// smooths over exactly `smoothing` rows.
struct RowSeriesAccumulator {
    /// The most buckets a column keeps (twice the summary's, since the rows are at hand).
    let maxBuckets: Int
    let smoothing: Int?
    private(set) var rows = 0
    private(set) var rowsPerBucket = 1
    /// The step of the first row.
    private(set) var firstStep: Double?
    private var names: [String] = []
    private var index: [String: Int] = [:]
    private var columns: [ColumnState] = []

    private struct ColumnState {
        var buckets: [SeriesBucket] = []
        var average: MovingAverage?
        var minimum: Double?
        var maximum: Double?
        var nanCount = 0
        var marks: NonFiniteMarks = []

        mutating func record(_ value: Double, step: Double, row: Int, bucket: Int) {
            var smoothed: Double?
            if average != nil { smoothed = average!.add(value, at: row) }
            if value.isFinite {
                minimum = Swift.min(minimum ?? value, value)
                maximum = Swift.max(maximum ?? value, value)
            } else {
                if value.isNaN { nanCount += 1 }
                marks.formUnion(NonFiniteMarks(of: value))
            }
            while buckets.count <= bucket {
                buckets.append(SeriesBucket(step: step, low: nil, high: nil, last: nil))
            }
            buckets[bucket].add(value, step: step, smoothed: smoothed)
        }
    }

    init(maxBuckets: Int = 2048, smoothing: Int?) {
        precondition(maxBuckets >= 2 && maxBuckets % 2 == 0, "buckets merge pairwise: use an even count")
        self.maxBuckets = maxBuckets
        self.smoothing = smoothing
    }

    /// The column number of `key`, adding the column when it is new. Callers that see the same
    /// keys row after row keep these numbers, so each value costs no hashing.
    mutating func column(_ key: String) -> Int {
        if let known = index[key] { return known }
        index[key] = columns.count
        names.append(key)
        columns.append(ColumnState(average: smoothing.map { MovingAverage(window: $0) }))
        return columns.count - 1
    }

    /// Adds one row: its step and its numeric values by column number (see ``column(_:)``).
    mutating func addRow(step: Double, columnValues: some Sequence<(column: Int, value: Double)>) {
        var bucket = rows / rowsPerBucket
        if bucket == maxBuckets {
            for c in columns.indices { columns[c].buckets = Self.halve(columns[c].buckets) }
            rowsPerBucket *= 2
            bucket = rows / rowsPerBucket
        }
        if rows == 0 { firstStep = step }
        for (column, value) in columnValues {
            columns[column].record(value, step: step, row: rows, bucket: bucket)
        }
        rows += 1
    }

    /// Adds one row: its step and its numeric values by key.
    mutating func addRow(step: Double, values: some Sequence<(key: String, value: Double)>) {
        let numbered = values.map { (column: column($0.key), value: $0.value) }
        addRow(step: step, columnValues: numbered)
    }

    /// The table as charts need it.
    var table: TableSeries {
        TableSeries(
            rows: rows, rowsPerBucket: rowsPerBucket, firstStep: firstStep,
            columns: Dictionary(
                uniqueKeysWithValues: zip(names, columns).map { name, state in
                    (
                        name,
                        ColumnSeries(
                            buckets: state.buckets, minimum: state.minimum, maximum: state.maximum, nanCount: state.nanCount,
                            marks: state.marks)
                    )
                }))
    }

    private static func halve(_ buckets: [SeriesBucket]) -> [SeriesBucket] {
        stride(from: 0, to: buckets.count, by: 2).map { i in
            var merged = buckets[i]
            if i + 1 < buckets.count { merged.absorb(buckets[i + 1]) }
            return merged
        }
    }
}
