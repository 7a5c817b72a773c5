/// A Unicode sparkline (`▁▂▃▅▇█`) of a series, one character per group of points.
package enum Sparkline {
    /// The eight block heights, lowest first.
    package static let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// Draws `values` in at most `width` characters.
    ///
    /// Longer series are resampled: each character shows the mean of the finite values in
    /// its group of points, so a noisy curve (a loss per step) shows its trend. Missing
    /// points (nil, NaN, ±inf) are blanks. A constant series is a flat line at the lowest
    /// block. Returns "" when no point is finite.
    package static func draw(_ values: [Double?], width: Int) -> String {
        guard width > 0 else { return "" }
        let points = resample(values, to: width)
        let finite = points.compactMap { $0 }.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max() else { return "" }
        let span = high - low
        var line = ""
        for point in points {
            guard let v = point, v.isFinite else {
                line.append(" ")
                continue
            }
            let level = span > 0 ? Int(((v - low) / span * Double(blocks.count - 1)).rounded()) : 0
            line.append(blocks[min(max(level, 0), blocks.count - 1)])
        }
        return line
    }

    /// `values` reduced to at most `width` points, each the mean of its group's finite values.
    static func resample(_ values: [Double?], to width: Int) -> [Double?] {
        guard values.count > width else { return values }
        var points: [Double?] = []
        points.reserveCapacity(width)
        for i in 0..<width {
            let start = i * values.count / width
            let end = (i + 1) * values.count / width
            let finite = values[start..<end].compactMap { $0 }.filter(\.isFinite)
            points.append(finite.isEmpty ? nil : finite.reduce(0, +) / Double(finite.count))
        }
        return points
    }
}
