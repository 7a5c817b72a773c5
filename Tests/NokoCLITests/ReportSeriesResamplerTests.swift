import Foundation
import Testing

@testable import NokoCLI

@Suite struct ReportSeriesResamplerTests {
    @Test func manyBucketsShrinkToTheSlicesAndKeepTheExtremes() {
        let buckets = (0..<10_000).map { i -> SeriesBucket in
            let value: Double = i == 4321 ? 1e6 : i == 777 ? -5 : sin(Double(i))
            return SeriesBucket(step: Double(i), value: value)
        }
        let x = AxisScale(kind: .linear, low: 0, high: 9999, from: 58, to: 330)
        let resampled = SeriesResampler.resample(buckets, x: x, slices: 272)
        #expect(resampled.count == 272)
        #expect(resampled.compactMap(\.high).max() == 1e6)
        #expect(resampled.compactMap(\.low).min() == -5)
        #expect(resampled.map(\.step) == resampled.map(\.step).sorted())
        #expect(resampled.last?.last == sin(9999))
    }

    @Test func stepsGoingBackwardsLandInTheirSlice() {
        let buckets = [0.0, 10, 5, 20].map { SeriesBucket(step: $0, value: $0) }
        let x = AxisScale(kind: .linear, low: 0, high: 20, from: 0, to: 4)
        let resampled = SeriesResampler.resample(buckets, x: x, slices: 4)
        #expect(resampled.map(\.step) == [0, 5, 10, 20])
    }

    @Test func bucketsWithoutNumbersAreDropped() {
        let buckets = [SeriesBucket(step: 0, value: 1), SeriesBucket(step: 5, low: nil, high: nil, last: nil), SeriesBucket(step: 10, value: 2)]
        let x = AxisScale(kind: .linear, low: 0, high: 10, from: 0, to: 100)
        #expect(SeriesResampler.resample(buckets, x: x, slices: 100).map(\.step) == [0, 10])
    }
}
