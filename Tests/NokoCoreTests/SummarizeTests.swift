import Foundation
import NokoTestSupport
import Testing

@testable import NokoCore

private func summarize(_ row: Any, registry: SummarizerRegistry = SummarizerRegistry()) -> ValueColumns {
    var summary = ValueColumns(registry: registry.snapshot)
    summary.summarizeRow(row)
    return summary
}

private func pairs(_ s: ValueColumns) -> [String: Scalar] {
    Dictionary(zip(s.keys, s.values).map { ($0, $1) }, uniquingKeysWith: { a, _ in a })
}

private struct Point { var x: Double; var y: Float }
private struct Model { var name: String; var point: Point; var weights: [Float]; var step: Int }
private final class Node {
    var value = 1
    var next: Node?
}
private enum Phase { case train, eval }
private enum Event { case loss(Double), none }
private struct Celsius { var degrees: Double }
private struct Particle: NokoSummarizable {
    var energy: Double
    func summarize(prefix: String, into summary: inout ValueColumns) {
        summary.add(prefix.nokoJoined("energy_kj"), .double(energy / 1000))
    }
}

@Suite struct SummarizeTests {
    @Test func everyNumericScalarTypeIsKept() {
        let row: [String: Any] = [
            "d": 1.5, "f": Float(0.1), "i": 3, "i8": Int8(-8), "i16": Int16(16), "i32": Int32(-32), "i64": Int64.max,
            "u": UInt(7), "u8": UInt8(8), "u16": UInt16(16), "u32": UInt32(32), "u64": UInt64(64), "huge": UInt64.max,
            "h": Float16(0.5), "b": true, "s": "text", "sub": "abc".dropFirst(), "c": Character("x"),
        ]
        let p = pairs(summarize(row))
        #expect(p["d"] == .double(1.5))
        #expect(p["f"] == .double(0.1), "a Float logs with its own shortest text, not 0.10000000149011612")
        #expect(p["i"] == .int(3))
        #expect(p["i8"] == .int(-8))
        #expect(p["i16"] == .int(16))
        #expect(p["i32"] == .int(-32))
        #expect(p["i64"] == .int(Int64.max))
        #expect(p["u"] == .int(7))
        #expect(p["u8"] == .int(8))
        #expect(p["u16"] == .int(16))
        #expect(p["u32"] == .int(32))
        #expect(p["u64"] == .int(64))
        #expect(p["huge"] == .double(Double(UInt64.max)), "an unsigned value beyond Int64 widens to Double")
        #expect(p["h"] == .double(0.5))
        #expect(p["b"] == .bool(true))
        #expect(p["s"] == .string("text"))
        #expect(p["sub"] == .string("bc"))
        #expect(p["c"] == .string("x"))
        #expect(p.count == row.count, "nothing numeric is dropped")
    }

    @Test func dictionaryRowsWithTheSameKeysGiveTheSameKeyOrder() {
        // The logger's schema cache relies on it within a process.
        let a = summarize(["b": 1, "a": 2, "c": 3, "d": 4.5]).keys
        let b = summarize(["b": 7, "a": 8, "c": 9, "d": 0.5]).keys
        #expect(a == b)
        #expect(Set(a) == ["a", "b", "c", "d"])
    }

    @Test func keyValuePairsKeepTheirOrder() {
        let row: KeyValuePairs<String, Any> = ["z": 1, "a": 2]
        #expect(summarize(row).keys == ["z", "a"])
    }

    @Test func nestedDictionariesAndStructsJoinWithSlash() {
        let model = Model(name: "m", point: Point(x: 1, y: 2), weights: [1, 2, 3], step: 4)
        let s = summarize(["opt": ["lr": 0.1, "betas": ["b1": 0.9]], "model": model])
        let p = pairs(s)
        #expect(p["opt/lr"] == .double(0.1))
        #expect(p["opt/betas/b1"] == .double(0.9))
        #expect(p["model/name"] == .string("m"))
        #expect(p["model/point/x"] == .double(1))
        #expect(p["model/point/y"] == .double(2))
        #expect(p["model/weights.mean"] == .double(2))
        #expect(p["model/step"] == .int(4))
    }

    @Test func aStructRowContributesItsFieldsAsTopLevelKeysInOrder() {
        let s = summarize(Point(x: 3, y: 4))
        #expect(s.keys == ["x", "y"])
    }

    @Test func selfKeyIsReplacedByTheTypeName() {
        let p = pairs(summarize(["self": Point(x: 1, y: 2), "loss": 0.5]))
        #expect(p["Point/x"] == .double(1))
        #expect(p["loss"] == .double(0.5))
    }

    @Test func numericArraysOfEveryElementTypeGiveFourColumns() {
        let values: [String: Any] = [
            "d": [1.0, 2.0, 3.0, 4.0], "f": [Float(1), 2, 3, 4], "i": [1, 2, 3, 4], "i8": [Int8(1), 2, 3, 4],
            "u16": [UInt16(1), 2, 3, 4], "i64": [Int64(1), 2, 3, 4], "h": [Float16(1), 2, 3, 4],
            "ca": ContiguousArray([1.0, 2.0, 3.0, 4.0]), "slice": [0.0, 1.0, 2.0, 3.0, 4.0][1...],
            "nested": [[1.0, 2.0], [3.0, 4.0]], "simd": SIMD4<Float>(1, 2, 3, 4),
            "set": Set([1.0, 2.0, 3.0, 4.0]), "vectors": [SIMD2<Double>(1, 2), SIMD2<Double>(3, 4)],
        ]
        let p = pairs(summarize(values))
        let expectedStd = (1.25).squareRoot()
        for key in values.keys {
            #expect(p["\(key).mean"] == .double(2.5), "\(key).mean")
            #expect(p["\(key).min"] == .double(1), "\(key).min")
            #expect(p["\(key).max"] == .double(4), "\(key).max")
            guard case .double(let std)? = p["\(key).std"] else {
                Issue.record("\(key).std missing")
                continue
            }
            #expect(abs(std - expectedStd) < 1e-12, "\(key).std")
        }
        #expect(p.count == values.count * 4, "every array, whatever its length, gives exactly four columns")
    }

    @Test func unsafeBufferPointersSummarizeWithoutCopying() {
        let data: [Double] = [2, 4, 6]
        let p = data.withUnsafeBufferPointer { pairs(summarize(["buf": $0])) }
        #expect(p["buf.mean"] == .double(4))
    }

    @Test func momentsMatchATwoPassComputation() {
        var rng = SeededRandom()
        let values = (0..<10_001).map { _ in Double.random(in: -1...1, using: &rng) * 1e3 + 1e6 }
        let p = pairs(summarize(["v": values]))
        let mean = values.reduce(0, +) / Double(values.count)
        let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
        #expect(abs(p["v.mean"]!.doubleValue! - mean) < 1e-9 * abs(mean))
        #expect(abs(p["v.std"]!.doubleValue! - std) < 1e-9 * std, "one pass stays accurate far from zero")
        #expect(p["v.min"] == .double(values.min()!))
        #expect(p["v.max"] == .double(values.max()!))
    }

    @Test func nestedArraysCombineExactly() {
        let inner = [[1.0, 2.0, 3.0], [10.0], [], [4.0, 5.0]]
        let flat = inner.flatMap { $0 }
        let p = pairs(summarize(["n": inner]))
        let mean = flat.reduce(0, +) / Double(flat.count)
        let std = (flat.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(flat.count)).squareRoot()
        #expect(abs(p["n.mean"]!.doubleValue! - mean) < 1e-12)
        #expect(abs(p["n.std"]!.doubleValue! - std) < 1e-12)
        #expect(p["n.min"] == .double(1))
        #expect(p["n.max"] == .double(10))
    }

    @Test func nanInAnArrayPropagatesLikeNumpyWithOneWarning() {
        let s = summarize(["v": [1.0, .nan, 3.0]])
        let p = pairs(s)
        for suffix in [".mean", ".min", ".max", ".std"] {
            #expect(p["v\(suffix)"]!.doubleValue!.isNaN, "v\(suffix) is NaN")
        }
        #expect(s.warnings.map(\.kind) == [.nanInCollection])
        #expect(s.warnings.first?.key == "v")
    }

    @Test func infinityInAnArrayGivesInfiniteMeanAndNaNSpread() {
        let p = pairs(summarize(["v": [1.0, .infinity, 3.0]]))
        #expect(p["v.mean"] == .double(.infinity))
        #expect(p["v.max"] == .double(.infinity))
        #expect(p["v.min"] == .double(1))
        #expect(p["v.std"]!.doubleValue!.isNaN)
    }

    @Test func nestedArraysWithInfinitiesKeepAnInfiniteMean() {
        let p = pairs(summarize(["n": [[Double.infinity], [1.0, 2.0]], "m": [[-Double.infinity], [Double.infinity]]]))
        #expect(p["n.mean"] == .double(.infinity))
        #expect(p["n.max"] == .double(.infinity))
        #expect(p["n.min"] == .double(1))
        #expect(p["n.std"]?.doubleValue?.isNaN == true)
        #expect(p["m.mean"]?.doubleValue?.isNaN == true)
    }

    @Test func emptyNumericArrayGivesNullColumnsAndAWarning() {
        let s = summarize(["v": [Double]()])
        #expect(s.keys == ["v.mean", "v.min", "v.max", "v.std"])
        #expect(s.values.allSatisfy { $0.isNull })
        #expect(s.warnings.map(\.kind) == [.emptyCollection])
    }

    @Test func nonFiniteScalarsAreKeptAndNoted() {
        let s = summarize(["a": Double.nan, "b": -Double.infinity])
        #expect(pairs(s)["a"]!.doubleValue!.isNaN)
        #expect(pairs(s)["b"] == .double(-.infinity))
        #expect(s.warnings.map(\.key).sorted() == ["a", "b"])
    }

    @Test func smallNonNumericCollectionsAreIndexed() {
        let p = pairs(summarize(["names": ["a", "b"], "mixed": [1, "x"] as [Any], "tuple": (1, "two")]))
        #expect(p["names[0]"] == .string("a"))
        #expect(p["names[1]"] == .string("b"))
        #expect(p["mixed[0]"] == .int(1))
        #expect(p["mixed[1]"] == .string("x"))
        #expect(p["tuple[0]"] == .int(1))
        #expect(p["tuple[1]"] == .string("two"))
    }

    @Test func longNonNumericCollectionsAreSummarizedByCount() {
        let s = summarize(["names": (0..<100).map { "n\($0)" }])
        #expect(s.keys == ["names.count"])
        #expect(s.values == [.int(100)])
        #expect(s.warnings.map(\.kind) == [.truncated])
    }

    @Test func optionalsAndNil() {
        let none: Double? = nil
        let some: Double? = 2
        let p = pairs(summarize(["none": none as Any, "some": some as Any]))
        #expect(p["none"] == .null)
        #expect(p["some"] == .double(2))
    }

    @Test func enumsLogTheirCaseName() {
        let p = pairs(summarize(["phase": Phase.eval, "event": Event.loss(0.5), "empty": Event.none]))
        #expect(p["phase"] == .string("eval"))
        #expect(p["event"] == .string("loss"))
        #expect(p["event/loss"] == .double(0.5))
        #expect(p["empty"] == .string("none"))
    }

    @Test func referenceCyclesTerminateWithAWarning() {
        let a = Node(), b = Node()
        a.next = b
        b.next = a
        defer { a.next = nil }
        let s = summarize(["a": a])
        #expect(pairs(s)["a/value"] == .int(1))
        #expect(pairs(s)["a/next/value"] == .int(1))
        #expect(s.warnings.contains { $0.kind == .cycle && $0.key == "a/next/next" })
    }

    @Test func theSameObjectTwiceIsNotACycle() {
        let shared = Node()
        let s = summarize(["left": shared, "right": shared])
        #expect(s.warnings.isEmpty)
        #expect(pairs(s)["right/value"] == .int(1))
    }

    @Test func deepNestingStopsWithAWarning() {
        var value: Any = 1.0
        for _ in 0..<100 { value = ["d": value] }
        let s = summarize(["root": value])
        #expect(s.keys.isEmpty)
        #expect(s.warnings.map(\.kind) == [.tooDeep])
    }

    @Test func unsupportedValuesAreSkippedWithAWarningNamingTheKey() {
        let closure: () -> Void = {}
        let s = summarize(["f": closure, "ok": 1])
        #expect(s.keys == ["ok"])
        #expect(s.warnings.count == 1)
        #expect(s.warnings[0].kind == .unsupported && s.warnings[0].key == "f")
    }

    @Test func foundationValues() {
        let url = URL(string: "https://user:secret@example.com/x")!
        let id = UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F")!
        let p = pairs(summarize(["date": Date(timeIntervalSince1970: 12), "url": url, "data": Data([1, 2, 3]), "id": id]))
        #expect(p["date"] == .double(12))
        #expect(p["id"] == .string("E621E1F8-C36C-495A-93FC-0C247A3E6E5F"), "a UUID is logged as its text")
        #expect(p["url"] == .string("https://example.com/x"), "URL userinfo is stripped")
        #expect(p["data"] == .int(3))
    }

    @Test func customSummarizablesAndRegisteredSummarizers() {
        let registry = SummarizerRegistry()
        registry.declare(for: Celsius.self) { value, prefix, summary in
            summary.add(prefix.nokoJoined("kelvin"), .double(value.degrees + 273.15))
        }
        let p = pairs(summarize(["t": Celsius(degrees: 10), "p": Particle(energy: 2000)], registry: registry))
        #expect(p["t/kelvin"] == .double(283.15))
        #expect(p["p/energy_kj"] == .double(2))
    }

    @Test func redeclaringASummarizerReportsTheReplacement() {
        let registry = SummarizerRegistry()
        #expect(registry.declare(for: Celsius.self) { _, _, _ in } == false)
        #expect(registry.declare(for: Celsius.self) { _, _, _ in } == true)
    }

    @Test func aRegisteredSummarizerCanRecurse() {
        let registry = SummarizerRegistry()
        registry.declare(for: Model.self) { model, prefix, summary in
            summary.add(prefix.nokoJoined("name"), .string(model.name.uppercased()))
            summary.summarize(model.weights, prefix: prefix.nokoJoined("w"))
        }
        let p = pairs(summarize(["m": Model(name: "a", point: Point(x: 0, y: 0), weights: [2, 4], step: 0)], registry: registry))
        #expect(p["m/name"] == .string("A"))
        #expect(p["m/w.mean"] == .double(3))
    }

    @Test func aScalarRowIsLoggedAsValue() {
        #expect(pairs(summarize(3.5)) == ["value": .double(3.5)])
        #expect(summarize([1.0, 2.0]).keys == ["value.mean", "value.min", "value.max", "value.std"])
    }
}
