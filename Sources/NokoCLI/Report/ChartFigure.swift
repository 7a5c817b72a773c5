/// One column's chart, every run that has the column overlaid: a linear version, and a log
/// version when the values span orders of magnitude.
struct ChartFigure: Sendable {
    /// One run's data for the chart.
    struct RunColumn: Sendable {
        /// The run's position in the report.
        let run: Int
        let name: String
        let series: ColumnSeries
        /// The step of the table's first row in this run (the x axis starts there or before).
        var firstStep: Double? = nil
    }

    let table: String
    let key: String
    /// The `<svg>` markup.
    let linearSVG: String
    let logSVG: String?
    /// The smallest and largest finite value over all runs (nil when there is none).
    let minimum: Double?
    let maximum: Double?
    /// What the reader should know: NaN and infinities, per run.
    let notes: [String]
    /// The runs drawn.
    let runs: [Int]

    /// Draws `key` of `table` for `columns` (one per run that has the column).
    init(table: String, key: String, columns: [RunColumn], smoothed: Bool, xTitle: String = "step") {
        self.table = table
        self.key = key
        runs = columns.map(\.run)
        let withNumbers = columns.flatMap { $0.series.buckets.filter(\.hasNumber) }
        let firstStep = (withNumbers.map(\.step) + columns.compactMap(\.firstStep)).min() ?? 0
        let lastStep = withNumbers.map(\.step).max() ?? 0
        let x = AxisScale(
            kind: .linear, low: firstStep < lastStep ? firstStep : firstStep - 1,
            high: firstStep < lastStep ? lastStep : lastStep + 1, from: ChartLayout.plotLeft, to: ChartLayout.plotRight)
        let minimum = columns.compactMap(\.series.minimum).min()
        let maximum = columns.compactMap(\.series.maximum).max()
        self.minimum = minimum
        self.maximum = maximum
        let lines = columns.map { column in
            ChartLine(
                run: column.run, name: column.name, style: RunStyle(index: column.run),
                buckets: SeriesResampler.resample(column.series.buckets, x: x, slices: ChartLayout.slices))
        }
        let label = key.split(separator: "/").last.map(String.init) ?? key
        let svg = { (kind: AxisScale.Kind) -> String in
            let domain = AxisScale.paddedDomain(kind: kind, minimum: minimum ?? -1, maximum: maximum ?? 1)
            let y = AxisScale(
                kind: kind, low: domain.low, high: domain.high, from: ChartLayout.plotBottom, to: ChartLayout.plotTop)
            return LineChartSVG(label: label, x: x, y: y, lines: lines, smoothed: smoothed, xTitle: xTitle).render()
        }
        linearSVG = svg(.linear)
        if let minimum, let maximum, LogScaleRule.offersLog(minimum: minimum, maximum: maximum) {
            logSVG = svg(.log)
        } else {
            logSVG = nil
        }
        notes = columns.compactMap { column in
            var found: [String] = []
            if column.series.nanCount > 0 {
                found.append("NaN ×\(DisplayFormat.count(column.series.nanCount))")
            } else if column.series.marks.contains(.nan) {
                found.append("NaN")
            }
            if column.series.marks.contains(.positiveInfinity) { found.append("+∞") }
            if column.series.marks.contains(.negativeInfinity) { found.append("−∞") }
            guard !found.isEmpty else { return nil }
            return (columns.count > 1 ? column.name + ": " : "") + found.joined(separator: ", ")
        }
    }
}
