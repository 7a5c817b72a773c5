/// What ``SeriesResampler`` merges: a point at a step that takes in the points after it in
/// its slice (a run's bucket keeps their envelope and last value; a group's curve point, the
/// last point).
protocol SlicedPoint {
    var step: Double { get }
    /// Whether the point holds anything to draw (empty ones are dropped).
    var hasNumber: Bool { get }
    mutating func absorb(_ later: Self)
}

extension SeriesBucket: SlicedPoint {}

/// Reduces a series to at most one bucket per slice of the x axis, so a chart holds about as
/// many points as it has pixels, whatever the number of rows.
enum SeriesResampler {
    /// Merges the points whose step falls into the same of `slices` equal parts of `x`'s
    /// range (in row order, so each slice keeps its last value and, for a run's buckets,
    /// their full envelope).
    static func resample<Point: SlicedPoint>(_ buckets: [Point], x: AxisScale, slices: Int) -> [Point] {
        precondition(slices > 0, "resampling needs at least one slice")
        var merged = [Point?](repeating: nil, count: slices)
        let width = x.to - x.from
        for bucket in buckets where bucket.hasNumber {
            let t = (x.position(bucket.step) - x.from) / width
            let slice = t.isFinite ? Swift.min(Swift.max(Int(t * Double(slices)), 0), slices - 1) : 0
            if merged[slice] == nil {
                merged[slice] = bucket
            } else {
                merged[slice]!.absorb(bucket)
            }
        }
        return merged.compactMap { $0 }
    }
}
