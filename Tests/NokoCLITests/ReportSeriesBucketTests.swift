import Testing

@testable import NokoCLI

@Suite struct ReportSeriesBucketTests {
    @Test func nonFiniteValuesBecomeMarksNotNumbers() {
        let nan = SeriesBucket(step: 3, value: .nan)
        #expect(nan.low == nil && nan.last == nil && nan.marks == .nan && nan.hasNumber)
        #expect(SeriesBucket(step: 3, value: .infinity).marks == .positiveInfinity)
        #expect(SeriesBucket(step: 3, value: -.infinity).marks == .negativeInfinity)
        #expect(!SeriesBucket(step: 3, low: nil, high: nil, last: nil).hasNumber)
    }

    @Test func absorbingKeepsTheEnvelopeAndTheLaterLastValue() {
        var bucket = SeriesBucket(step: 1, value: 5)
        bucket.absorb(SeriesBucket(step: 2, value: -3))
        bucket.absorb(SeriesBucket(step: 3, value: 9))
        bucket.absorb(SeriesBucket(step: 4, value: 1))
        #expect(bucket == SeriesBucket(step: 4, low: -3, high: 9, last: 1))
    }

    @Test func aBucketEndingInNaNHasNoLastValue() {
        var bucket = SeriesBucket(step: 1, value: 5)
        bucket.absorb(SeriesBucket(step: 2, value: .nan))
        #expect(bucket.last == nil && bucket.low == 5 && bucket.marks == .nan && bucket.step == 2)
        bucket.absorb(SeriesBucket(step: 3, value: 7))
        #expect(bucket.last == 7 && bucket.high == 7 && bucket.marks == .nan)
    }

    @Test func emptyBucketsChangeNothing() {
        var bucket = SeriesBucket(step: 1, value: 5)
        bucket.absorb(SeriesBucket(step: 9, low: nil, high: nil, last: nil))
        #expect(bucket == SeriesBucket(step: 1, value: 5))
        var empty = SeriesBucket(step: 0, low: nil, high: nil, last: nil)
        empty.absorb(SeriesBucket(step: 4, value: 2))
        #expect(empty == SeriesBucket(step: 4, value: 2))
    }
}
