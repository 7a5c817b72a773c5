/// Reduces a series to at most one bucket per slice of the x axis, so a chart holds about as
/// many points as it has pixels, whatever the number of rows.
enum SeriesResampler {
    /// Merges the buckets whose step falls into the same of `slices` equal parts of `x`'s
    /// range (in row order, so each slice keeps its last value and its full envelope).
    static func resample(_ buckets: [SeriesBucket], x: AxisScale, slices: Int) -> [SeriesBucket] {
        precondition(slices > 0, "resampling needs at least one slice")
        var merged = [SeriesBucket?](repeating: nil, count: slices)
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
