import Foundation
import NokoCore

/// Why a config could not be recorded, naming the key path.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    /// The key path of the failing value, like `optimizer/betas[1]`.
    public let keyPath: String
    /// What went wrong.
    public let reason: String

    public var description: String {
        "the config cannot be encoded at \(keyPath.isEmpty ? "its top level" : "'\(keyPath)'"): \(reason)"
    }
}

/// Turns an `Encodable` config into a `JSONValue` tree, keeping NaN and infinities (which
/// `JSONEncoder` refuses) and the key path of anything that fails.
///
/// Containers write into reference-typed nodes; the tree is assembled once at the end, so
/// nested containers may be filled in any order, as `Encodable` allows.
struct ConfigEncoder {
    static func encode(_ value: some Encodable) throws -> JSONValue {
        let root = Node()
        let trail = Trail()
        do {
            try encodeValue(value, into: root, path: [], trail: trail)
        } catch let error as ConfigError {
            throw error
        } catch let EncodingError.invalidValue(_, context) {
            throw ConfigError(keyPath: ConfigEncoder.path(context.codingPath), reason: context.debugDescription)
        } catch {
            throw ConfigError(keyPath: trail.path, reason: "\(error)")
        }
        return root.resolved ?? .object([:])
    }

    static func path(_ keys: [any CodingKey]) -> String {
        var text = ""
        for key in keys {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : "/" + key.stringValue
            }
        }
        return text
    }
}

/// The key path being encoded, for errors that do not carry one.
private final class Trail {
    var path = ""
}

/// One value of the tree being built.
private final class Node {
    enum Content {
        case empty
        case leaf(JSONValue)
        case object([(String, Node)])
        case array([Node])
    }
    var content = Content.empty

    var resolved: JSONValue? {
        switch content {
        case .empty: return nil
        case .leaf(let v): return v
        case .object(let members):
            var object: [String: JSONValue] = [:]
            for (key, node) in members { object[key] = node.resolved ?? .null }
            return .object(object)
        case .array(let elements): return .array(elements.map { $0.resolved ?? .null })
        }
    }

    func member(_ key: String) -> Node {
        let child = Node()
        if case .object(var members) = content {
            members.removeAll { $0.0 == key }
            members.append((key, child))
            content = .object(members)
        } else {
            content = .object([(key, child)])
        }
        return child
    }

    func element() -> Node {
        let child = Node()
        if case .array(var elements) = content {
            elements.append(child)
            content = .array(elements)
        } else {
            content = .array([child])
        }
        return child
    }

    var count: Int {
        if case .array(let elements) = content { return elements.count }
        return 0
    }
}

private struct TreeEncoder: Encoder {
    let node: Node
    let path: [any CodingKey]
    let trail: Trail
    var codingPath: [any CodingKey] { path }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = node.content {} else { node.content = .object([]) }
        return KeyedEncodingContainer(KeyedTree<Key>(node: node, path: path, trail: trail))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = node.content {} else { node.content = .array([]) }
        return UnkeyedTree(node: node, path: path, trail: trail)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleTree(node: node, path: path, trail: trail) }
}

private struct KeyedTree<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: Node
    let path: [any CodingKey]
    let trail: Trail
    var codingPath: [any CodingKey] { path }

    private func set(_ value: JSONValue, _ key: Key) { node.member(key.stringValue).content = .leaf(value) }

    mutating func encodeNil(forKey key: Key) throws { set(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(text(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { set(.double(value), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { set(.double(widen(value)), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(.int(value), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(unsigned(value), key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try encodeValue(value, into: node.member(key.stringValue), path: path + [key], trail: trail)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        TreeEncoder(node: node.member(key.stringValue), path: path + [key], trail: trail).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        TreeEncoder(node: node.member(key.stringValue), path: path + [key], trail: trail).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        TreeEncoder(node: node.member("super"), path: path, trail: trail)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        TreeEncoder(node: node.member(key.stringValue), path: path + [key], trail: trail)
    }
}

private struct IndexKey: CodingKey {
    var stringValue: String { "\(intValue!)" }
    var intValue: Int?
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct UnkeyedTree: UnkeyedEncodingContainer {
    let node: Node
    let path: [any CodingKey]
    let trail: Trail
    var codingPath: [any CodingKey] { path }
    var count: Int { node.count }

    private func append(_ value: JSONValue) { node.element().content = .leaf(value) }

    mutating func encodeNil() throws { append(.null) }
    mutating func encode(_ value: Bool) throws { append(.bool(value)) }
    mutating func encode(_ value: String) throws { append(text(value)) }
    mutating func encode(_ value: Double) throws { append(.double(value)) }
    mutating func encode(_ value: Float) throws { append(.double(widen(value))) }
    mutating func encode(_ value: Int) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { append(.int(value)) }
    mutating func encode(_ value: UInt64) throws { append(unsigned(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        let key = IndexKey(node.count)
        try encodeValue(value, into: node.element(), path: path + [key], trail: trail)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let key = IndexKey(node.count)
        return TreeEncoder(node: node.element(), path: path + [key], trail: trail).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let key = IndexKey(node.count)
        return TreeEncoder(node: node.element(), path: path + [key], trail: trail).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        TreeEncoder(node: node.element(), path: path, trail: trail)
    }
}

private struct SingleTree: SingleValueEncodingContainer {
    let node: Node
    let path: [any CodingKey]
    let trail: Trail
    var codingPath: [any CodingKey] { path }

    mutating func encodeNil() throws { node.content = .leaf(.null) }
    mutating func encode(_ value: Bool) throws { node.content = .leaf(.bool(value)) }
    mutating func encode(_ value: String) throws { node.content = .leaf(text(value)) }
    mutating func encode(_ value: Double) throws { node.content = .leaf(.double(value)) }
    mutating func encode(_ value: Float) throws { node.content = .leaf(.double(widen(value))) }
    mutating func encode(_ value: Int) throws { node.content = .leaf(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { node.content = .leaf(.int(value)) }
    mutating func encode(_ value: UInt64) throws { node.content = .leaf(unsigned(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { try encodeValue(value, into: node, path: path, trail: trail) }
}

/// A string as recorded: URL credentials (`postgres://user:pass@host`) never reach a file.
private func text(_ value: String) -> JSONValue { .string(SecretRedactor.strippingCredentials(value)) }

/// A `Float` as the double with the same shortest text (`0.1`, not `0.10000000149011612`).
private func widen(_ value: Float) -> Double {
    value.isFinite ? Double(value.description) ?? Double(value) : Double(value)
}

private func unsigned(_ value: UInt64) -> JSONValue {
    value <= UInt64(Int64.max) ? .int(Int64(value)) : .double(Double(value))
}

/// Encodes one value into `node`, with the types Foundation gives special forms.
private func encodeValue<T: Encodable>(_ value: T, into node: Node, path: [any CodingKey], trail: Trail) throws {
    trail.path = ConfigEncoder.path(path)
    switch value {
    case let v as Double: node.content = .leaf(.double(v))
    case let v as Float: node.content = .leaf(.double(widen(v)))
    case let v as URL: node.content = .leaf(.string(SecretRedactor.strippingCredentials(v.absoluteString)))
    case let v as Date: node.content = .leaf(.double(v.timeIntervalSince1970))
    case let v as Data: node.content = .leaf(.string(v.base64EncodedString()))
    case let v as Decimal: node.content = .leaf(.double(NSDecimalNumber(decimal: v).doubleValue))
    default:
        try value.encode(to: TreeEncoder(node: node, path: path, trail: trail))
    }
}
