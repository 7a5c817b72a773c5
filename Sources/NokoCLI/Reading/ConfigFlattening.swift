import NokoCore

/// Config values for display and comparison: nested objects flattened into `/`-joined keys
/// (`{"opt": {"lr": 0.1}}` → `opt/lr`), as noko flattens rows.
package enum ConfigFlattening {
    /// The leaves of `config`, sorted by key. Arrays and empty objects are leaves; a
    /// non-object config is one leaf with the empty key.
    package static func flatten(_ config: JSONValue) -> [(key: String, value: JSONValue)] {
        var leaves: [(key: String, value: JSONValue)] = []
        collect(config, prefix: "", into: &leaves)
        return leaves.sorted { $0.key < $1.key }
    }

    /// ``flatten(_:)`` as an object (what `--json` prints as `config`).
    package static func flattenedObject(_ config: JSONValue) -> JSONValue {
        .object(Dictionary(flatten(config).map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first }))
    }

    private static func collect(_ value: JSONValue, prefix: String, into leaves: inout [(key: String, value: JSONValue)]) {
        guard case .object(let members) = value, !members.isEmpty else {
            leaves.append((prefix, value))
            return
        }
        for (key, member) in members {
            collect(member, prefix: prefix.isEmpty ? key : prefix + "/" + key, into: &leaves)
        }
    }
}
