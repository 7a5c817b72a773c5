import Foundation

/// One run's series in a chart: already resampled to the chart's width, in x order.
struct ChartLine: Sendable {
    /// The run's position in the report (its colour, its `r<N>` class).
    let run: Int
    let name: String
    let style: RunStyle
    let buckets: [SeriesBucket]
}

/// Draws one line chart as inline SVG: axes with nice ticks, a faint min/max band and a line
/// per run, the smoothed line over a faint raw one, and markers where values were NaN or ±∞.
///
/// The `<svg>` carries its axis transform in `data-` attributes (`data-y0`/`data-y1` are the
/// domain, `data-py0`/`data-py1` the matching coordinates), so the page's script can read
/// values back for tooltips and tests can check what was drawn.
struct LineChartSVG {
    /// The y axis's title (the key's last component).
    let label: String
    let x: AxisScale
    let y: AxisScale
    let lines: [ChartLine]
    let smoothed: Bool
    /// The x axis's title: `step`, or `seconds since start` for the system table.
    var xTitle = "step"

    func render() -> String {
        var svg = SVGText(capacity: 4096 + lines.reduce(0) { $0 + $1.buckets.count * 40 })
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
        svg.raw("<g class=\"run r\(line.run)\" data-run=\"\(line.run)\" data-name=\"")
        svg.escaped(line.name)
        svg.raw("\" color=\"\(line.style.colour)\">")
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
        if !isolated.isEmpty {
            svg.raw("<path class=\"dot\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"4\" stroke-linecap=\"round\" d=\"")
            for (px, py) in isolated {
                svg.raw("M")
                svg.point(px, py)
                svg.raw("h0")
            }
            svg.raw("\"/>")
        }
        drawMarks(line.buckets, &svg)
        svg.raw("</g>")
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
        for segment in drawn {
            // A single bucket has no width: give it one so its extent shows.
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
