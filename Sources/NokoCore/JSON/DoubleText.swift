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
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buffer in
            // This runtime's formatter skips writing some "0" digits (leading zeros of
            // small fractions), so the buffer starts out as ASCII "0"s. DoubleTextTests
            // checks the output against `description` for thousands of values.
            buffer.initialize(repeating: 0x30)
            let count = Int(runtimeFloat64ToString(buffer.baseAddress!, 32, value, false))
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[0..<count]))
        }
    }
}
