/// A JSON document as a value: what config, metadata and summary files hold.
///
/// Serialization is canonical (``serialized(pretty:)``: object keys sorted, shortest
/// round-trip numbers) and strict: NaN and ±Infinity, which JSON cannot spell, are written
/// as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`, as in noko's journal.
public indirect enum JSONValue: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number written without a fraction or exponent that fits in 64 bits.
    case int(Int64)
    /// Any other number; NaN and ±infinity serialize as the strings `"NaN"`, `"Infinity"`
    /// and `"-Infinity"`.
    case double(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object; serialized with its keys sorted.
    case object([String: JSONValue])

    /// Parses one JSON document; throws `JSONParseError` naming the offset of the problem.
    public init(parsing text: String) throws {
        var text = text
        self = try text.withUTF8 { try JSONValue(parsing: UnsafeRawBufferPointer($0)) }
    }

    /// Parses one JSON document from UTF-8 bytes.
    public init(parsing bytes: UnsafeRawBufferPointer) throws {
        var parser = JSONParser(bytes)
        self = try parser.parseDocument()
    }

    /// Parses one JSON document from UTF-8 bytes.
    public init(parsing bytes: [UInt8]) throws {
        self = try bytes.withUnsafeBytes { try JSONValue(parsing: $0) }
    }

    /// The canonical text: sorted keys; `pretty` indents by two spaces.
    public func serialized(pretty: Bool = false) -> String {
        var writer = JSONWriter()
        writer.write(self, pretty: pretty, indent: 0)
        return writer.string
    }

    /// The canonical UTF-8 bytes, with a trailing newline when `pretty`.
    public func serializedBytes(pretty: Bool = false) -> [UInt8] {
        var writer = JSONWriter()
        writer.write(self, pretty: pretty, indent: 0)
        if pretty { writer.bytes.append(0x0A) }
        return writer.bytes
    }

    /// The member `key` of an object, or nil.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// Object members, or nil.
    public var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// Array elements, or nil.
    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// A string value, or nil.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// An integer value (a double with an integral value counts), or nil.
    public var intValue: Int64? {
        switch self {
        case .int(let v): return v
        case .double(let v) where v.rounded() == v && abs(v) < 9.2e18: return Int64(v)
        default: return nil
        }
    }

    /// A numeric value (ints widen; the strings `"NaN"`, `"Infinity"`, `"-Infinity"` count), or nil.
    public var doubleValue: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let v): return v
        case .string(let s): return JSONValue.nonFiniteDouble(s)
        default: return nil
        }
    }

    /// A boolean value, or nil.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The double a journal string stands for (`"NaN"`, `"Infinity"`, `"-Infinity"`), or nil.
    public static func nonFiniteDouble(_ s: String) -> Double? {
        switch s {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: return nil
        }
    }
}

extension JSONValue {
    /// The value a scalar becomes in JSON (non-finite doubles stay doubles here and are
    /// spelled as strings only when serialized).
    public init(_ scalar: Scalar) {
        switch scalar {
        case .null: self = .null
        case .bool(let v): self = .bool(v)
        case .int(let v): self = .int(v)
        case .double(let v): self = .double(v)
        case .string(let v): self = .string(v)
        }
    }

    /// The scalar a JSON leaf reads back as; the journal's non-finite strings become doubles.
    /// Arrays and objects have no scalar form and give nil.
    public var scalar: Scalar? {
        switch self {
        case .null: return .null
        case .bool(let v): return .bool(v)
        case .int(let v): return .int(v)
        case .double(let v): return .double(v)
        case .string(let s): return JSONValue.nonFiniteDouble(s).map(Scalar.double) ?? .string(s)
        case .array, .object: return nil
        }
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
