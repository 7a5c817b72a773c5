import Foundation

/// Element types whose collections summarize to `.mean/.min/.max/.std`.
///
/// Each conformance runs a loop specialized for its own type: the protocol requirement is
/// dispatched once per collection, never once per element.
protocol MomentsSource {
    static func moments(of buffer: UnsafeBufferPointer<Self>) -> Moments
}

extension Double: MomentsSource {
    static func moments(of buffer: UnsafeBufferPointer<Double>) -> Moments { .ofFloatingPoint(buffer) }
}
extension Float: MomentsSource {
    static func moments(of buffer: UnsafeBufferPointer<Float>) -> Moments { .ofFloatingPoint(buffer) }
}
#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
extension Float16: MomentsSource {
    static func moments(of buffer: UnsafeBufferPointer<Float16>) -> Moments { .ofFloatingPoint(buffer) }
}
#endif
extension Int: MomentsSource {
    static func moments(of buffer: UnsafeBufferPointer<Int>) -> Moments { .ofIntegers(buffer) }
}
extension Int8: MomentsSource {
    static func moments(of buffer: UnsafeBufferPointer<Int8>) -> Moments { .ofIntegers(buffer) }
}
extension Int16: MomentsSource {
    static func moments(of buffer: UnsafeBufferPointer<Int16>) -> Moments { .ofIntegers(buffer) }
}
extension Int32: MomentsSource {
    static func moments(of buffer: UnsafeBufferPointer<Int32>) -> Moments { .ofIntegers(buffer) }
}
extension Int64: MomentsSource {
    static func moments(of buffer: UnsafeBufferPointer<Int64>) -> Moments { .ofIntegers(buffer) }
}
extension UInt: MomentsSource {
    static func moments(of buffer: UnsafeBufferPointer<UInt>) -> Moments { .ofIntegers(buffer) }
}
extension UInt8: MomentsSource {
    static func moments(of buffer: UnsafeBufferPointer<UInt8>) -> Moments { .ofIntegers(buffer) }
}
extension UInt16: MomentsSource {
    static func moments(of buffer: UnsafeBufferPointer<UInt16>) -> Moments { .ofIntegers(buffer) }
}
extension UInt32: MomentsSource {
    static func moments(of buffer: UnsafeBufferPointer<UInt32>) -> Moments { .ofIntegers(buffer) }
}
extension UInt64: MomentsSource {
    static func moments(of buffer: UnsafeBufferPointer<UInt64>) -> Moments { .ofIntegers(buffer) }
}

/// Nested collections: each inner collection is reduced in place and the results combined.
extension Array: MomentsSource where Element: MomentsSource {
    static func moments(of buffer: UnsafeBufferPointer<[Element]>) -> Moments {
        var total = Moments.empty
        for inner in buffer { total.combine(inner.nokoMoments()) }
        return total
    }
}
extension ContiguousArray: MomentsSource where Element: MomentsSource {
    static func moments(of buffer: UnsafeBufferPointer<ContiguousArray<Element>>) -> Moments {
        var total = Moments.empty
        for inner in buffer { total.combine(inner.nokoMoments()) }
        return total
    }
}

/// A value that summarizes to the four moment columns.
protocol NumericSummarizable {
    func nokoMoments() -> Moments
}

extension Array: NumericSummarizable where Element: MomentsSource {
    func nokoMoments() -> Moments {
        withUnsafeBufferPointer { Element.moments(of: $0) }
    }
}
extension ContiguousArray: NumericSummarizable where Element: MomentsSource {
    func nokoMoments() -> Moments {
        withUnsafeBufferPointer { Element.moments(of: $0) }
    }
}
extension ArraySlice: NumericSummarizable where Element: MomentsSource {
    func nokoMoments() -> Moments {
        withUnsafeBufferPointer { Element.moments(of: $0) }
    }
}
extension UnsafeBufferPointer: NumericSummarizable where Element: MomentsSource {
    func nokoMoments() -> Moments { Element.moments(of: self) }
}
extension UnsafeMutableBufferPointer: NumericSummarizable where Element: MomentsSource {
    func nokoMoments() -> Moments { Element.moments(of: UnsafeBufferPointer(self)) }
}
extension Set: NumericSummarizable where Element: MomentsSource {
    func nokoMoments() -> Moments {
        Array(self).withUnsafeBufferPointer { Element.moments(of: $0) }
    }
}

extension SIMD where Scalar: MomentsSource {
    func simdMoments() -> Moments {
        withUnsafeTemporaryAllocation(of: Scalar.self, capacity: scalarCount) { buffer in
            for i in 0..<scalarCount { buffer[i] = self[i] }
            return Scalar.moments(of: UnsafeBufferPointer(buffer))
        }
    }
}
extension SIMD2: NumericSummarizable where Scalar: MomentsSource { func nokoMoments() -> Moments { simdMoments() } }
extension SIMD3: NumericSummarizable where Scalar: MomentsSource { func nokoMoments() -> Moments { simdMoments() } }
extension SIMD4: NumericSummarizable where Scalar: MomentsSource { func nokoMoments() -> Moments { simdMoments() } }
extension SIMD8: NumericSummarizable where Scalar: MomentsSource { func nokoMoments() -> Moments { simdMoments() } }
extension SIMD16: NumericSummarizable where Scalar: MomentsSource { func nokoMoments() -> Moments { simdMoments() } }
extension SIMD32: NumericSummarizable where Scalar: MomentsSource { func nokoMoments() -> Moments { simdMoments() } }
extension SIMD64: NumericSummarizable where Scalar: MomentsSource { func nokoMoments() -> Moments { simdMoments() } }

/// SIMD vectors nested in arrays (`[SIMD4<Float>]`) pool all their lanes.
extension SIMD2: MomentsSource where Scalar: MomentsSource { static func moments(of b: UnsafeBufferPointer<Self>) -> Moments { pooled(b) } }
extension SIMD3: MomentsSource where Scalar: MomentsSource { static func moments(of b: UnsafeBufferPointer<Self>) -> Moments { pooled(b) } }
extension SIMD4: MomentsSource where Scalar: MomentsSource { static func moments(of b: UnsafeBufferPointer<Self>) -> Moments { pooled(b) } }
extension SIMD8: MomentsSource where Scalar: MomentsSource { static func moments(of b: UnsafeBufferPointer<Self>) -> Moments { pooled(b) } }
extension SIMD16: MomentsSource where Scalar: MomentsSource { static func moments(of b: UnsafeBufferPointer<Self>) -> Moments { pooled(b) } }

private func pooled<V: SIMD>(_ vectors: UnsafeBufferPointer<V>) -> Moments where V.Scalar: MomentsSource {
    var total = Moments.empty
    for v in vectors { total.combine(v.simdMoments()) }
    return total
}
