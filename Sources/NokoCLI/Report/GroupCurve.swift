/// One point of a group's curve: the mean and spread of its runs' values at one row (or one
/// bucket of rows).
struct CurvePoint: Equatable, Sendable {
    var step: Double
    /// The mean of the runs' finite values here; nil where every value was NaN or ±∞ (the
    /// curve breaks there, as a run's line does).
    var mean: Double?
    /// Their sample standard deviation; nil below two values (the band leaves a gap).
    var standardDeviation: Double?
    /// How many runs had a finite value here.
    var count: Int
}

extension CurvePoint: SlicedPoint {
    var hasNumber: Bool { true }

    /// A slice keeps its last point, as a run's line keeps its last value.
    mutating func absorb(_ later: CurvePoint) { self = later }
}

/// A group's curve for one column: its runs' values lined up by row and averaged.
///
/// Rows go together by their position in the table, not by their step: the i-th row of each
/// run is the same moment of the same program (a sweep's trials log the same steps anyway,
/// and runs that count steps differently still line up). x is the step at that row of the
/// group's longest run (its first, when several are as long), so every point has one and x
/// only grows. A point averages the runs that have that row, so past the end of a shorter
/// run the curve goes on over the longer ones (``CurvePoint/count`` says over how many).
///
/// Long tables come as buckets of rows (a summary's ≤ 1,024 per column); the runs' buckets
/// are merged to the widest of them, and each run gives the last value in each, so a point
/// is the mean of the runs' values at about the same row (exactly the same row for tables
/// short enough to have a bucket per row). With `--smooth` the runs' moving averages are
/// averaged instead of their raw values.
struct GroupCurve: Sendable {
    let points: [CurvePoint]
    /// The run whose steps are the curve's x (its position in the report).
    let stepRun: Int
    /// Whether some run logged another step than ``stepRun`` at the same row: the reader
    /// should know the x axis belongs to one run.
    let stepsDiffer: Bool

    init(_ columns: [ChartFigure.RunColumn], smoothed: Bool) {
        precondition(!columns.isEmpty, "a curve needs at least one run")
        let width = columns.map { max(1, $0.rowsPerBucket) }.max()!
        let merged = columns.map { Self.merge($0, to: width) }
        var longest = 0
        for i in columns.indices where columns[i].rows > columns[longest].rows { longest = i }
        stepRun = columns[longest].run
        var points: [CurvePoint] = []
        var stepsDiffer = false
        for k in 0..<(merged.map(\.count).max() ?? 0) {
            let here = merged.map { k < $0.count ? $0[k] : nil }
            guard let step = (here[longest] ?? here.lazy.compactMap { $0 }.first)?.step else { continue }
            // A run's last, partial bucket ends before the others': only whole ones compare.
            stepsDiffer = stepsDiffer || columns.indices.contains { i in
                here[i] != nil && here[i]!.step != step && columns[i].rows >= (k + 1) * width
            }
            let values = here.compactMap { $0.flatMap { smoothed ? $0.smoothed : $0.last } }.filter(\.isFinite)
            // Values near Double's limits can sum past them: such a point is a gap, not an infinity.
            let spread = SampleSpread(values).flatMap { $0.mean.isFinite ? $0 : nil }
            points.append(
                CurvePoint(
                    step: step, mean: spread?.mean, standardDeviation: spread?.standardDeviation.flatMap { $0.isFinite ? $0 : nil },
                    count: values.count))
        }
        self.points = points
        self.stepsDiffer = stepsDiffer
    }

    /// `column`'s buckets merged into buckets of `width` rows (a multiple of its own: both are
    /// powers of two), indexed by their rows: bucket k holds rows k·width ..< (k+1)·width.
    /// Buckets without a number stay nil.
    private static func merge(_ column: ChartFigure.RunColumn, to width: Int) -> [SeriesBucket?] {
        let own = max(1, column.rowsPerBucket)
        var merged: [SeriesBucket?] = []
        for (k, bucket) in column.series.buckets.enumerated() where bucket.hasNumber {
            // Placed by the bucket's last row, so a run's last, partial bucket lands where its last row is.
            let end = column.rows > 0 ? min((k + 1) * own, column.rows) : (k + 1) * own
            let at = (end - 1) / width
            while merged.count <= at { merged.append(nil) }
            if merged[at] == nil {
                merged[at] = bucket
            } else {
                merged[at]!.absorb(bucket)
            }
        }
        return merged
    }
}
