import Testing

@testable import NokoCLI

@Suite struct ReportMovingAverageTests {
    @Test func averagesTheTrailingWindow() {
        var average = MovingAverage(window: 3)
        #expect([1.0, 2, 3, 4, 5].enumerated().map { average.add($1, at: $0)! } == [1, 1.5, 2, 3, 4])
    }

    @Test func nonFiniteValuesAreSkipped() {
        var average = MovingAverage(window: 2)
        #expect(average.add(.nan, at: 0) == nil)
        #expect(average.add(2, at: 1) == 2)
        #expect(average.add(.infinity, at: 2) == 2)
        // Positions 2 and 3: the 2 at position 1 has left the window.
        #expect(average.add(4, at: 3) == 4)
    }

    @Test func theWindowCountsPositionsNotValues() {
        // A value every tenth row, a window of 25 rows: about three values at a time.
        var average = MovingAverage(window: 25)
        var last: Double?
        for row in stride(from: 0, through: 100, by: 10) { last = average.add(Double(row), at: row) }
        #expect(last == 90)  // rows 80, 90, 100
        #expect(average.average(at: 200) == nil)
    }

    @Test func noDriftOverMillionsOfValues() {
        var average = MovingAverage(window: 7)
        var last = 0.0
        for i in 0..<2_000_000 { last = average.add(i % 2 == 0 ? 1e8 + 0.1 : 0.3, at: i)! }
        let exact = (3 * (1e8 + 0.1) + 4 * 0.3) / 7
        #expect(abs(last - exact) < 1e-6)
    }

    @Test func smoothingBucketsUsesTheirLastValues() {
        let buckets = [1.0, 3, 5].map { SeriesBucket(step: $0, value: $0) } + [SeriesBucket(step: 4, value: .nan)]
        let smoothed = MovingAverage.smooth(buckets, window: 2)
        #expect(smoothed.map(\.smoothed) == [1, 2, 4, nil])
    }
}
