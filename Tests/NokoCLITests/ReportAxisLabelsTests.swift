import Testing

@testable import NokoCLI

@Suite struct ReportAxisLabelsTests {
    @Test func labelsShareThePrecisionOfTheStep() {
        #expect(AxisLabels.linear([0.15, 0.2, 0.25], step: 0.05) == ["0.15", "0.20", "0.25"])
        #expect(AxisLabels.linear([-0.05, 0, 0.05], step: 0.05) == ["-0.05", "0", "0.05"])
        #expect(AxisLabels.linear([0, 5, 10], step: 5) == ["0", "5", "10"])
        #expect(AxisLabels.linear([0.25, 0.5], step: 0.25) == ["0.25", "0.50"])
    }

    @Test func largeValuesUseSuffixes() {
        #expect(AxisLabels.linear([0, 200_000, 1_000_000], step: 200_000) == ["0", "0.2M", "1.0M"])
        #expect(AxisLabels.linear([0, 20_000, 40_000], step: 20_000) == ["0", "20k", "40k"])
        #expect(AxisLabels.linear([0, 5e12], step: 5e12) == ["0", "5e12"])
    }

    @Test func tinyValuesUseExponents() {
        #expect(AxisLabels.linear([1.2e-5, 1.4e-5], step: 2e-6) == ["1.2e-5", "1.4e-5"])
        #expect(AxisLabels.linear([0, 2e-5, 4e-5], step: 2e-5) == ["0", "2e-5", "4e-5"])
    }

    @Test func stepDecimalsAreNegativeForTens() {
        #expect(AxisLabels.stepDecimals(0.05) == 2)
        #expect(AxisLabels.stepDecimals(2.5) == 1)
        #expect(AxisLabels.stepDecimals(1) == 0)
        #expect(AxisLabels.stepDecimals(200_000) == -5)
    }

    @Test func decadesAndValues() {
        #expect([1e-3, 0.1, 1, 100, 1e4, 1e6, 1e13].map(AxisLabels.decade) == ["0.001", "0.1", "1", "100", "10k", "1M", "1e13"])
        #expect(AxisLabels.value(0.123456) == "0.1235")
        #expect(AxisLabels.value(1.5e-7) == "1.5e-7")
        #expect(AxisLabels.value(42) == "42")
        #expect(AxisLabels.value(.nan) == "NaN")
        #expect(AxisLabels.value(-.infinity) == "-Infinity")
    }
}
