import NokoCore

/// Turns a table of `summary.json` (or of a summary rebuilt from the rows, for runs without
/// one) into chart series: per numeric column, the downsampled min/max/last buckets and the
/// exact extremes.
///
/// This is what makes `report` fast: O(columns × buckets), whatever the number of rows.
enum SummarySeriesReader {
    /// The numeric columns of `table`; a malformed column is left out with a warning naming it
    /// (`path` names the file).
    ///
    /// - Parameter smoothing: the moving average's window in rows; on a summary's buckets it
    ///   becomes ⌈rows ÷ rows per bucket⌉ buckets.
    static func series(of table: TableStatistics, path: String, smoothing: Int?, warn: (String) -> Void) -> TableSeries {
        let width = max(1, table.seriesWidth)
        var columns: [String: ColumnSeries] = [:]
        var unplaced = false
        for column in table.columns {
            guard let series = column.series else { continue }  // not numeric
            let counts = [series.min.count, series.max.count, series.last.count]
            guard counts.allSatisfy({ $0 == table.seriesSteps.count }) else {
                warn(
                    "\(path): table \(table.name.debugDescription), column \(column.name.debugDescription): series of "
                        + "\(counts.map(String.init).joined(separator: "/")) min/max/last values for "
                        + "\(table.seriesSteps.count) series_step entries; not charted")
                continue
            }
            var parsed = columnSeries(series, steps: table.seriesSteps, column: column)
            let placed = parsed.buckets.filter { $0.marks.contains(.nan) }.count
            if column.nanCount > placed * width { unplaced = true }
            if let smoothing {
                parsed.buckets = MovingAverage.smooth(parsed.buckets, window: (smoothing + width - 1) / width)
            }
            columns[column.name] = parsed
        }
        return TableSeries(
            rows: table.rows, rowsPerBucket: width, firstStep: table.rows > 0 ? Double(table.firstStep) : nil, columns: columns,
            hasUnplacedNaN: unplaced)
    }

    private static func columnSeries(_ series: BucketSeries, steps: [Int], column: ColumnStatistics) -> ColumnSeries {
        var buckets: [SeriesBucket] = []
        buckets.reserveCapacity(steps.count)
        var marks: NonFiniteMarks = []
        var minimum: Double?, maximum: Double?
        for i in steps.indices {
            var bucket = SeriesBucket(step: Double(steps[i]), low: nil, high: nil, last: nil)
            // The summary keeps ±∞ in min/max (only NaN is left out), so a bucket's finite
            // envelope is unknown when it held an infinity: it shows as a marker and a gap.
            for value in [series.min[i], series.max[i], series.last[i]] {
                if let value { bucket.marks.formUnion(NonFiniteMarks(of: value)) }
            }
            if let low = series.min[i], let high = series.max[i], low.isFinite, high.isFinite {
                bucket.low = low
                bucket.high = high
                minimum = Swift.min(minimum ?? low, low)
                maximum = Swift.max(maximum ?? high, high)
            }
            if let last = series.last[i], last.isFinite { bucket.last = last }
            marks.formUnion(bucket.marks)
            buckets.append(bucket)
        }
        // The column's own extremes are exact; they win when finite.
        if let low = column.min, low.isFinite { minimum = low }
        if let high = column.max, high.isFinite { maximum = high }
        if column.nanCount > 0 { marks.insert(.nan) }
        return ColumnSeries(buckets: buckets, minimum: minimum, maximum: maximum, nanCount: column.nanCount, marks: marks)
    }
}
