import Foundation
import NokoTestSupport
@testable import NokoWandb
import NokoCore
import Testing

@Suite struct WireWriterTests {
    /// Inputs of `extra/number-formatting.jsonl` and what wandb-core printed for them, plus
    /// values seen in the other recordings.
    @Test(arguments: [
        (1e6, "1e+06"), (999999.5, "999999.5"), (123456.0, "123456"), (0.0001, "0.0001"), (1.5e-5, "1.5e-05"),
        (1e20, "1e+20"), (1e21, "1e+21"), (2.0, "2"), (0.1, "0.1"), (12345678.9, "1.23456789e+07"),
        (1795770094.486403, "1.795770094486403e+09"), (1795774591.7270863, "1.7957745917270863e+09"),
        (1.1500000000000001, "1.1500000000000001"), (0.9500000000000001, "0.9500000000000001"), (0.332953612, "0.332953612"), (40.100259198, "40.100259198"),
        (0.0, "0"), (-0.0, "-0"), (-2.5, "-2.5"), (-1e-7, "-1e-07"), (Double.leastNonzeroMagnitude, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"), (100.0, "100"), (1e5, "100000"), (0.00012, "0.00012"),
        (123456.75, "123456.75"), (1e-4, "0.0001"), (9.999e-5, "9.999e-05"),
    ])
    func formatsDoublesLikeGo(value: Double, expected: String) {
        #expect(GoFloatFormat.string(value) == expected)
    }

    @Test func roundTripsRandomDoubles() {
        var generator = SeededRandom()
        for _ in 0..<20_000 {
            let value = Double(bitPattern: generator.next() & 0x7FEF_FFFF_FFFF_FFFF) * (Bool.random(using: &generator) ? 1 : -1)
            let text = GoFloatFormat.string(value)
            #expect(Double(text) == value, "\(text) does not read back as \(value)")
            let exponent = Int((value == 0 ? 0 : log10(abs(value))).rounded(.down))
            if exponent < -5 || exponent > 6 { #expect(text.contains("e"), "\(value) → \(text)") }
            if exponent > -4 && exponent < 5 { #expect(!text.contains("e"), "\(value) → \(text)") }
        }
    }

    @Test func writesNonFiniteValuesAsBareTokens() {
        var writer = WireWriter()
        writer.write(["nan": .double(.nan), "inf": .double(.infinity), "ninf": .double(-.infinity), "s": "NaN", "t": "text"])
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #"{"inf":Infinity,"nan":NaN,"ninf":-Infinity,"s":NaN,"t":"text"}"#)
    }

    @Test func writesTheRecordingsValueKinds() {
        // long-run.jsonl#9: nested dicts stay nested, big ints stay ints, null and bools.
        var writer = WireWriter()
        writer.write(["big": .int(4_611_686_018_427_387_904), "b": true, "none": .null, "nested": ["a": 1, "b": ["c": 2.5]]])
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #"{"b":true,"big":4611686018427387904,"nested":{"a":1,"b":{"c":2.5}},"none":null}"#)
    }

    @Test func escapesStringsForEmbedding() {
        var writer = WireWriter()
        writer.writeString("a\"b\\c\nd\u{1}é")
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #""a\"b\\c\nd\u0001é""#)
        var outer = WireWriter()
        outer.writeEscaped(writer.bytes)
        #expect(String(decoding: outer.bytes, as: UTF8.self) == #""\"a\\\"b\\\\c\\nd\\u0001é\"""#)
    }

    @Test func writesIntegersAtTheExtremes() {
        for value in [Int64.min, -10, -1, 0, 7, 10, 99, Int64.max] {
            var bytes: [UInt8] = []
            JSONWriter.appendInt(value, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == String(value))
        }
    }
}
