/// A trailing moving average over the last `window` finite values.
///
/// Non-finite values are skipped (they are drawn as markers, not averaged in). The running
/// sum is recomputed from the window once per wrap-around, so rounding errors cannot build up
/// over millions of rows.
struct MovingAverage: Sendable {
    let window: Int
    private var values: [Double] = []
    private var next = 0
    private var sum = 0.0

    init(window: Int) {
        precondition(window >= 1, "a moving average needs a window of at least one value")
        self.window = window
    }

    /// Adds `value` and returns the average of the window, or nil when it holds no value yet.
    mutating func add(_ value: Double) -> Double? {
        guard value.isFinite else { return current }
        if values.count < window {
            values.append(value)
            sum += value
        } else {
            sum += value - values[next]
            values[next] = value
            next += 1
            if next == window {
                next = 0
                sum = values.reduce(0, +)
            }
        }
        return current
    }

    /// The average of the window, or nil when it holds no value yet.
    var current: Double? { values.isEmpty ? nil : sum / Double(values.count) }

    /// `buckets` with ``SeriesBucket/smoothed`` set to the average of the last `window`
    /// buckets' last values (how a summary's buckets, each already a sample of many rows, are
    /// smoothed).
    static func smooth(_ buckets: [SeriesBucket], window: Int) -> [SeriesBucket] {
        var average = MovingAverage(window: window)
        return buckets.map { bucket in
            var bucket = bucket
            bucket.smoothed = bucket.last.flatMap { average.add($0) }
            return bucket
        }
    }
}
