import Testing

@testable import NokoCLI

@Suite struct ReportChartFigureTests {
    func column(_ values: [Double]) -> ColumnSeries {
        let finite = values.filter(\.isFinite)
        return ColumnSeries(
            buckets: values.enumerated().map { SeriesBucket(step: Double($0), value: $1) }, minimum: finite.min(), maximum: finite.max(),
            nanCount: values.filter(\.isNaN).count, marks: values.reduce(into: NonFiniteMarks()) { $0.formUnion(NonFiniteMarks(of: $1)) })
    }

    @Test func aLogVersionComesWithThreeOrdersOfMagnitude() {
        let decaying = ChartFigure(
            table: "t", key: "loss", columns: [.init(run: 0, name: "a", series: column([10, 1, 0.1, 0.01]))], smoothed: false)
        #expect(decaying.logSVG != nil)
        let narrow = ChartFigure(
            table: "t", key: "acc", columns: [.init(run: 0, name: "a", series: column([0.5, 0.9]))], smoothed: false)
        #expect(narrow.logSVG == nil)
        let signed = ChartFigure(
            table: "t", key: "x", columns: [.init(run: 0, name: "a", series: column([-10, 0.001, 1000]))], smoothed: false)
        #expect(signed.logSVG == nil)
        #expect(LogScaleRule.offersLog(minimum: 0.001, maximum: 1))
        #expect(!LogScaleRule.offersLog(minimum: 0.0011, maximum: 1))
        #expect(!LogScaleRule.offersLog(minimum: 0, maximum: 1))
    }

    @Test func runsOverlayOnSharedAxesAndNotesNameTheirRun() {
        let figure = ChartFigure(
            table: "train", key: "opt/lr",
            columns: [
                .init(run: 0, name: "a", series: column([1, .nan, 3])), .init(run: 2, name: "c", series: column([5, .infinity, 2])),
            ], smoothed: false)
        #expect(figure.runs == [0, 2])
        #expect(figure.minimum == 1 && figure.maximum == 5)
        #expect(figure.notes == ["a: NaN ×1", "c: +∞"])
        #expect(figure.linearSVG.contains("class=\"run r0\"") && figure.linearSVG.contains("class=\"run r2\""))
        #expect(figure.linearSVG.contains("color=\"#009E73\""))
        // The y axis is titled with the key's last part.
        #expect(figure.linearSVG.contains(">lr</text>"))
    }

    @Test func aColumnWithoutFiniteValuesStillGetsAChart() {
        let figure = ChartFigure(table: "t", key: "x", columns: [.init(run: 0, name: "a", series: column([.nan, .nan]))], smoothed: false)
        #expect(figure.minimum == nil)
        #expect(figure.linearSVG.contains("class=\"mark nan\""))
        #expect(figure.notes == ["NaN ×2"])
    }

    @Test func aSingleStepGetsAnAxisAroundIt() {
        let figure = ChartFigure(table: "t", key: "x", columns: [.init(run: 0, name: "a", series: column([4]))], smoothed: false)
        #expect(figure.linearSVG.contains("data-x0=\"-1.0\" data-x1=\"1.0\""))
        #expect(figure.linearSVG.contains("class=\"dot\""))
    }
}
