import Foundation
import NokoCore

/// A field of the config as decoding saw it: what `--noko-help` lists, and what tells an
/// unknown path from a nil optional.
struct ConfigField: Sendable, Equatable {
    var path: ConfigPath
    /// `Int`, `[Double]`, `Optimizer (adam, sgd)`.
    var type: String
    var isOptional: Bool
}

/// What one decoding pass saw.
final class DecodingLog {
    /// Every path the config's `init(from:)` asked for, present or not.
    var visited: Set<ConfigPath> = []
    /// The fields, in the order decoded.
    var fields: [ConfigField] = []
    /// Paths decoded as dictionaries: any key may be added under them.
    var dictionaries: Set<ConfigPath> = []
    /// Paths decoded as structs (their fields are listed instead).
    var structs: Set<ConfigPath> = []

    func record(_ path: ConfigPath, type: Any.Type, optional: Bool) {
        visited.insert(path)
        guard !fields.contains(where: { $0.path == path }) else { return }
        fields.append(ConfigField(path: path, type: TypeName.of(type), isOptional: optional))
    }
}

/// Why a value did not decode into its field.
struct LaunchDecodingFailure: Error {
    var path: ConfigPath
    /// The type the field needs.
    var expected: String
    /// The value found (nil: none).
    var found: LaunchValue?
    /// Said instead of "expects … found …" when set.
    var reason: String?
}

/// Decodes a `Decodable` config from a ``LaunchValue`` tree, converting text to the type
/// each field asks for, and logging every path it visits.
struct LaunchDecoder: Decoder {
    let value: LaunchValue?
    let path: ConfigPath
    let log: DecodingLog

    static func decode<T: Decodable>(_ type: T.Type, from value: LaunchValue, log: DecodingLog) throws -> T {
        try LaunchDecoder(value: value, path: ConfigPath([]), log: log).decodeValue(type)
    }

    var codingPath: [any CodingKey] { path.components.map(PathKey.init) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let isDictionary = "\(Key.self)".contains("DictionaryCodingKey")
        let members: [String: LaunchValue]
        switch value {
        case .object(let object): members = object
        case .text(let text):
            do {
                guard let map = try FlowText.map(text) else { throw mismatch(isDictionary ? "a dictionary" : "a struct") }
                members = map
            } catch let error as FlowText.FlowError {
                throw LaunchDecodingFailure(path: path, expected: "", found: value, reason: error.message)
            }
        default: throw mismatch(isDictionary ? "a dictionary" : "a struct")
        }
        if isDictionary { log.dictionaries.insert(path) } else { log.structs.insert(path) }
        return KeyedDecodingContainer(LaunchKeyedContainer<Key>(members: members, path: path, log: log))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch value {
        case .array(let elements): return LaunchUnkeyedContainer(elements: elements, path: path, log: log)
        case .text(let text):
            do {
                guard let elements = try FlowText.list(text) else { throw mismatch("an array") }
                return LaunchUnkeyedContainer(elements: elements, path: path, log: log)
            } catch let error as FlowText.FlowError {
                throw LaunchDecodingFailure(path: path, expected: "", found: value, reason: error.message)
            }
        default: throw mismatch("an array")
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { LaunchSingleContainer(decoder: self) }

    func mismatch(_ expected: String) -> LaunchDecodingFailure {
        LaunchDecodingFailure(path: path, expected: expected, found: value)
    }

    var isNil: Bool {
        switch value {
        case nil, .json(.null)?: return true
        case .text(let text)?: return text == "null"
        default: return false
        }
    }

    /// The value as `T`: scalars converted from text, Foundation's special types as
    /// noko's config encoder writes them, anything else by its own `init(from:)`.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if let scalar = try decodeScalar(type) { return scalar }
        do {
            return try T(from: self)
        } catch let failure as LaunchDecodingFailure {
            throw failure
        } catch let error as DecodingError {
            // A raw-value enum given a value that is none of its cases, or a type's own
            // validation in init(from:).
            throw LaunchDecodingFailure(path: path, expected: TypeName.of(T.self), found: value, reason: Self.reason(error, T.self))
        } catch {
            throw LaunchDecodingFailure(path: path, expected: TypeName.of(T.self), found: value, reason: "\(error)")
        }
    }

    private static func reason(_ error: DecodingError, _ type: Any.Type) -> String? {
        if case .dataCorrupted = error, TypeName.choices(of: type) != nil { return nil }
        switch error {
        case .dataCorrupted(let context), .typeMismatch(_, let context), .valueNotFound(_, let context),
            .keyNotFound(_, let context):
            return context.debugDescription
        @unknown default:
            return "\(error)"
        }
    }

    private func decodeScalar<T>(_ type: T.Type) throws -> T? {
        switch type {
        case is Bool.Type: return try bool() as? T
        case is String.Type: return try string() as? T
        case is Double.Type: return try double() as? T
        case is Float.Type: return Float(try double()) as? T
        case is Int.Type: return try integer(Int.self) as? T
        case is Int8.Type: return try integer(Int8.self) as? T
        case is Int16.Type: return try integer(Int16.self) as? T
        case is Int32.Type: return try integer(Int32.self) as? T
        case is Int64.Type: return try integer(Int64.self) as? T
        case is UInt.Type: return try integer(UInt.self) as? T
        case is UInt8.Type: return try integer(UInt8.self) as? T
        case is UInt16.Type: return try integer(UInt16.self) as? T
        case is UInt32.Type: return try integer(UInt32.self) as? T
        case is UInt64.Type: return try integer(UInt64.self) as? T
        case is Date.Type: return Date(timeIntervalSince1970: try double()) as? T
        case is URL.Type:
            guard let url = URL(string: try string()) else { throw mismatch("URL") }
            return url as? T
        case is Data.Type:
            guard let data = Data(base64Encoded: try string()) else { throw mismatch("Data (base64)") }
            return data as? T
        case is Decimal.Type:
            let text: String
            if case .text(let t)? = value { text = t } else { text = String(try double()) }
            guard let decimal = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else { throw mismatch("Decimal") }
            return decimal as? T
        default: return nil
        }
    }

    func bool() throws -> Bool {
        switch value {
        case .json(.bool(let b))?: return b
        case .text(let text)?:
            switch text {
            case "true", "True", "TRUE": return true
            case "false", "False", "FALSE": return false
            default: break
            }
        default: break
        }
        throw mismatch("Bool (true or false)")
    }

    func string() throws -> String {
        switch value {
        case .json(.string(let s))?: return s
        case .text(let text)?: return FlowText.unquoted(text)
        default: throw mismatch("String")
        }
    }

    func double() throws -> Double {
        switch value {
        case .json(.double(let d))?: return d
        case .json(.int(let i))?: return Double(i)
        case .json(.string(let s))?:
            if let d = JSONValue.nonFiniteDouble(s) { return d }
        case .text(let text)?:
            switch text.lowercased() {
            case "nan": return .nan
            case "inf", "+inf", "infinity", "+infinity": return .infinity
            case "-inf", "-infinity": return -.infinity
            default: break
            }
            let plain = text.replacingOccurrences(of: "_", with: "")
            if !plain.hasPrefix("0x"), !plain.hasPrefix("-0x"), let d = Double(plain), d.isFinite { return d }
        default: break
        }
        throw mismatch("Double")
    }

    func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        switch value {
        case .json(.int(let i))?:
            if let exact = I(exactly: i) { return exact }
        case .json(.double(let d))?:
            if let exact = I(exactly: d) { return exact }
        case .text(let text)?:
            if let exact = I(text.replacingOccurrences(of: "_", with: "")) { return exact }
        default: break
        }
        // An integer that does not fit: say the range; anything else is just not an integer.
        let outOfRange: Bool
        switch value {
        case .json(.int)?: outOfRange = true
        case .text(let text)?: outOfRange = !text.isEmpty && text.drop { $0 == "-" || $0 == "+" }.allSatisfy { $0.isNumber || $0 == "_" }
        default: outOfRange = false
        }
        throw mismatch(TypeName.of(I.self) + (outOfRange ? " (\(I.min) to \(I.max))" : ""))
    }
}

private struct PathKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ component: ConfigPath.Component) {
        switch component {
        case .key(let key): (stringValue, intValue) = (key, nil)
        case .index(let index): (stringValue, intValue) = ("\(index)", index)
        }
    }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { (stringValue, self.intValue) = ("\(intValue)", intValue) }
}

private struct LaunchKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: LaunchValue]
    let path: ConfigPath
    let log: DecodingLog
    var codingPath: [any CodingKey] { path.components.map(PathKey.init) }

    var allKeys: [Key] { members.keys.sorted().compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool {
        log.visited.insert(path.appending(.key(key.stringValue)))
        return members[key.stringValue] != nil
    }

    private func decoder(_ key: Key) -> LaunchDecoder {
        LaunchDecoder(value: members[key.stringValue], path: path.appending(.key(key.stringValue)), log: log)
    }

    func decodeNil(forKey key: Key) throws -> Bool { decoder(key).isNil }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let decoder = decoder(key)
        log.record(decoder.path, type: T.self, optional: false)
        guard decoder.value != nil else {
            throw LaunchDecodingFailure(
                path: decoder.path, expected: TypeName.of(T.self), found: nil,
                reason: "it has no value, and it is not optional (was it removed with ~\(decoder.path)?)")
        }
        return try decoder.decodeValue(type)
    }

    private func optional<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
        let decoder = decoder(key)
        log.record(decoder.path, type: T.self, optional: true)
        if decoder.isNil { return nil }
        return try decoder.decodeValue(type)
    }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try optional(type, key) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try optional(type, key) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try optional(type, key) }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try optional(type, key) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try optional(type, key) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try optional(type, key) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try optional(type, key) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try optional(type, key) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try optional(type, key) }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { try optional(type, key) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        log.visited.insert(decoder(key).path)
        return try decoder(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        log.visited.insert(decoder(key).path)
        return try decoder(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        LaunchDecoder(value: members["super"], path: path.appending(.key("super")), log: log)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder { decoder(key) }
}

private struct LaunchUnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [LaunchValue]
    let path: ConfigPath
    let log: DecodingLog
    var currentIndex = 0

    init(elements: [LaunchValue], path: ConfigPath, log: DecodingLog) {
        self.elements = elements
        self.path = path
        self.log = log
    }

    var codingPath: [any CodingKey] { path.components.map(PathKey.init) }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next() throws -> LaunchDecoder {
        let elementPath = path.appending(.index(currentIndex))
        guard !isAtEnd else {
            throw LaunchDecodingFailure(path: elementPath, expected: "", found: nil, reason: "the array has too few elements")
        }
        log.visited.insert(elementPath)
        defer { currentIndex += 1 }
        return LaunchDecoder(value: elements[currentIndex], path: elementPath, log: log)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return false }
        let isNil = LaunchDecoder(value: elements[currentIndex], path: path, log: log).isNil
        if isNil { currentIndex += 1 }
        return isNil
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }

    mutating func superDecoder() throws -> any Decoder { try next() }
}

private struct LaunchSingleContainer: SingleValueDecodingContainer {
    let decoder: LaunchDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.isNil }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(type) }
}

/// Type names as a Swift user writes them: `[Int]`, `Double?`, `[String: Double]`, and a
/// `CaseIterable` enum's raw values.
enum TypeName {
    static func of(_ type: Any.Type) -> String {
        var name = pretty(String(describing: type))
        if let choices = choices(of: type) { name += " (\(choices.joined(separator: ", ")))" }
        return name
    }

    /// The raw values of a `CaseIterable` enum whose cases encode to scalars.
    static func choices(of type: Any.Type) -> [String]? {
        guard let iterable = type as? any CaseIterable.Type else { return nil }
        let cases = allCases(iterable)
        let values = cases.compactMap { value -> String? in
            guard let encodable = value as? any Encodable, let json = try? ConfigEncoder.encode(encodable) else { return nil }
            if case .string(let s) = json { return s }
            return json.serialized()
        }
        return values.count == cases.count && !values.isEmpty ? values : nil
    }

    private static func allCases<T: CaseIterable>(_ type: T.Type) -> [Any] { T.allCases.map { $0 as Any } }

    /// `Array<Optional<Int>>` → `[Int?]`, `Dictionary<String, Double>` → `[String: Double]`.
    static func pretty(_ name: String) -> String {
        guard let open = name.firstIndex(of: "<"), name.hasSuffix(">") else { return name }
        let head = String(name[..<open])
        let arguments = splitArguments(String(name[name.index(after: open)..<name.index(before: name.endIndex)])).map(pretty)
        switch (head, arguments.count) {
        case ("Array", 1), ("ContiguousArray", 1): return "[\(arguments[0])]"
        case ("Optional", 1): return "\(arguments[0])?"
        case ("Dictionary", 2): return "[\(arguments[0]): \(arguments[1])]"
        default: return "\(head)<\(arguments.joined(separator: ", "))>"
        }
    }

    private static func splitArguments(_ text: String) -> [String] {
        var parts: [String] = []
        var depth = 0
        var current = ""
        for character in text {
            if character == "<" { depth += 1 }
            if character == ">" { depth -= 1 }
            if character == ",", depth == 0 {
                parts.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current.trimmingCharacters(in: .whitespaces))
        return parts
    }
}
