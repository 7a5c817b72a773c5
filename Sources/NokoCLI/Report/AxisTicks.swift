import Foundation

/// Tick positions for a chart axis: "nice" round numbers (1, 2 or 5 times a power of ten on a
/// linear axis, powers of ten on a log axis), so a reader can interpolate at a glance.
struct AxisTicks: Equatable, Sendable {
    /// The tick values, ascending, all inside the axis's domain.
    var values: [Double]
    /// The distance between neighbouring linear ticks (on a log axis: the ratio's exponent
    /// step, in decades); the labels' precision follows it.
    var step: Double

    /// About `target` ticks between `low` and `high` (both finite, `low < high`).
    ///
    /// Each tick is computed from its index as `(i × mantissa) / 10ⁿ` (one correctly rounded
    /// division), not by repeated addition or `i × 0.1`, so 0.3 is the double nearest 0.3 and
    /// zero is exactly zero.
    /// `wholeNumbers` keeps the step at 1 or more (steps are integers: no tick at 2.5).
    static func linear(_ low: Double, _ high: Double, target: Int = 5, wholeNumbers: Bool = false) -> AxisTicks {
        precondition(low.isFinite && high.isFinite && low < high, "linear ticks need a finite, non-empty range")
        var (mantissa, exponent) = niceStepParts(for: (high - low) / Double(max(target - 1, 1)))
        if wholeNumbers && (exponent < 0 || (exponent == 0 && mantissa == 2.5)) {
            (mantissa, exponent) = exponent < 0 ? (1, 0) : (2, 0)
        }
        let scale = pow(10, Double(abs(exponent)))
        func value(_ i: Double) -> Double { exponent < 0 ? i * mantissa / scale : i * mantissa * scale }
        let step = value(1)
        let first = (low / step).rounded(.up)
        let last = (high / step).rounded(.down)
        guard first <= last else { return AxisTicks(values: [], step: step) }
        // The step is within a factor 1.5 of range / (target - 1), so there are at most about
        // 1.5 × target ticks; the cap only protects against a caller passing a silly target.
        let count = min(Int(last - first) + 1, 50)
        let values = (0..<count).map { value(first + Double($0)) }
        return AxisTicks(values: values.map { $0 == 0 ? 0 : $0 }, step: step)
    }

    /// Powers of ten between `low` and `high` (both positive): every decade when there are
    /// few, every second or fifth… when there are many, so labels never crowd.
    static func decades(_ low: Double, _ high: Double, maxTicks: Int = 7) -> AxisTicks {
        precondition(low > 0 && high > low && high.isFinite, "log ticks need 0 < low < high")
        let firstExponent = Int(log10(low).rounded(.up))
        let lastExponent = Int(log10(high).rounded(.down))
        guard firstExponent <= lastExponent else { return AxisTicks(values: [], step: 1) }
        let span = lastExponent - firstExponent + 1
        let every = [1, 2, 3, 5, 10, 20, 50, 100].first { (span + $0 - 1) / $0 <= maxTicks } ?? 100
        // Start on a multiple of `every`, so 10^0 = 1 is a tick whenever it is in range.
        let start = Int((Double(firstExponent) / Double(every)).rounded(.up)) * every
        // 1 / 10ⁿ, not pow(10, -n): one correctly rounded division gives the double nearest 0.001.
        let values = stride(from: start, through: lastExponent, by: every).map { $0 < 0 ? 1 / pow(10, Double(-$0)) : pow(10, Double($0)) }
        return AxisTicks(values: values, step: Double(every))
    }

    /// The nice number (1, 2, 2.5 or 5 times a power of ten) nearest to `rough` on a log
    /// scale, as (mantissa, exponent): a 0.26-wide range in 5 ticks gets steps of 0.05, not 0.1.
    static func niceStepParts(for rough: Double) -> (mantissa: Double, exponent: Int) {
        guard rough > 0, rough.isFinite else { return (1, 0) }
        var exponent = Int(log10(rough).rounded(.down))
        let fraction = rough / pow(10, Double(exponent))
        let mantissa: Double
        switch fraction {
        case ..<1.45: mantissa = 1
        case ..<2.25: mantissa = 2
        case ..<3.5: mantissa = 2.5
        case ..<7.1: mantissa = 5
        default:
            mantissa = 1
            exponent += 1
        }
        return (mantissa, exponent)
    }
}
