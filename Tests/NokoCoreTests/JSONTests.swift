import Foundation
import Testing

@testable import NokoCore

@Suite struct JSONTests {
    @Test func canonicalSerializationSortsKeys() throws {
        let value: JSONValue = ["b": [1, 2.5, "x", nil, true], "a": ["z": 1, "y": .double(.nan)]]
        #expect(value.serialized() == #"{"a":{"y":"NaN","z":1},"b":[1,2.5,"x",null,true]}"#)
        #expect(try JSONValue(parsing: value.serialized(pretty: true)) == (try JSONValue(parsing: value.serialized())))
    }

    @Test func stringsEscapeAndRoundTrip() throws {
        let tricky = "quote\" backslash\\ newline\n tab\t nul\u{0} bell\u{7} é 🎉 \u{2028}"
        let text = JSONValue.string(tricky).serialized()
        #expect(!text.contains("\n"))
        #expect(try JSONValue(parsing: text) == .string(tricky))
        let foundation = try JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed) as? String
        #expect(foundation == tricky)
    }

    @Test func numbersRoundTripExactly() throws {
        for v in [0.1, 1e-300, -2.5e300, 123456789.123, 1.0, -0.0, Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude] {
            let text = JSONValue.double(v).serialized()
            #expect(try JSONValue(parsing: text).doubleValue == v, "\(v)")
        }
        #expect(try JSONValue(parsing: "9223372036854775807") == .int(Int64.max))
        #expect(try JSONValue(parsing: "-9223372036854775808") == .int(Int64.min))
        #expect(try JSONValue(parsing: "9223372036854775808") == .double(9223372036854775808.0))
    }

    @Test func nonFiniteValuesAreStrictJSONStrings() throws {
        var w = JSONWriter()
        w.write(Scalar.double(.infinity))
        #expect(w.string == #""Infinity""#)
        #expect(JSONValue.string("-Infinity").scalar == .double(-.infinity))
        #expect(JSONValue.string("NaN").scalar?.doubleValue?.isNaN == true)
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\":1,}", "NaN", "01", "1.", "\"\\x\"", "tru", "{\"a\" 1}", "\"\u{1}\"", "[1] x", "\"\\ud800\""])
    func malformedDocumentsAreRejected(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: text) }
    }

    @Test func hostileNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: deep) }
    }

    @Test func surrogatePairs() throws {
        #expect(try JSONValue(parsing: #""\ud83c\udf89""#) == .string("🎉"))
    }
}

@Suite struct DoubleTextTests {
    @Test func matchesDescriptionForManyValues() {
        var rng = SystemRandomNumberGenerator()
        var values: [Double] = [0, -0.0, 1, 0.1, 1e-5, 1e16, 123456789012345680, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -2.5]
        values += (0..<5000).map { _ in Double(bitPattern: rng.next()) }.filter(\.isFinite)
        for v in values {
            var bytes: [UInt8] = []
            DoubleText.append(v, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == v.description)
        }
    }
}
