/// Shortest round-trip text of a double, written straight into a byte buffer.
///
/// `Double.description` produces exactly this text but allocates a `String` for anything
/// longer than 15 bytes, which is most measured values; the journal formats millions of
/// them. This calls the runtime entry point `description` itself uses (it is ABI-stable:
/// inlinable standard-library code references it from client binaries).
@_silgen_name("swift_float64ToString")
private func runtimeFloat64ToString(
    _ buffer: UnsafeMutablePointer<UInt8>, _ length: UInt, _ value: Float64, _ debug: Bool
) -> UInt64

enum DoubleText {
    /// Appends the text of a finite `value` (what `value.description` returns).
    @inline(__always)
    static func append(_ value: Double, to bytes: inout [UInt8]) {
        // Whole numbers up to 2^53 print as their digits and ".0"; counts, epochs and ids
        // stored as Double are common, and integer digits are several times cheaper.
        if value.magnitude <= 9_007_199_254_740_992, value == value.rounded(.towardZero) {
            if value == 0 {
                bytes.append(contentsOf: value.sign == .minus ? negativeZero : positiveZero)
            } else {
                JSONWriter.appendInt(Int64(value), to: &bytes)
                bytes.append(contentsOf: pointZero)
            }
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buffer in
            // This runtime's formatter skips writing some "0" digits (leading zeros of
            // small fractions), so the buffer starts out as ASCII "0"s. DoubleTextTests
            // checks the output against `description` for thousands of values.
            buffer.initialize(repeating: 0x30)
            let count = Int(runtimeFloat64ToString(buffer.baseAddress!, 32, value, false))
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[0..<count]))
        }
    }

    /// Writes the runtime's text of a finite, non-integral `value` into `buffer` (32 bytes,
    /// pre-filled with ASCII "0"s as ``append(_:to:)`` explains); returns its length.
    @inline(__always)
    static func format(_ value: Double, into buffer: UnsafeMutablePointer<UInt8>) -> Int {
        Int(runtimeFloat64ToString(buffer, 32, value, false))
    }

    private static let pointZero: [UInt8] = Array(".0".utf8)
    private static let positiveZero: [UInt8] = Array("0.0".utf8)
    private static let negativeZero: [UInt8] = Array("-0.0".utf8)
}
