import Testing

@testable import NokoCLI

@Suite struct ReportMovingAverageTests {
    @Test func averagesTheTrailingWindow() {
        var average = MovingAverage(window: 3)
        #expect(average.current == nil)
        #expect([1.0, 2, 3, 4, 5].map { average.add($0)! } == [1, 1.5, 2, 3, 4])
    }

    @Test func nonFiniteValuesAreSkipped() {
        var average = MovingAverage(window: 2)
        #expect(average.add(.nan) == nil)
        #expect(average.add(2) == 2)
        #expect(average.add(.infinity) == 2)
        #expect(average.add(4) == 3)
    }

    @Test func noDriftOverMillionsOfValues() {
        var average = MovingAverage(window: 7)
        var last = 0.0
        for i in 0..<2_000_000 { last = average.add(i % 2 == 0 ? 1e8 + 0.1 : 0.3)! }
        let exact = (3 * (1e8 + 0.1) + 4 * 0.3) / 7
        #expect(abs(last - exact) < 1e-6)
    }

    @Test func smoothingBucketsUsesTheirLastValues() {
        let buckets = [1.0, 3, 5].map { SeriesBucket(step: $0, value: $0) } + [SeriesBucket(step: 4, value: .nan)]
        let smoothed = MovingAverage.smooth(buckets, window: 2)
        #expect(smoothed.map(\.smoothed) == [1, 2, 4, nil])
    }
}
