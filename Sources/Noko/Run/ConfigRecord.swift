import Foundation
import NokoCore

/// The config as noko records it: a JSON tree (nested structure kept; secrets are redacted
/// by ``SecretRedactor``), and flattened `/`-joined keys for the `config` table row.
enum ConfigRecord {
    /// The tree of a config given as an `Encodable` value, a dictionary or a `JSONValue`.
    static func tree(_ config: Any) throws -> JSONValue {
        try value(config, path: "")
    }

    private static func value(_ config: Any, path: String) throws -> JSONValue {
        switch config {
        case let json as JSONValue: return json
        case let dictionary as [String: Any]:
            var object: [String: JSONValue] = [:]
            for (key, member) in dictionary { object[key] = try value(member, path: join(path, key)) }
            return .object(object)
        case let pairs as KeyValuePairs<String, Any>:
            var object: [String: JSONValue] = [:]
            for (key, member) in pairs { object[key] = try value(member, path: join(path, key)) }
            return .object(object)
        case let array as [Any]:
            return .array(try array.enumerated().map { try value($1, path: "\(path)[\($0)]") })
        case let v as Bool: return .bool(v)
        case let v as Int: return .int(Int64(v))
        case let v as Double: return .double(v)
        case let v as String: return .string(SecretRedactor.strippingCredentials(v))
        case let encodable as any Encodable:
            do {
                return try ConfigEncoder.encode(encodable)
            } catch let error as ConfigError {
                throw ConfigError(keyPath: join(path, error.keyPath), reason: error.reason)
            }
        default:
            if let optional = config as? any OptionalConfigValue {
                return try optional.configWrapped.map { try value($0, path: path) } ?? .null
            }
            throw ConfigError(keyPath: path, reason: "a value of type \(type(of: config)) is not Encodable")
        }
    }

    private static func join(_ path: String, _ key: String) -> String { SecretRedactor.join(path, key) }

    /// Leaves of the tree as `/`-joined keys (`optimizer/lr`, `layers[0]`), sorted.
    static func flattened(_ tree: JSONValue, path: String = "") -> [(key: String, value: Scalar)] {
        switch tree {
        case .object(let members):
            return members.keys.sorted().flatMap { flattened(members[$0]!, path: join(path, $0)) }
        case .array(let elements):
            if elements.isEmpty { return [(path, .null)] }
            return elements.enumerated().flatMap { flattened($1, path: "\(path)[\($0)]") }
        default:
            return [(path.isEmpty ? "value" : path, tree.scalar ?? .null)]
        }
    }
}

/// Lets the config walker see through `Optional` inside an `Any`.
protocol OptionalConfigValue {
    var configWrapped: Any? { get }
}

extension Optional: OptionalConfigValue {
    var configWrapped: Any? { self.map { $0 as Any } }
}
