import Foundation

/// One run's series in a chart: already resampled to the chart's width, in x order.
struct ChartLine: Sendable {
    /// The run's position in the report (its colour, its `r<N>` class).
    let run: Int
    let name: String
    let style: RunStyle
    let buckets: [SeriesBucket]
    /// The run's group in a grouped report: drawn faint in the group's colour, behind the
    /// group's curve.
    var group: Int? = nil
}

/// One group's curve in a chart: the mean of its runs with a band of ± one sample standard
/// deviation, already resampled to the chart's width, in x order.
struct ChartCurve: Sendable {
    /// The group's position in the report (its colour, its `g<N>` class).
    let group: Int
    let name: String
    let style: RunStyle
    let points: [CurvePoint]
}

/// Draws one line chart as inline SVG: axes with nice ticks, a faint min/max band and a line
/// per run, the smoothed line over a faint raw one, and markers where values were NaN or ±∞;
/// in a grouped report, the runs faint (`g.run.trial`) under each group's ± std band
/// (`g.spread path.std`) and its mean (`g.curve path.mean`).
///
/// The `<svg>` carries its axis transform in `data-` attributes (`data-y0`/`data-y1` are the
/// domain, `data-py0`/`data-py1` the matching coordinates), so the page's script can read
/// values back for tooltips and tests can check what was drawn. A curve's `<g>` carries its
/// numbers as space-separated lists, one entry per point: `data-step`, `data-mean` (`NaN`
/// where no run has a finite value: the curve breaks), `data-std` (`NaN` where fewer than two
/// runs have one: the band breaks) and `data-n` (how many have one).
struct LineChartSVG {
    /// The y axis's title (the key's last component).
    let label: String
    let x: AxisScale
    let y: AxisScale
    let lines: [ChartLine]
    let smoothed: Bool
    /// The x axis's title: `step`, or `seconds since start` for the system table.
    var xTitle = "step"
    /// The groups' curves, drawn over the runs (empty: a report of runs).
    var curves: [ChartCurve] = []

    func render() -> String {
        var svg = SVGText(
            capacity: 4096 + lines.reduce(0) { $0 + $1.buckets.count * 40 } + curves.reduce(0) { $0 + $1.points.count * 120 })
        svg.raw("<svg class=\"chart-svg\" viewBox=\"0 0 \(Int(ChartLayout.width)) \(Int(ChartLayout.height))\"")
        svg.raw(" font-size=\"\(ChartLayout.fontSize)\" font-family=\"system-ui, sans-serif\" role=\"img\"")
        svg.raw(" data-scale=\"\(y.kind.rawValue)\"")
        svg.raw(" data-x0=\"\(x.low)\" data-x1=\"\(x.high)\" data-px0=\"\(x.from)\" data-px1=\"\(x.to)\"")
        svg.raw(" data-y0=\"\(y.low)\" data-y1=\"\(y.high)\" data-py0=\"\(y.from)\" data-py1=\"\(y.to)\">")
        svg.raw("<title>")
        svg.escaped(label + (y.kind == .log ? " (log scale)" : ""))
        svg.raw("</title>")
        drawAxes(&svg)
        for line in lines { draw(line, &svg) }
        // Every band under every mean, so no group's band veils another's curve.
        for curve in curves { drawSpread(curve, &svg) }
        for curve in curves { drawCurve(curve, &svg) }
        svg.raw("</svg>")
        return svg.text
    }

    private var xTicks: AxisTicks { AxisTicks.linear(x.low, x.high, target: 5, wholeNumbers: true) }

    private var yTicks: AxisTicks {
        y.kind == .log ? AxisTicks.decades(y.low, y.high) : AxisTicks.linear(y.low, y.high, target: 5)
    }

    private func drawAxes(_ svg: inout SVGText) {
        let left = ChartLayout.plotLeft, right = ChartLayout.plotRight
        let top = ChartLayout.plotTop, bottom = ChartLayout.plotBottom
        let xTicks = self.xTicks, yTicks = self.yTicks
        svg.raw("<path class=\"grid\" fill=\"none\" stroke=\"#e3e3e3\" d=\"")
        for value in yTicks.values {
            svg.raw("M")
            svg.point(left, y.position(value))
            svg.raw("H")
            svg.number(right)
        }
        for value in xTicks.values {
            svg.raw("M")
            svg.point(x.position(value), top)
            svg.raw("V")
            svg.number(bottom)
        }
        svg.raw("\"/><path class=\"axis\" fill=\"none\" stroke=\"#888\" d=\"M")
        svg.point(left, top)
        svg.raw("V")
        svg.number(bottom)
        svg.raw("H")
        svg.number(right)
        svg.raw("\"/><g class=\"ticks\" fill=\"#555\">")
        let yLabels = y.kind == .log ? yTicks.values.map(AxisLabels.decade) : AxisLabels.linear(yTicks.values, step: yTicks.step)
        for (value, text) in zip(yTicks.values, yLabels) {
            svg.raw("<text x=\"")
            svg.number(left - 4)
            svg.raw("\" y=\"")
            svg.number(y.position(value) + ChartLayout.fontSize * 0.35)
            svg.raw("\" text-anchor=\"end\">")
            svg.escaped(text)
            svg.raw("</text>")
        }
        for (value, text) in zip(xTicks.values, AxisLabels.linear(xTicks.values, step: xTicks.step)) {
            svg.raw("<text x=\"")
            svg.number(x.position(value))
            svg.raw("\" y=\"")
            svg.number(bottom + 14)
            svg.raw("\" text-anchor=\"middle\">")
            svg.escaped(text)
            svg.raw("</text>")
        }
        svg.raw("<text class=\"axis-title\" x=\"")
        svg.number((left + right) / 2)
        svg.raw("\" y=\"")
        svg.number(ChartLayout.height - 3)
        svg.raw("\" text-anchor=\"middle\">")
        svg.escaped(xTitle)
        svg.raw("</text>")
        svg.raw("<text class=\"axis-title\" transform=\"rotate(-90)\" x=\"")
        svg.number(-(top + bottom) / 2)
        svg.raw("\" y=\"11\" text-anchor=\"middle\">")
        svg.escaped(label)
        svg.raw("</text></g>")
    }

    private func draw(_ line: ChartLine, _ svg: inout SVGText) {
        svg.raw("<g class=\"run r\(line.run)")
        if let group = line.group { svg.raw(" g\(group) trial") }
        svg.raw("\" data-run=\"\(line.run)\"")
        if let group = line.group { svg.raw(" data-group=\"\(group)\"") }
        svg.raw(" data-name=\"")
        svg.escaped(line.name)
        svg.raw("\" color=\"\(line.style.colour)\"")
        // Faint by the SVG itself, not only the page's style: it is what tells a run from its group's mean.
        if line.group != nil { svg.raw(" opacity=\"0.3\"") }
        svg.raw(">")
        drawBand(line.buckets, &svg)
        let raw = segments(line.buckets) { $0.last }
        let dash = line.style.dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
        var isolated: [(Double, Double)] = raw.filter { $0.count == 1 }.map { $0[0] }
        drawPath(raw, className: smoothed ? "line raw" : "line", extra: dash, &svg)
        if smoothed {
            let smooth = segments(line.buckets) { $0.smoothed }
            drawPath(smooth, className: "smooth", extra: dash, &svg)
        } else if raw.reduce(0, { $0 + $1.count }) <= ChartLayout.dottedPointLimit {
            isolated = raw.flatMap { $0 }
        }
        drawDots(isolated, &svg)
        drawMarks(line.buckets, &svg)
        svg.raw("</g>")
    }

    /// A round dot at each point (isolated points, which a path would not show, or every
    /// point of a short series).
    private func drawDots(_ points: [(Double, Double)], _ svg: inout SVGText) {
        guard !points.isEmpty else { return }
        svg.raw("<path class=\"dot\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"4\" stroke-linecap=\"round\" d=\"")
        for (px, py) in points {
            svg.raw("M")
            svg.point(px, py)
            svg.raw("h0")
        }
        svg.raw("\"/>")
    }

    /// A group's mean: a line through the points with a mean (broken where there is none),
    /// its numbers in the `<g>`'s `data-` lists.
    private func drawCurve(_ curve: ChartCurve, _ svg: inout SVGText) {
        let points = curve.points
        svg.raw("<g class=\"curve g\(curve.group)\" data-group=\"\(curve.group)\" data-name=\"")
        svg.escaped(curve.name)
        svg.raw("\" color=\"\(curve.style.colour)\"")
        svg.raw(" data-step=\"" + points.map { Self.exact($0.step) }.joined(separator: " ") + "\"")
        svg.raw(" data-mean=\"" + points.map { $0.mean.map(Self.exact) ?? "NaN" }.joined(separator: " ") + "\"")
        svg.raw(" data-std=\"" + points.map { $0.standardDeviation.map(Self.exact) ?? "NaN" }.joined(separator: " ") + "\"")
        svg.raw(" data-n=\"" + points.map { String($0.count) }.joined(separator: " ") + "\">")
        var segments: [[(Double, Double)]] = []
        var current: [(Double, Double)] = []
        for point in points {
            guard let mean = point.mean, let py = yPosition(mean) else {
                if !current.isEmpty { segments.append(current) }
                current = []
                continue
            }
            current.append((x.position(point.step), py))
        }
        if !current.isEmpty { segments.append(current) }
        let dash = curve.style.dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
        drawPath(segments, className: "mean", extra: dash, &svg)
        // As a run's line: dots where a point stands alone, and on every point of a short series.
        let short = !smoothed && segments.reduce(0) { $0 + $1.count } <= ChartLayout.dottedPointLimit
        drawDots(short ? segments.flatMap { $0 } : segments.filter { $0.count == 1 }.map { $0[0] }, &svg)
        svg.raw("</g>")
    }

    /// A group's band, mean − std to mean + std: one closed shape per run of points with a
    /// spread (two or more runs there). On a log axis, an edge at or below zero is drawn at
    /// the axis's bottom.
    private func drawSpread(_ curve: ChartCurve, _ svg: inout SVGText) {
        var segments: [[(x: Double, low: Double, high: Double)]] = []
        var current: [(x: Double, low: Double, high: Double)] = []
        for point in curve.points {
            guard let mean = point.mean, let std = point.standardDeviation, let high = yPosition(mean + std) else {
                if !current.isEmpty { segments.append(current) }
                current = []
                continue
            }
            current.append((x.position(point.step), yPosition(mean - std) ?? y.from, high))
        }
        if !current.isEmpty { segments.append(current) }
        guard !segments.isEmpty else { return }
        svg.raw("<g class=\"spread g\(curve.group)\" data-group=\"\(curve.group)\" color=\"\(curve.style.colour)\">")
        svg.raw("<path class=\"std\" fill=\"currentColor\" fill-opacity=\"0.2\" stroke=\"none\" d=\"")
        drawShapes(segments, &svg)
        svg.raw("\"/></g>")
    }

    /// Closed shapes between two edges: along the top edge, back along the bottom one. A
    /// single point has no width, so it gets one, for its extent to show.
    private func drawShapes(_ segments: [[(x: Double, low: Double, high: Double)]], _ svg: inout SVGText) {
        for segment in segments {
            let points = segment.count == 1
                ? [(segment[0].x - 0.6, segment[0].low, segment[0].high), (segment[0].x + 0.6, segment[0].low, segment[0].high)]
                : segment.map { ($0.x, $0.low, $0.high) }
            svg.raw("M")
            for (i, p) in points.enumerated() {
                if i > 0 { svg.raw(" ") }
                svg.point(p.0, p.2)
            }
            for p in points.reversed() {
                svg.raw(" ")
                svg.point(p.0, p.1)
            }
            svg.raw("Z")
        }
    }

    /// A number for a `data-` list, exactly (whole steps without `.0`).
    private static func exact(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }

    /// Runs of consecutive buckets with a value, split where a bucket held NaN or ±∞ (so
    /// the line shows a gap there instead of bridging it).
    private func segments(_ buckets: [SeriesBucket], _ value: (SeriesBucket) -> Double?) -> [[(Double, Double)]] {
        var result: [[(Double, Double)]] = []
        var current: [(Double, Double)] = []
        for bucket in buckets {
            if !bucket.marks.isEmpty && !current.isEmpty {
                result.append(current)
                current = []
            }
            guard let v = value(bucket), let py = yPosition(v) else { continue }
            current.append((x.position(bucket.step), py))
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    /// The y coordinate of `value`, or nil where the axis cannot show it (≤ 0 on a log axis).
    private func yPosition(_ value: Double) -> Double? {
        guard value.isFinite, y.kind == .linear || value > 0 else { return nil }
        return y.position(value)
    }

    private func drawPath(_ segments: [[(Double, Double)]], className: String, extra: String, _ svg: inout SVGText) {
        let drawn = segments.filter { $0.count > 1 }
        guard !drawn.isEmpty else { return }
        svg.raw("<path class=\"\(className)\" fill=\"none\" stroke=\"currentColor\"\(extra) d=\"")
        for segment in drawn {
            svg.raw("M")
            for (i, (px, py)) in segment.enumerated() {
                if i > 0 { svg.raw(" ") }
                svg.point(px, py)
            }
        }
        svg.raw("\"/>")
    }

    /// The min/max envelope: one closed shape per segment. It is left out where it would be a
    /// line anyway (every bucket a single value that the line already passes through).
    private func drawBand(_ buckets: [SeriesBucket], _ svg: inout SVGText) {
        var segments: [[(x: Double, low: Double, high: Double, flat: Bool)]] = []
        var current: [(x: Double, low: Double, high: Double, flat: Bool)] = []
        for bucket in buckets {
            if !bucket.marks.isEmpty && !current.isEmpty {
                segments.append(current)
                current = []
            }
            guard let low = bucket.low, let high = bucket.high, let pyLow = yPosition(low), let pyHigh = yPosition(high)
            else { continue }
            current.append((x.position(bucket.step), pyLow, pyHigh, low == high && bucket.last == low))
        }
        if !current.isEmpty { segments.append(current) }
        let drawn = segments.filter { segment in segment.contains { !$0.flat } }
        guard !drawn.isEmpty else { return }
        // The thin outline keeps a one-bucket spike visible: a filled sliver alone is too faint.
        svg.raw(
            "<path class=\"band\" fill=\"currentColor\" fill-opacity=\"0.16\" stroke=\"currentColor\" stroke-opacity=\"0.3\" stroke-width=\"0.6\" stroke-linejoin=\"round\" d=\"")
        drawShapes(drawn.map { $0.map { ($0.x, $0.low, $0.high) } }, &svg)
        svg.raw("\"/>")
    }

    /// NaN: a ring on the x axis; +∞: a triangle pointing up at the top; −∞: one pointing
    /// down at the bottom. Each shape starts at its anchor (`M x y`), which the page's script
    /// reads for tooltips.
    private func drawMarks(_ buckets: [SeriesBucket], _ svg: inout SVGText) {
        let kinds: [(NonFiniteMarks, String, String, Double)] = [
            (.nan, "nan", "m-2.4 0a2.4 2.4 0 1 0 4.8 0a2.4 2.4 0 1 0-4.8 0", ChartLayout.plotBottom),
            (.positiveInfinity, "posinf", "l3 6h-6z", ChartLayout.plotTop),
            (.negativeInfinity, "neginf", "l3-6h-6z", ChartLayout.plotBottom),
        ]
        for (mark, name, shape, anchor) in kinds {
            let at = buckets.filter { $0.marks.contains(mark) }
            guard !at.isEmpty else { continue }
            let fill = mark == .nan ? "#fff" : "currentColor"
            svg.raw("<path class=\"mark \(name)\" fill=\"\(fill)\" stroke=\"currentColor\" stroke-width=\"1.2\" d=\"")
            for bucket in at {
                svg.raw("M")
                svg.point(x.position(bucket.step), anchor)
                svg.raw(shape)
            }
            svg.raw("\"/>")
        }
    }
}
