import NokoCore
import Testing

@testable import NokoCLI

@Suite struct ReportSummarySeriesReaderTests {
    func table(min: [Double?], max: [Double?], last: [Double?], nanCount: Int = 0, width: Int = 4) -> TableStatistics {
        let column = ColumnStatistics(
            name: "x", type: "double", count: 4 * min.count, nullCount: 0, nanCount: nanCount, last: .double(1),
            min: min.compactMap { $0 }.min(), max: max.compactMap { $0 }.max(),
            series: BucketSeries(min: min, max: max, last: last))
        let text = ColumnStatistics(
            name: "s", type: "string", count: 1, nullCount: 0, nanCount: 0, last: .string("a"), min: nil, max: nil, series: nil)
        return TableStatistics(
            name: "t", fileStem: "t", rows: width * min.count, firstStep: 0, lastStep: width * min.count - 1, firstTime: 0,
            lastTime: 1, seriesWidth: width, seriesSteps: min.indices.map { width * $0 + width - 1 }, columns: [column, text])
    }

    @Test func bucketsCarryTheEnvelopeAndMarks() {
        let series = SummarySeriesReader.series(
            of: table(min: [1, -.infinity, nil, nil], max: [3, 2, nil, .infinity], last: [2, 0, .nan, .infinity], nanCount: 1),
            path: "summary.json", smoothing: nil, warn: { Issue.record("unexpected warning \($0)") })
        let x = series.columns["x"]!
        #expect(series.columns["s"] == nil)
        #expect(series.rowsPerBucket == 4)
        #expect(x.buckets[0] == SeriesBucket(step: 3, low: 1, high: 3, last: 2))
        // −∞ in a bucket hides its finite envelope: a marker and a gap, never a number.
        #expect(x.buckets[1] == SeriesBucket(step: 7, low: nil, high: nil, last: 0, marks: .negativeInfinity))
        #expect(x.buckets[2] == SeriesBucket(step: 11, low: nil, high: nil, last: nil, marks: .nan))
        #expect(x.buckets[3].marks == .positiveInfinity && x.buckets[3].last == nil)
        #expect(x.minimum == 1 && x.maximum == 3)
        #expect(x.marks == [.nan, .positiveInfinity, .negativeInfinity])
        #expect(!series.hasUnplacedNaN)
    }

    @Test func nanHiddenInsideABucketIsReportedAsUnplaced() {
        let series = SummarySeriesReader.series(
            of: table(min: [1, 2], max: [3, 4], last: [2, 3], nanCount: 2), path: "summary.json", smoothing: nil, warn: { _ in })
        #expect(series.hasUnplacedNaN)
        #expect(series.columns["x"]!.marks == .nan)
    }

    @Test func smoothingWindowIsInRowsNotBuckets() {
        let series = SummarySeriesReader.series(
            of: table(min: [0, 0, 0, 0], max: [8, 8, 8, 8], last: [1, 3, 5, 7]), path: "summary.json", smoothing: 8,
            warn: { _ in })
        // 8 rows at 4 rows per bucket: two buckets.
        #expect(series.columns["x"]!.buckets.map(\.smoothed) == [1, 2, 4, 6])
    }

    @Test func mismatchedSeriesLengthsAreAWarningNamingTheColumn() {
        var bad = table(min: [1, 2], max: [3, 4], last: [2, 3])
        let x = bad.columns.firstIndex { $0.name == "x" }!
        bad.columns[x].series?.max = [3]
        var warnings: [String] = []
        let series = SummarySeriesReader.series(of: bad, path: "/r/summary.json", smoothing: nil, warn: { warnings.append($0) })
        #expect(series.columns.isEmpty)
        #expect(warnings == ["/r/summary.json: table \"t\", column \"x\": series of 2/1/2 min/max/last values for 2 series_step entries; not charted"])
    }
}
