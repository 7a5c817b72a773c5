import Foundation
import Testing

@testable import NokoCLI

@Suite struct ReportLineChartSVGTests {
    let x = AxisScale(kind: .linear, low: 0, high: 10, from: ChartLayout.plotLeft, to: ChartLayout.plotRight)
    let y = AxisScale(kind: .linear, low: -1, high: 11, from: ChartLayout.plotBottom, to: ChartLayout.plotTop)

    func svg(_ buckets: [SeriesBucket], smoothed: Bool = false, y: AxisScale? = nil) -> String {
        LineChartSVG(
            label: "loss", x: x, y: y ?? self.y, lines: [ChartLine(run: 0, name: "a<b>&c", style: RunStyle(index: 0), buckets: buckets)],
            smoothed: smoothed
        ).render()
    }

    /// A coordinate as the chart writes it.
    func text(_ value: Double) -> String {
        var svg = SVGText()
        svg.number(value)
        return svg.text
    }

    /// The `d` of the path with class `name`, or nil.
    func path(_ svg: String, _ name: String) -> String? {
        guard let start = svg.range(of: "<path class=\"\(name)\""), let d = svg.range(of: "d=\"", range: start.upperBound..<svg.endIndex),
            let end = svg.range(of: "\"", range: d.upperBound..<svg.endIndex)
        else { return nil }
        return String(svg[d.upperBound..<end.lowerBound])
    }

    @Test func theLineBreaksWhereAValueWasNaNAndAMarkerShowsIt() {
        let buckets = (0...10).map { i in SeriesBucket(step: Double(i), value: i == 5 ? .nan : Double(i)) }
        let chart = svg(buckets)
        let line = path(chart, "line")!
        #expect(line.filter { $0 == "M" }.count == 2, "two segments: \(line)")
        #expect(chart.contains("class=\"mark nan\""))
        #expect(!chart.contains("class=\"mark posinf\""))
        // 0…4 and 6…10 as drawn, nothing at x = 5.
        #expect(!line.contains("\(x.position(5)) "))
    }

    @Test func infinitiesAreMarkedAtTheEdges() {
        let buckets = [SeriesBucket(step: 0, value: 1), SeriesBucket(step: 1, value: .infinity), SeriesBucket(step: 2, value: -.infinity)]
        let chart = svg(buckets)
        #expect(path(chart, "mark posinf")!.hasPrefix("M\(text(x.position(1))) \(text(ChartLayout.plotTop))"))
        #expect(path(chart, "mark neginf")!.hasPrefix("M\(text(x.position(2))) \(text(ChartLayout.plotBottom))"))
    }

    @Test func aBandIsDrawnOnlyWhereBucketsHoldSeveralValues() {
        let flat = (0...10).map { SeriesBucket(step: Double($0), value: Double($0)) }
        #expect(path(svg(flat), "band") == nil)
        var wide = flat
        wide[3] = SeriesBucket(step: 3, low: 0, high: 10, last: 3)
        let band = path(svg(wide), "band")!
        #expect(band.hasPrefix("M") && band.hasSuffix("Z"))
        // The band reaches 0 and 10.
        #expect(band.contains(" \(text(y.position(0)))") && band.contains(" \(text(y.position(10)))"))
    }

    @Test func fewPointsGetDotsAndIsolatedPointsAreNotLost() {
        let few = (0...5).map { SeriesBucket(step: Double($0), value: 1) }
        #expect(path(svg(few), "dot") != nil)
        let many = (0..<100).map { i -> SeriesBucket in
            let value: Double = i == 50 || i == 52 ? .nan : i == 51 ? 3 : 1
            return SeriesBucket(step: Double(i) / 10, value: value)
        }
        // Point 51 sits alone between two NaNs: it is drawn as a dot.
        let dots = path(svg(many), "dot")!
        #expect(dots.filter { $0 == "M" }.count == 1)
    }

    @Test func smoothedChartsDrawTheRawLineFaintly() {
        let buckets = (0...10).map { i -> SeriesBucket in
            var bucket = SeriesBucket(step: Double(i), value: Double(i % 3))
            bucket.smoothed = 1
            return bucket
        }
        let chart = svg(buckets, smoothed: true)
        #expect(path(chart, "line raw") != nil)
        #expect(path(chart, "smooth") != nil)
    }

    @Test func theLogChartLeavesOutWhatItCannotShowAndTextIsEscaped() {
        let log = AxisScale(kind: .log, low: 0.001, high: 100, from: ChartLayout.plotBottom, to: ChartLayout.plotTop)
        let chart = svg([SeriesBucket(step: 0, value: 0), SeriesBucket(step: 1, value: 0.01), SeriesBucket(step: 2, value: 10)], y: log)
        #expect(chart.contains("data-scale=\"log\""))
        #expect(chart.contains("data-name=\"a&lt;b&gt;&amp;c\""))
        #expect(!chart.contains("nan") && !chart.contains("inf\""))
        #expect(chart.contains(">0.01<") && chart.contains(">10<"))
    }
}
