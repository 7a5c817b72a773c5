/// One cell of a row: what every value is summarized to, and what loaders read back.
public enum Scalar: Sendable, Hashable {
    /// No value: `nil`, or a cell a row did not have.
    case null
    /// A boolean.
    case bool(Bool)
    /// An integer of any width up to 64 bits (wider unsigned values become ``double(_:)``).
    case int(Int64)
    /// A floating-point number, NaN and ±infinity included.
    case double(Double)
    /// A string.
    case string(String)

    /// The value as a `Double` when it is numeric (booleans count as 0 and 1).
    public var doubleValue: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let v): return v
        case .bool(let v): return v ? 1 : 0
        case .null, .string: return nil
        }
    }

    /// True for `.int` and `.double`.
    public var isNumber: Bool {
        switch self {
        case .int, .double: return true
        default: return false
        }
    }

    /// True for `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The text of a string value.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}

extension Scalar: CustomStringConvertible {
    /// A compact human-readable rendering (`null`, `true`, `3`, `0.25`, `NaN`, the string itself).
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let v): return v ? "true" : "false"
        case .int(let v): return String(v)
        case .double(let v): return Scalar.format(v)
        case .string(let s): return s
        }
    }

    /// Shortest round-trip text of a double, with the journal's spelling of non-finite values.
    public static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v == .infinity { return "Infinity" }
        if v == -.infinity { return "-Infinity" }
        return v.description
    }
}

extension Scalar: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
}
