import Foundation

/// Maps data values on one axis to chart coordinates, linearly or by their logarithm.
struct AxisScale: Equatable, Sendable {
    /// How values are spaced along the axis.
    enum Kind: String, Sendable {
        case linear, log
    }

    let kind: Kind
    /// The values at the two ends of the axis (`low < high`; both positive on a log axis).
    let low: Double
    let high: Double
    /// The chart coordinates of `low` and `high` (for a y axis, `from` is below `to`:
    /// SVG's y grows downwards).
    let from: Double
    let to: Double

    init(kind: Kind, low: Double, high: Double, from: Double, to: Double) {
        precondition(low < high && low.isFinite && high.isFinite, "an axis needs a finite, non-empty domain")
        precondition(kind == .linear || low > 0, "a log axis needs a positive domain")
        self.kind = kind
        self.low = low
        self.high = high
        self.from = from
        self.to = to
    }

    /// The chart coordinate of `value` (finite; positive on a log axis).
    func position(_ value: Double) -> Double {
        from + (to - from) * fraction(value)
    }

    /// The value at chart coordinate `position` (the inverse of ``position(_:)``).
    func value(at position: Double) -> Double {
        let t = (position - from) / (to - from)
        switch kind {
        case .linear: return low + t * 2 * (high * 0.5 - low * 0.5)
        case .log: return pow(10, log10(low) + t * (log10(high) - log10(low)))
        }
    }

    private func fraction(_ value: Double) -> Double {
        switch kind {
        // Halving first keeps the differences finite for values near ±Double.greatestFiniteMagnitude.
        case .linear: return (value * 0.5 - low * 0.5) / (high * 0.5 - low * 0.5)
        case .log: return (log10(value) - log10(low)) / (log10(high) - log10(low))
        }
    }

    /// A domain around the data's `minimum`…`maximum` with a margin (5 % of the span, or of
    /// the decades on a log axis), so extremes don't sit on the frame; a flat series gets a
    /// band around its value.
    static func paddedDomain(kind: Kind, minimum: Double, maximum: Double) -> (low: Double, high: Double) {
        switch kind {
        case .linear:
            if minimum == maximum {
                let half = minimum == 0 ? 1 : abs(minimum) * 0.1
                return (minimum - half, maximum + half)
            }
            let pad = (maximum * 0.5 - minimum * 0.5) * 0.1
            // Near the top of Double's range the padded ends overflow; keep the data's ends then.
            let low = minimum - pad, high = maximum + pad
            return (low.isFinite ? low : minimum, high.isFinite ? high : maximum)
        case .log:
            let lo = log10(minimum), hi = log10(maximum)
            let pad = max((hi - lo) * 0.05, 0.05)
            return (pow(10, lo - pad), pow(10, hi + pad))
        }
    }
}
