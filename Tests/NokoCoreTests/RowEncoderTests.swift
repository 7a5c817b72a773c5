import Foundation
import Testing

@testable import NokoCore

/// Struct rows through the row encoder must give exactly the columns `Mirror` gives: every
/// type of the corpus is summarized both ways, row after row.
@Suite struct RowEncoderTests {
    /// `rows` summarized as `logRow` does and through `Mirror` alone: keys, values (NaN
    /// included) and warnings must be the same for every row.
    func expectSameColumns(_ rows: [Any], registry: SummarizerRegistry = SummarizerRegistry(), sourceLocation: SourceLocation = #_sourceLocation) {
        for (index, row) in rows.enumerated() {
            var encoded = ValueColumns(registry: registry.snapshot)
            encoded.summarizeRow(row)
            var mirrored = ValueColumns(registry: registry.snapshot)
            mirrored.summarizeWithMirror(row)
            #expect(encoded.keys == mirrored.keys, "row \(index) of \(type(of: row))", sourceLocation: sourceLocation)
            #expect(
                encoded.values.count == mirrored.values.count && zip(encoded.values, mirrored.values).allSatisfy { $0.isIdentical(to: $1) },
                "row \(index) of \(type(of: row)): \(encoded.values) vs \(mirrored.values)", sourceLocation: sourceLocation)
            #expect(Set(encoded.warnings) == Set(mirrored.warnings), "row \(index) of \(type(of: row))", sourceLocation: sourceLocation)
        }
    }

    /// Whether rows of `type` went through the encoder (after at least one row).
    func usesEncoder<T>(_ type: T.Type) -> Bool { RowEncoding.usesEncoder(for: type) }

    struct Scalars: Encodable {
        var loss: Double
        var step: Int
        var phase: String
        var clipped: Bool
        var lr: Float
        var small: Int8
        var big: UInt64
        var byte: UInt8
    }

    @Test func scalarsGoThroughTheEncoder() {
        let rows = (0..<5).map { i in
            Scalars(
                loss: 1 / Double(i + 1), step: i, phase: i % 2 == 0 ? "train" : "eval", clipped: i == 3, lr: 0.1, small: -3,
                big: i == 4 ? UInt64.max : UInt64(i), byte: 255)
        }
        expectSameColumns(rows)
        #expect(usesEncoder(Scalars.self))
    }

    struct Inner: Encodable { var x: Double; var y: Int }
    struct Nested: Encodable {
        var name: String
        var inner: Inner
        var weights: [Double]
        var halves: [Float]
        var counts: [Int]
    }

    @Test func nestedStructsAndNumericArrays() {
        let rows = (0..<4).map { i in
            Nested(
                name: "m", inner: Inner(x: Double(i), y: i), weights: i == 2 ? [] : [1, 2, Double(i)], halves: [0.5, 0.25],
                counts: [i, 2 * i])
        }
        expectSameColumns(rows)
        #expect(usesEncoder(Nested.self))
        var columns = ValueColumns(registry: [:])
        columns.summarizeRow(rows[1])
        #expect(columns.keys == [
            "name", "inner/x", "inner/y", "weights.mean", "weights.min", "weights.max", "weights.std", "halves.mean", "halves.min",
            "halves.max", "halves.std", "counts.mean", "counts.min", "counts.max", "counts.std",
        ])
    }

    struct WithNaN: Encodable { var values: [Double]; var single: Double }

    @Test func nonFiniteValuesWarnAsMirrorsDo() {
        expectSameColumns([WithNaN(values: [1, .nan], single: .infinity), WithNaN(values: [2, 3], single: .nan), WithNaN(values: [], single: 1)])
        #expect(usesEncoder(WithNaN.self))
    }

    struct WithOptional: Encodable { var a: Double; var b: Double?; var c: String? }

    @Test func optionalsThatAreNilGoThroughMirrorRowByRow() {
        // Codable leaves out a nil optional; Mirror logs null: the row falls back.
        expectSameColumns([
            WithOptional(a: 1, b: 2, c: "x"), WithOptional(a: 2, b: nil, c: "y"), WithOptional(a: 3, b: 4, c: nil),
            WithOptional(a: 4, b: 5, c: "z"),
        ])
        #expect(usesEncoder(WithOptional.self))
    }

    struct Renamed: Encodable {
        var learningRate: Double
        enum CodingKeys: String, CodingKey { case learningRate = "lr" }
    }

    struct Custom: Encodable {
        var x: Double
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(x * 2, forKey: .x)
        }
        enum CodingKeys: CodingKey { case x }
    }

    enum Phase: String, Encodable { case train, evaluation = "eval" }
    struct WithRawEnum: Encodable { var phase: Phase }
    struct WithDate: Encodable { var at: Date }
    struct WithURL: Encodable { var url: URL }
    struct WithStrings: Encodable { var tags: [String] }
    struct WithIntKeys: Encodable { var byClass: [Int: Double] }

    class Base: Encodable { var a = 1.0 }
    final class Derived: Base {
        var b = 2.0
        override func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try super.encode(to: c.superEncoder())
            try c.encode(b, forKey: .b)
        }
        enum CodingKeys: CodingKey { case b }
    }

    @Test func typesWhoseEncodableFormDiffersKeepMirror() {
        expectSameColumns([Renamed(learningRate: 0.1), Renamed(learningRate: 0.2)])
        #expect(!usesEncoder(Renamed.self))
        expectSameColumns([Custom(x: 1), Custom(x: 2)])
        #expect(!usesEncoder(Custom.self))
        expectSameColumns([WithRawEnum(phase: .evaluation), WithRawEnum(phase: .train)])
        #expect(!usesEncoder(WithRawEnum.self))
        expectSameColumns([WithDate(at: Date(timeIntervalSince1970: 1_700_000_000))])
        #expect(!usesEncoder(WithDate.self))
        expectSameColumns([WithURL(url: URL(string: "https://example.com/x")!)])
        #expect(!usesEncoder(WithURL.self))
        expectSameColumns([WithStrings(tags: ["a", "b"])])
        #expect(!usesEncoder(WithStrings.self))
        expectSameColumns([Derived(), Derived()])
        #expect(!usesEncoder(Derived.self))
    }

    struct RawEnumNamedAsItsCases: Encodable { var phase: Phase }

    @Test func aRawValueEqualToTheCaseNameAgrees() {
        expectSameColumns([RawEnumNamedAsItsCases(phase: .train), RawEnumNamedAsItsCases(phase: .train)])
        #expect(usesEncoder(RawEnumNamedAsItsCases.self))
    }

    @Test func dictionariesInsideAStruct() {
        expectSameColumns([WithIntKeys(byClass: [1: 0.5, 2: 0.25, 7: 1]), WithIntKeys(byClass: [3: 1])])
    }

    struct Celsius: Encodable { var degrees: Double }
    struct Weather: Encodable { var city: String; var temperature: Celsius }

    @Test func aRegisteredSummarizerOfAFieldIsHonoured() {
        let registry = SummarizerRegistry()
        _ = registry.declare(for: Celsius.self) { value, prefix, columns in columns.add(prefix.nokoJoined("kelvin"), .double(value.degrees + 273.15)) }
        expectSameColumns([Weather(city: "Oslo", temperature: Celsius(degrees: 3))], registry: registry)
        var columns = ValueColumns(registry: registry.snapshot)
        columns.summarizeRow(Weather(city: "Oslo", temperature: Celsius(degrees: 3)))
        #expect(columns.keys == ["city", "temperature/kelvin"])
    }

    struct Plain { var x: Double }

    @Test func typesThatAreNotEncodableUseMirror() {
        expectSameColumns([Plain(x: 1), Plain(x: 2)])
    }

    @Test func theFirstRowOfATypeThatKeepsMirrorSaysWhyOnce() {
        struct Local: Encodable {
            var value: Double
            enum CodingKeys: String, CodingKey { case value = "v" }
        }
        var first = ValueColumns(registry: [:])
        first.summarizeRow(Local(value: 1))
        #expect(first.encodingNote?.contains("Local") == true && first.encodingNote?.contains("Mirror") == true)
        var second = ValueColumns(registry: [:])
        second.summarizeRow(Local(value: 2))
        #expect(second.encodingNote == nil)
        #expect(second.keys == ["value"])
    }
}
