import Foundation
import NokoTestSupport
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

@Suite struct IntegerTextTests {
    @Test func matchesStringForManyValues() {
        var rng = SeededRandom()
        var values: [Int64] = [.min, .min + 1, .max, -10, -9, -1, 0, 1, 9, 10, 99, 100]
        values += (0..<3000).map { _ in Int64(bitPattern: rng.next()) >> Int64.random(in: 0..<63, using: &rng) }
        var bytes: [UInt8] = Array("x".utf8)
        var expected = "x"
        for value in values {
            JSONWriter.appendInt(value, to: &bytes)
            expected += String(value) + ","
            bytes.append(UInt8(ascii: ","))
        }
        #expect(String(decoding: bytes, as: UTF8.self) == expected, "appends after what is already there")
    }
}

@Suite struct DoubleTextTests {
    @Test func matchesDescriptionForManyValues() {
        var rng = SeededRandom()
        var values: [Double] = [0, -0.0, 1, 0.1, 1e-5, 1e16, 123456789012345680, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -2.5]
        values += (0..<5000).map { _ in Double(bitPattern: rng.next()) }.filter(\.isFinite)
        // Whole numbers take a shortcut; its edges are 2^53 and the sign of zero.
        let twoTo53 = 9_007_199_254_740_992.0
        values += [twoTo53, -twoTo53, twoTo53.nextUp, twoTo53 + 2, -twoTo53 - 2, 4_503_599_627_370_497, 1e15, 999_999, -7, 42, 1e22]
        values += (0..<2000).map { _ in Double(Int64.random(in: -(1 << 54)...(1 << 54), using: &rng)) }
        values += (0..<500).map { Double($0) - 250 }
        for v in values {
            var bytes: [UInt8] = []
            DoubleText.append(v, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == v.description)
        }
    }
}

/// The journal and the CSV files format rows through `RowText`; every value must come out
/// byte for byte as `JSONWriter` and `CSVFormat` write it.
@Suite struct RowTextTests {
    static func corpus() -> [Scalar] {
        var rng = SeededRandom()
        var values: [Scalar] = [.null, .bool(true), .bool(false), .int(.min), .int(.max), .int(0), .int(-1), .int(9), .int(10), .int(-10)]
        values += (0..<2000).map { _ in .int(Int64(bitPattern: rng.next()) >> Int64.random(in: 0..<63, using: &rng)) }
        var doubles: [Double] = [0, -0.0, 1, -1, 0.1, 1e-5, 1e16, 1e22, .nan, .infinity, -.infinity, .leastNonzeroMagnitude,
                                 -.leastNormalMagnitude, .greatestFiniteMagnitude, -2.5, 9_007_199_254_740_992, -9_007_199_254_740_994]
        doubles += (0..<3000).map { _ in Double(bitPattern: rng.next()) }
        doubles += (0..<1000).map { _ in Double(Int64.random(in: -(1 << 54)...(1 << 54), using: &rng)) }
        doubles += (0..<300).map { Double($0) - 150 }
        values += doubles.map(Scalar.double)
        let strings = ["", "plain", "train", "quote\" backslash\\", "new\nline", "cr\r", "tab\t", "nul\u{0}", "bell\u{7}\u{1f}",
                       "é 🎉 \u{2028}", " padded ", "1.5", "nan", "True", "-3", "a,b", "x".padding(toLength: 300, withPad: "yz\"", startingAt: 0)]
        values += strings.map(Scalar.string)
        return values
    }

    @Test func jsonMatchesJSONWriter() {
        var text = RowText(capacity: 1)
        var writer = JSONWriter()
        for value in RowTextTests.corpus() {
            text.appendJSON(value)
            text.append(UInt8(ascii: ","))
            writer.write(value)
            writer.append(UInt8(ascii: ","))
        }
        #expect(text.array == writer.bytes)
    }

    @Test func csvMatchesCSVFormat() {
        var text = RowText(capacity: 1)
        var bytes: [UInt8] = []
        for value in RowTextTests.corpus() {
            text.appendCSV(value)
            text.append(UInt8(ascii: ","))
            CSVFormat.append(value, to: &bytes)
            bytes.append(UInt8(ascii: ","))
        }
        #expect(text.array == bytes)
    }

    /// A journal line is the row's keys and values as `JSONWriter` writes them.
    @Test func journalLineMatchesJSONWriter() {
        let values = RowTextTests.corpus()
        let keys = values.indices.map { i in i % 7 == 0 ? "k\"\\\n\(i)" : i % 5 == 0 ? "ключ/\(i)" : "key_\(i)" }
        let row = SummarizedRow(
            table: "t\"able", step: 12, level: .info, time: RowTime(utcTimestamp: 1_780_000_000.125, localTime: "2026-11-27T10:00:00"),
            schema: RowSchema(keys: keys), values: values)
        var writer = JSONWriter()
        writer.appendRaw(Array("{\"$table\":".utf8))
        writer.writeString(row.table)
        writer.appendRaw(Array(",\"$step\":12,\"$level\":20,\"$localtime\":".utf8))
        writer.writeString(row.time.localTime)
        writer.appendRaw(Array(",\"$utc_timestamp\":".utf8))
        writer.writeDouble(row.time.utcTimestamp)
        for (key, value) in row.pairs {
            writer.append(UInt8(ascii: ","))
            writer.writeString(key)
            writer.append(UInt8(ascii: ":"))
            writer.write(value)
        }
        writer.appendRaw(Array("}\n".utf8))
        #expect(NDJSONOutput.line(of: row) == writer.bytes)
    }
}
