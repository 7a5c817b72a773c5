import Testing

@testable import NokoCLI

@Suite struct ReportAxisTicksTests {
    @Test func linearTicksAreRoundNumbersInsideTheRange() {
        #expect(AxisTicks.linear(0.1244, 0.3635).values == [0.15, 0.2, 0.25, 0.3, 0.35])
        #expect(AxisTicks.linear(0, 19, wholeNumbers: true).values == [0, 5, 10, 15])
        #expect(AxisTicks.linear(-0.0872, 0.1308).values == [-0.05, 0, 0.05, 0.1])
        #expect(AxisTicks.linear(0, 1_000_000).values == [0, 250_000, 500_000, 750_000, 1_000_000])
    }

    @Test func ticksAreComputedNotAccumulated() {
        // 0.1 + 0.1 + 0.1 is 0.30000000000000004; a tick must be the double nearest 0.3.
        let ticks = AxisTicks.linear(0, 0.5)
        #expect(ticks.values.contains(0.3))
        #expect(ticks.values.first == 0)
        let tiny = AxisTicks.linear(1.2e-7, 1.9e-7)
        #expect(tiny.values.allSatisfy { $0 >= 1.2e-7 && $0 <= 1.9e-7 })
        #expect(tiny.values.count >= 3)
    }

    @Test func wholeNumberTicksNeverFallBetweenSteps() {
        let ticks = AxisTicks.linear(0, 3, wholeNumbers: true)
        #expect(ticks.values == [0, 1, 2, 3])
        #expect(AxisTicks.linear(0, 9, target: 5, wholeNumbers: true).values.allSatisfy { $0 == $0.rounded() })
    }

    @Test func tickCountStaysNearTheTarget() {
        for (low, high) in [(0.0, 1.0), (-3.7, 12.2), (1e-9, 3e-9), (5.0, 5.0001), (-1e300, 1e300), (0.12, 0.36)] {
            let count = AxisTicks.linear(low, high).values.count
            #expect((2...8).contains(count), "\(low)…\(high) gave \(count) ticks")
        }
    }

    @Test func decadesThinOutOverManyOrders() {
        #expect(AxisTicks.decades(0.001, 10.5).values == [0.001, 0.01, 0.1, 1, 10])
        let wide = AxisTicks.decades(1e-12, 1e12)
        #expect(wide.values.count <= 7)
        #expect(wide.values.contains(1))
        #expect(wide.step > 1)
    }
}
