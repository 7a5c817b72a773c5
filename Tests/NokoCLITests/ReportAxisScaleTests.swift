import Testing

@testable import NokoCLI

@Suite struct ReportAxisScaleTests {
    @Test func linearMapsBothWaysWithYGrowingDown() {
        let y = AxisScale(kind: .linear, low: -1, high: 3, from: 176, to: 10)
        #expect(y.position(-1) == 176)
        #expect(y.position(3) == 10)
        #expect(y.position(1) == 93)
        #expect(abs(y.value(at: 93) - 1) < 1e-12)
    }

    @Test func logSpacesDecadesEvenly() {
        let y = AxisScale(kind: .log, low: 0.001, high: 10, from: 100, to: 0)
        #expect(abs(y.position(0.01) - 75) < 1e-9)
        #expect(abs(y.position(1) - 25) < 1e-9)
        #expect(abs(y.value(at: 50) - 0.1) < 1e-12)
    }

    @Test func hugeDomainsStayFinite() {
        let y = AxisScale(kind: .linear, low: -1.7e308, high: 1.7e308, from: 176, to: 10)
        #expect(y.position(1.7e308).isFinite)
        #expect(abs(y.position(0) - 93) < 1e-9)
        let padded = AxisScale.paddedDomain(kind: .linear, minimum: -1.7e308, maximum: 1.7e308)
        #expect(padded.low.isFinite && padded.high.isFinite)
    }

    @Test func paddingLeavesRoomAndWidensFlatSeries() {
        let padded = AxisScale.paddedDomain(kind: .linear, minimum: 0, maximum: 10)
        #expect(padded.low == -0.5 && padded.high == 10.5)
        let flat = AxisScale.paddedDomain(kind: .linear, minimum: 0.5, maximum: 0.5)
        #expect(abs(flat.low - 0.45) < 1e-12 && abs(flat.high - 0.55) < 1e-12)
        let zero = AxisScale.paddedDomain(kind: .linear, minimum: 0, maximum: 0)
        #expect(zero.low == -1 && zero.high == 1)
        let log = AxisScale.paddedDomain(kind: .log, minimum: 0.001, maximum: 10)
        #expect(log.low < 0.001 && log.high > 10 && log.low > 0)
    }
}
