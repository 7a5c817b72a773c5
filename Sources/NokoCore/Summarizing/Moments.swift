/// Count, mean, spread and range of a numeric collection, computed in one pass.
///
/// Partial results combine exactly (Chan et al.'s parallel variance), so nested arrays and
/// chunks are summarized without copying them into one buffer.
struct Moments: Sendable {
    var count: Int
    var mean: Double
    /// Sum of squared deviations from the mean.
    var m2: Double
    var min: Double
    var max: Double
    var hasNaN: Bool

    static let empty = Moments(count: 0, mean: 0, m2: 0, min: .infinity, max: -.infinity, hasNaN: false)

    /// Population standard deviation, as numpy's default `std()`.
    var std: Double { count > 0 ? (m2 / Double(count)).squareRoot() : .nan }

    mutating func combine(_ other: Moments) {
        if other.count == 0 { return }
        if count == 0 {
            self = other
            return
        }
        if !mean.isFinite || !other.mean.isFinite {
            // Infinite parts: the mean is the sum of the parts' means (+∞, −∞, or NaN for
            // both), and the spread is NaN, as numpy's.
            let nan = hasNaN || other.hasNaN
            self = Moments(
                count: count + other.count, mean: nan ? .nan : mean + other.mean, m2: .nan,
                min: nan ? .nan : Swift.min(min, other.min), max: nan ? .nan : Swift.max(max, other.max), hasNaN: nan)
            return
        }
        let n = Double(count + other.count)
        let delta = other.mean - mean
        mean += delta * Double(other.count) / n
        m2 += other.m2 + delta * delta * Double(count) * Double(other.count) / n
        count += other.count
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
        hasNaN = hasNaN || other.hasNaN
        if hasNaN {
            (mean, m2, min, max) = (.nan, .nan, .nan, .nan)
        }
    }

    /// Moments of a buffer of floating-point values: shifted sums in four lanes (so the loop
    /// vectorizes) with the first element as the shift, which keeps the one-pass variance
    /// accurate when the values sit far from zero.
    @inline(__always)
    static func ofFloatingPoint<T: BinaryFloatingPoint>(_ buffer: UnsafeBufferPointer<T>) -> Moments {
        let n = buffer.count
        guard n > 0 else { return .empty }
        let shift = Double(buffer[0])
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var q0 = 0.0, q1 = 0.0, q2 = 0.0, q3 = 0.0
        var lo = buffer[0], hi = buffer[0]
        var i = 0
        while i + 4 <= n {
            let a = buffer[i], b = buffer[i + 1], c = buffer[i + 2], d = buffer[i + 3]
            let da = Double(a) - shift, db = Double(b) - shift, dc = Double(c) - shift, dd = Double(d) - shift
            s0 += da; s1 += db; s2 += dc; s3 += dd
            q0 += da * da; q1 += db * db; q2 += dc * dc; q3 += dd * dd
            lo = a < lo ? a : lo; lo = b < lo ? b : lo; lo = c < lo ? c : lo; lo = d < lo ? d : lo
            hi = a > hi ? a : hi; hi = b > hi ? b : hi; hi = c > hi ? c : hi; hi = d > hi ? d : hi
            i += 4
        }
        while i < n {
            let a = buffer[i]
            let da = Double(a) - shift
            s0 += da
            q0 += da * da
            lo = a < lo ? a : lo
            hi = a > hi ? a : hi
            i += 1
        }
        let sum = (s0 + s1) + (s2 + s3)
        let squares = (q0 + q1) + (q2 + q3)
        let count = Double(n)
        var result = Moments(
            count: n, mean: shift + sum / count, m2: Swift.max(0, squares - sum * sum / count),
            min: Double(lo), max: Double(hi), hasNaN: false)
        if !sum.isFinite || !squares.isFinite || shift.isNaN {
            result.fixNonFinite(buffer)
        }
        return result
    }

    /// Moments of a buffer of integers, accumulated in `Double` like numpy's mean and std.
    @inline(__always)
    static func ofIntegers<T: BinaryInteger>(_ buffer: UnsafeBufferPointer<T>) -> Moments {
        let n = buffer.count
        guard n > 0 else { return .empty }
        let shift = Double(buffer[0])
        var s0 = 0.0, s1 = 0.0, q0 = 0.0, q1 = 0.0
        var lo = buffer[0], hi = buffer[0]
        var i = 0
        while i + 2 <= n {
            let a = buffer[i], b = buffer[i + 1]
            let da = Double(a) - shift, db = Double(b) - shift
            s0 += da; s1 += db
            q0 += da * da; q1 += db * db
            lo = a < lo ? a : lo; lo = b < lo ? b : lo
            hi = a > hi ? a : hi; hi = b > hi ? b : hi
            i += 2
        }
        if i < n {
            let a = buffer[i]
            let da = Double(a) - shift
            s0 += da
            q0 += da * da
            lo = a < lo ? a : lo
            hi = a > hi ? a : hi
        }
        let sum = s0 + s1, squares = q0 + q1, count = Double(n)
        return Moments(
            count: n, mean: shift + sum / count, m2: Swift.max(0, squares - sum * sum / count),
            min: Double(lo), max: Double(hi), hasNaN: false)
    }

    /// The slow path for collections holding NaN or infinities: numpy's answers
    /// (NaN poisons everything; infinities give infinite means and NaN spreads).
    mutating func fixNonFinite<T: BinaryFloatingPoint>(_ values: UnsafeBufferPointer<T>) {
        var nan = false, posInf = false, negInf = false
        var finite = Moments.empty
        for element in values {
            let v = Double(element)
            if v.isNaN {
                nan = true
            } else if v == .infinity {
                posInf = true
            } else if v == -.infinity {
                negInf = true
            } else {
                finite.combine(Moments(count: 1, mean: v, m2: 0, min: v, max: v, hasNaN: false))
            }
        }
        if nan {
            self = Moments(count: count, mean: .nan, m2: .nan, min: .nan, max: .nan, hasNaN: true)
            return
        }
        mean = posInf && negInf ? .nan : posInf ? .infinity : negInf ? -.infinity : finite.mean
        m2 = posInf || negInf ? .nan : finite.m2
        min = negInf ? -.infinity : finite.min
        max = posInf ? .infinity : finite.max
    }
}
