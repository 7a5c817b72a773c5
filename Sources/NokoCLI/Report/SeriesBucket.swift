/// Non-finite values seen in a bucket: drawn as markers and gaps, never as numbers.
struct NonFiniteMarks: OptionSet, Sendable, Hashable {
    let rawValue: UInt8
    static let nan = NonFiniteMarks(rawValue: 1)
    static let positiveInfinity = NonFiniteMarks(rawValue: 2)
    static let negativeInfinity = NonFiniteMarks(rawValue: 4)

    /// The mark for a non-finite `value` (empty for a finite one).
    init(of value: Double) {
        if value.isNaN {
            self = .nan
        } else if value == .infinity {
            self = .positiveInfinity
        } else if value == -.infinity {
            self = .negativeInfinity
        } else {
            self = []
        }
    }

    init(rawValue: UInt8) { self.rawValue = rawValue }
}

/// Consecutive rows of one column of one run, reduced to what a chart draws: the envelope of
/// their finite values, the last one, and which non-finite values occurred.
///
/// Buckets merge without losing the envelope, so the drawn band always reaches the column's
/// smallest and largest finite value, however many rows share a pixel.
struct SeriesBucket: Equatable, Sendable {
    /// The x position: the step of the bucket's last row that had a number.
    var step: Double
    /// The smallest and largest finite value; nil when the bucket had none.
    var low: Double?
    var high: Double?
    /// The last value if it was finite; nil when the bucket's last number was NaN or ±∞ (the
    /// line breaks there) or it had no number.
    var last: Double?
    /// The moving average at the bucket's last row, when smoothing.
    var smoothed: Double?
    /// Non-finite values anywhere in the bucket.
    var marks: NonFiniteMarks = []

    /// A bucket holding one value at `step`.
    init(step: Double, value: Double, smoothed: Double? = nil) {
        self.step = step
        let finite = value.isFinite
        low = finite ? value : nil
        high = low
        last = low
        self.smoothed = smoothed
        marks = NonFiniteMarks(of: value)
    }

    init(step: Double, low: Double?, high: Double?, last: Double?, smoothed: Double? = nil, marks: NonFiniteMarks = []) {
        self.step = step
        self.low = low
        self.high = high
        self.last = last
        self.smoothed = smoothed
        self.marks = marks
    }

    /// Whether any number (finite or not) landed here.
    var hasNumber: Bool { low != nil || last != nil || !marks.isEmpty }

    /// Adds one later row's `value` (what `absorb(SeriesBucket(step:value:smoothed:))` does,
    /// without building the bucket: `--full` calls this once per value).
    mutating func add(_ value: Double, step: Double, smoothed: Double?) {
        self.step = step
        if let smoothed { self.smoothed = smoothed }
        if value.isFinite {
            low = Swift.min(low ?? value, value)
            high = Swift.max(high ?? value, value)
            last = value
        } else {
            last = nil
            marks.formUnion(NonFiniteMarks(of: value))
        }
    }

    /// Adds the rows of `later` (which follow this bucket's rows) to this bucket.
    mutating func absorb(_ later: SeriesBucket) {
        guard later.hasNumber else { return }
        guard hasNumber else {
            self = later
            return
        }
        if let l = later.low { low = Swift.min(low ?? l, l) }
        if let h = later.high { high = Swift.max(high ?? h, h) }
        last = later.last
        smoothed = later.smoothed ?? smoothed
        marks.formUnion(later.marks)
        step = later.step
    }
}
