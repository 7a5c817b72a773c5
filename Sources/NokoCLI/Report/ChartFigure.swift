/// One column's chart, every run that has the column overlaid (or, in a grouped report, one
/// curve per group over its runs drawn faint): a linear version, and a log version when the
/// values span orders of magnitude.
struct ChartFigure: Sendable {
    /// One run's data for the chart.
    struct RunColumn: Sendable {
        /// The run's position in the report.
        let run: Int
        let name: String
        let series: ColumnSeries
        /// The step of the table's first row in this run (the x axis starts there or before).
        var firstStep: Double? = nil
        /// The table's rows in this run, and how many rows each bucket holds: where each
        /// bucket's rows are, which a group's curve lines up by.
        var rows = 0
        var rowsPerBucket = 1
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
    /// The groups drawn as curves (their positions in the report's groups).
    let curves: [Int]

    /// Draws `key` of `table` for `columns` (one per run that has the column); with `groups`,
    /// one curve per group that has runs among them (see ``GroupCurve``), the runs faint
    /// behind in their group's colour.
    init(
        table: String, key: String, columns: [RunColumn], smoothed: Bool, xTitle: String = "step", groups: [RunGroups.Group] = []
    ) {
        self.table = table
        self.key = key
        runs = columns.map(\.run)
        var groupOfRun: [Int: Int] = [:]
        for (g, group) in groups.enumerated() {
            for run in group.runs { groupOfRun[run] = g }
        }
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
                run: column.run, name: column.name, style: RunStyle(index: groupOfRun[column.run] ?? column.run),
                buckets: SeriesResampler.resample(column.series.buckets, x: x, slices: ChartLayout.slices),
                group: groupOfRun[column.run])
        }
        var curves: [ChartCurve] = []
        var curveNotes: [String] = []
        for (g, group) in groups.enumerated() {
            let members = columns.filter { groupOfRun[$0.run] == g }
            guard !members.isEmpty else { continue }
            let curve = GroupCurve(members, smoothed: smoothed)
            curves.append(
                ChartCurve(
                    group: g, name: group.name, style: RunStyle(index: g),
                    points: SeriesResampler.resample(curve.points, x: x, slices: ChartLayout.slices)))
            if curve.stepsDiffer, let stepRun = members.first(where: { $0.run == curve.stepRun }) {
                curveNotes.append("\(group.name): its runs log other steps at the same rows; x is \(stepRun.name)'s")
            }
        }
        self.curves = curves.map(\.group)
        // The band may reach past every run's values (two runs 1 apart: mean ± 0.71).
        let spread = curves.flatMap(\.points).flatMap { point -> [Double] in
            guard let mean = point.mean else { return [] }
            let std = point.standardDeviation ?? 0
            return [mean - std, mean + std].filter(\.isFinite)
        }
        let label = key.split(separator: "/").last.map(String.init) ?? key
        let svg = { (kind: AxisScale.Kind) -> String in
            // On a log axis, a band edge at or below zero is cut at the axis's bottom.
            let shown = kind == .log ? spread.filter { $0 > 0 } : spread
            let low = ([minimum].compactMap { $0 } + shown).min(), high = ([maximum].compactMap { $0 } + shown).max()
            let domain = AxisScale.paddedDomain(kind: kind, minimum: low ?? -1, maximum: high ?? 1)
            let y = AxisScale(
                kind: kind, low: domain.low, high: domain.high, from: ChartLayout.plotBottom, to: ChartLayout.plotTop)
            return LineChartSVG(label: label, x: x, y: y, lines: lines, smoothed: smoothed, xTitle: xTitle, curves: curves).render()
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
        } + curveNotes
    }
}
