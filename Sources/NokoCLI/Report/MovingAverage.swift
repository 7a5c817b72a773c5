/// A trailing moving average over a window of positions (rows, or buckets of rows): the mean
/// of the finite values added at the last `window` positions.
///
/// The window counts positions, not values, so a column logged every tenth row is averaged
/// over the same span of rows as one logged every row. Non-finite values are skipped (they
/// are drawn as markers, not averaged in). The running sum is recomputed from the window's
/// values once per `window` removals, so rounding errors cannot build up over millions of rows.
struct MovingAverage: Sendable {
    let window: Int
    private var positions: [Int] = []
    private var values: [Double] = []
    private var head = 0
    private var sum = 0.0
    private var removals = 0

    init(window: Int) {
        precondition(window >= 1, "a moving average needs a window of at least one position")
        self.window = window
    }

    /// Adds `value` at `position` (positions never decrease) and returns the average of the
    /// window ending there, or nil when the window holds no value.
    mutating func add(_ value: Double, at position: Int) -> Double? {
        if value.isFinite {
            positions.append(position)
            values.append(value)
            sum += value
        }
        return average(at: position)
    }

    /// The average of the window ending at `position`, or nil when it holds no value.
    mutating func average(at position: Int) -> Double? {
        while head < positions.count && positions[head] <= position - window {
            sum -= values[head]
            head += 1
            removals += 1
        }
        if head > 4096 && head * 2 > positions.count {
            positions.removeFirst(head)
            values.removeFirst(head)
            head = 0
        }
        if removals >= window {
            removals = 0
            sum = values[head...].reduce(0, +)
        }
        let count = positions.count - head
        return count == 0 ? nil : sum / Double(count)
    }

    /// `buckets` with ``SeriesBucket/smoothed`` set to the average of the last values of the
    /// last `window` buckets (how a summary's buckets, each already a sample of its rows, are
    /// smoothed).
    static func smooth(_ buckets: [SeriesBucket], window: Int) -> [SeriesBucket] {
        var average = MovingAverage(window: window)
        return buckets.enumerated().map { i, bucket in
            var bucket = bucket
            bucket.smoothed = bucket.last.flatMap { average.add($0, at: i) }
            return bucket
        }
    }
}
