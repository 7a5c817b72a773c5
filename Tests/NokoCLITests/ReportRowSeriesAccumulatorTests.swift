import Testing

@testable import NokoCLI

@Suite struct ReportRowSeriesAccumulatorTests {
    @Test func bucketsMergePairwiseAndKeepExactStatistics() {
        var accumulator = RowSeriesAccumulator(maxBuckets: 16, smoothing: nil)
        for i in 0..<1000 {
            let value: Double = i == 500 ? .nan : i == 600 ? .infinity : i == 123 ? -42 : Double(i % 7)
            accumulator.addRow(step: Double(i), values: [(key: "x", value: value)])
        }
        let table = accumulator.table
        let x = table.columns["x"]!
        #expect(table.rows == 1000)
        #expect(table.rowsPerBucket == 64)
        #expect(x.buckets.count == 16)
        #expect(x.minimum == -42 && x.maximum == 6)
        #expect(x.buckets.compactMap(\.low).min() == -42)
        #expect(x.nanCount == 1)
        #expect(x.marks == [.nan, .positiveInfinity])
        // The NaN and the infinity are placed in their buckets, and the finite envelope of
        // those buckets is kept apart from them.
        #expect(x.buckets[500 / 64].marks == .nan && x.buckets[500 / 64].low == 0)
        #expect(x.buckets[600 / 64].marks == .positiveInfinity && x.buckets[600 / 64].high == 6)
        #expect(x.buckets.last?.step == 999)
    }

    @Test func columnsThatAppearLateStayAligned() {
        var accumulator = RowSeriesAccumulator(maxBuckets: 4, smoothing: nil)
        for i in 0..<8 {
            var values = [(key: "a", value: Double(i))]
            if i >= 6 { values.append((key: "late", value: Double(i * 10))) }
            accumulator.addRow(step: Double(i), values: values)
        }
        let late = accumulator.table.columns["late"]!
        #expect(accumulator.table.rowsPerBucket == 2)
        #expect(late.buckets.count == 4)
        #expect(late.buckets.map(\.hasNumber) == [false, false, false, true])
        #expect(late.buckets[3] == SeriesBucket(step: 7, low: 60, high: 70, last: 70))
    }

    @Test func smoothingIsOverExactlyNRows() {
        var accumulator = RowSeriesAccumulator(maxBuckets: 2, smoothing: 4)
        for i in 0..<8 { accumulator.addRow(step: Double(i), values: [(key: "x", value: Double(i))]) }
        let x = accumulator.table.columns["x"]!
        // Rows 0…7 in two buckets of four: the average of rows 0…3, then of rows 4…7.
        #expect(x.buckets.map(\.smoothed) == [1.5, 5.5])
    }
}
