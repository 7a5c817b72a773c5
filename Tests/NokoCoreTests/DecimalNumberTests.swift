import Foundation
import NokoTestSupport
import Testing

@testable import NokoCore

@Suite struct DecimalNumberTests {
    func parse(_ text: String) -> Scalar? {
        Array(text.utf8).withUnsafeBytes { raw in
            guard let (value, end) = DecimalNumber.parse(raw, from: 0, to: raw.count), end == raw.count else { return nil }
            return value
        }
    }

    /// The reference, independent of the code under test: an integer that fits Int64, else
    /// the C library's conversion (Swift's `Double(String)` is `strtod`).
    func reference(_ text: String) -> Scalar? {
        if !text.contains(where: { ".eE".contains($0) }), let v = Int64(text) { return .int(v) }
        return Double(text).map(Scalar.double)
    }

    @Test func agreesWithTheJSONParserBitForBit() {
        var rng = SeededRandom()
        var texts = ["0", "-0", "1", "-1", "0.5", "1e5", "1E+5", "1e-5", "2.5e-300", "1.7976931348623157e308", "4.9e-324", "5e-324",
            "9007199254740993", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "12345678901234567890123",
            "0.1", "0.3", "123.456", "1.0", "0.000012345678901234567", "123456789.123456789", "12345678.87654321", "0.00000000", "100000000000000000000000", "0.000000000000000000000000001", "1e400", "-1e400", "1e-400"]
        for _ in 0..<20_000 {
            let d = Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF)
            texts.append("\(d)")
            texts.append("\(Double.random(in: -1000...1000, using: &rng))")
            texts.append(String(format: "%.17g", Double.random(in: 0..<1, using: &rng)))
            texts.append(String(Int64.random(in: .min ... .max, using: &rng)))
            // 17 to 19 significant digits at many magnitudes: the exact-quotient path.
            let scale = [1e-12, 1e-6, 1e-3, 1, 1e3, 1e6, 1e12][Int.random(in: 0..<7, using: &rng)]
            texts.append(String(format: "%.19g", Double.random(in: 0..<1, using: &rng) * scale))
            texts.append(String(format: "%.18f", Double.random(in: 0..<10, using: &rng)))
            texts.append("0." + String(UInt64.random(in: 1_000_000_000_000_000...9_999_999_999_999_999_999, using: &rng)))
        }
        for text in texts {
            let expected = reference(text)
            let actual = parse(text)
            switch (actual, expected) {
            case (.double(let a)?, .double(let b)?): #expect(a.bitPattern == b.bitPattern, "\(text)")
            default: #expect(actual == expected, "\(text)")
            }
        }
    }

    @Test func rejectsWhatJSONRejects() {
        for text in ["", "-", "01", "1.", ".5", "1e", "1e+", "+1", "--1", "0x10"] {
            let parsed = Array(text.utf8).withUnsafeBytes { raw in DecimalNumber.parse(raw, from: 0, to: raw.count) }
            if let (_, end) = parsed {
                #expect(end != text.utf8.count, "\(text) parsed whole")
            }
        }
    }
}
