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
    private var columns: [String: ColumnState] = [:]

    private struct ColumnState {
        var buckets: [SeriesBucket] = []
        var average: MovingAverage?
        var minimum: Double?
        var maximum: Double?
        var nanCount = 0
        var marks: NonFiniteMarks = []

        mutating func record(_ value: Double, step: Double, bucket: Int) {
            var smoothed: Double?
            if average != nil { smoothed = average!.add(value) }
            let point = SeriesBucket(step: step, value: value, smoothed: smoothed)
            if value.isFinite {
                minimum = Swift.min(minimum ?? value, value)
                maximum = Swift.max(maximum ?? value, value)
            } else {
                if value.isNaN { nanCount += 1 }
                marks.formUnion(point.marks)
            }
            while buckets.count <= bucket {
                buckets.append(SeriesBucket(step: step, low: nil, high: nil, last: nil))
            }
            buckets[bucket].absorb(point)
        }
    }

    init(maxBuckets: Int = 2048, smoothing: Int?) {
        precondition(maxBuckets >= 2 && maxBuckets % 2 == 0, "buckets merge pairwise: use an even count")
        self.maxBuckets = maxBuckets
        self.smoothing = smoothing
    }

    /// Adds one row: its step and its numeric values by key.
    mutating func addRow(step: Double, values: some Sequence<(key: String, value: Double)>) {
        var bucket = rows / rowsPerBucket
        if bucket == maxBuckets {
            for key in columns.keys { columns[key]!.buckets = Self.halve(columns[key]!.buckets) }
            rowsPerBucket *= 2
            bucket = rows / rowsPerBucket
        }
        rows += 1
        for (key, value) in values {
            add(value, step: step, key: key, bucket: bucket)
        }
    }

    private mutating func add(_ value: Double, step: Double, key: String, bucket: Int) {
        if columns[key] == nil {
            columns[key] = ColumnState(average: smoothing.map { MovingAverage(window: $0) })
        }
        // In place, through the dictionary's storage: no copy of the bucket array per value.
        columns[key]!.record(value, step: step, bucket: bucket)
    }

    /// The table as charts need it.
    var table: TableSeries {
        TableSeries(
            rows: rows, rowsPerBucket: rowsPerBucket,
            columns: columns.mapValues { state in
                ColumnSeries(
                    buckets: state.buckets, minimum: state.minimum, maximum: state.maximum, nanCount: state.nanCount,
                    marks: state.marks)
            })
    }

    private static func halve(_ buckets: [SeriesBucket]) -> [SeriesBucket] {
        stride(from: 0, to: buckets.count, by: 2).map { i in
            var merged = buckets[i]
            if i + 1 < buckets.count { merged.absorb(buckets[i + 1]) }
            return merged
        }
    }
}
