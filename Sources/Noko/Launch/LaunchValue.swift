import NokoCore

/// The config while launch-time values are merged into it: typed leaves (from the code's
/// defaults and JSON files) and untyped text (from overrides and plain YAML scalars), which
/// becomes whatever the field it lands in needs when the config is decoded.
indirect enum LaunchValue: Sendable, Equatable {
    /// A typed scalar.
    case json(JSONValue)
    /// Text whose type the field decides: `1e-5` for a Double, `007` for a String.
    case text(String)
    case object([String: LaunchValue])
    case array([LaunchValue])

    init(_ json: JSONValue) {
        switch json {
        case .object(let members): self = .object(members.mapValues(LaunchValue.init))
        case .array(let elements): self = .array(elements.map(LaunchValue.init))
        default: self = .json(json)
        }
    }

    /// The value at `path`, nil when there is none.
    func value(at path: ConfigPath) -> LaunchValue? {
        var current = self
        for component in path.components {
            switch (component, current) {
            case (.key(let key), .object(let members)):
                guard let member = members[key] else { return nil }
                current = member
            case (.index(let index), .array(let elements)):
                guard elements.indices.contains(index) else { return nil }
                current = elements[index]
            default:
                return nil
            }
        }
        return current
    }

    /// Replaces (or adds) the value at `path`, creating objects for missing keys on the way;
    /// the caller has checked that the path may be written.
    mutating func set(_ value: LaunchValue, at path: ConfigPath) {
        guard let first = path.components.first else {
            self = value
            return
        }
        let rest = ConfigPath(Array(path.components.dropFirst()))
        switch (first, self) {
        case (.key(let key), .object(var members)):
            var member = members[key] ?? .object([:])
            member.set(value, at: rest)
            members[key] = member
            self = .object(members)
        case (.index(let index), .array(var elements)) where elements.indices.contains(index):
            elements[index].set(value, at: rest)
            self = .array(elements)
        case (.key(let key), _):
            var member = LaunchValue.object([:])
            member.set(value, at: rest)
            self = .object([key: member])
        case (.index, _):
            break
        }
    }

    /// Removes the member at `path` (a key of an object).
    mutating func remove(at path: ConfigPath) {
        guard let first = path.components.first else { return }
        let rest = ConfigPath(Array(path.components.dropFirst()))
        switch (first, self) {
        case (.key(let key), .object(var members)):
            if rest.isEmpty {
                members[key] = nil
            } else {
                members[key]?.remove(at: rest)
            }
            self = .object(members)
        case (.index(let index), .array(var elements)) where elements.indices.contains(index) && !rest.isEmpty:
            elements[index].remove(at: rest)
            self = .array(elements)
        default:
            break
        }
    }

    /// The paths of every leaf (a scalar, an empty object or array counts as a leaf).
    func leafPaths(under path: ConfigPath = ConfigPath([])) -> [ConfigPath] {
        switch self {
        case .object(let members) where !members.isEmpty:
            return members.keys.sorted().flatMap { members[$0]!.leafPaths(under: path.appending(.key($0))) }
        case .array(let elements) where !elements.isEmpty:
            return elements.indices.flatMap { elements[$0].leafPaths(under: path.appending(.index($0))) }
        default:
            return [path]
        }
    }

    /// The value as the user would write it: `0.1`, `[64, 128]`, `{k: 1}`.
    var display: String {
        switch self {
        case .json(let json): return json.serialized()
        case .text(let text): return text
        case .array(let elements): return "[" + elements.map(\.display).joined(separator: ", ") + "]"
        case .object(let members):
            return "{" + members.keys.sorted().map { "\($0): \(members[$0]!.display)" }.joined(separator: ", ") + "}"
        }
    }
}

/// Hydra's flow syntax inside an override's value: `[64,128]`, `{a: 1, b: [2, 3]}`.
/// Elements stay text, typed later by the field they land in.
enum FlowText {
    /// The elements of `text` when it is `[…]`, nil otherwise; throws for an unclosed one.
    static func list(_ text: String) throws(FlowError) -> [LaunchValue]? {
        let trimmed = text.trimmingSpaces
        guard trimmed.hasPrefix("[") else { return nil }
        guard trimmed.hasSuffix("]"), trimmed.count >= 2 else { throw FlowError(message: "'[' is not closed by ']'") }
        return try split(String(trimmed.dropFirst().dropLast())).map { .text($0) }
    }

    /// The members of `text` when it is `{…}`, nil otherwise.
    static func map(_ text: String) throws(FlowError) -> [String: LaunchValue]? {
        let trimmed = text.trimmingSpaces
        guard trimmed.hasPrefix("{") else { return nil }
        guard trimmed.hasSuffix("}"), trimmed.count >= 2 else { throw FlowError(message: "'{' is not closed by '}'") }
        var members: [String: LaunchValue] = [:]
        for item in try split(String(trimmed.dropFirst().dropLast())) {
            guard let colon = topLevelColon(item) else { throw FlowError(message: "'\(item)' is not 'key: value'") }
            let key = unquoted(String(item[..<colon]).trimmingSpaces)
            guard !key.isEmpty else { throw FlowError(message: "'\(item)' has an empty key") }
            members[key] = .text(String(item[item.index(after: colon)...]).trimmingSpaces)
        }
        return members
    }

    struct FlowError: Error {
        let message: String
    }

    /// The text without one pair of matching quotes around it.
    static func unquoted(_ text: String) -> String {
        guard text.count >= 2, let first = text.first, first == "'" || first == "\"", text.last == first else { return text }
        return String(text.dropFirst().dropLast())
    }

    /// True when the text is one quoted string (`'null'` is a string, not null).
    static func isQuoted(_ text: String) -> Bool { unquoted(text) != text }

    /// Splits at commas outside quotes and brackets; `""` gives no elements.
    private static func split(_ body: String) throws(FlowError) -> [String] {
        if body.trimmingSpaces.isEmpty { return [] }
        var items: [String] = []
        var current = ""
        var depth = 0
        var quote: Character?
        for character in body {
            if let open = quote {
                current.append(character)
                if character == open { quote = nil }
                continue
            }
            switch character {
            case "'", "\"": quote = character
            case "[", "{": depth += 1
            case "]", "}":
                depth -= 1
                guard depth >= 0 else { throw FlowError(message: "'\(character)' closes nothing") }
            case "," where depth == 0:
                items.append(current.trimmingSpaces)
                current = ""
                continue
            default: break
            }
            current.append(character)
        }
        guard quote == nil else { throw FlowError(message: "a quote is not closed") }
        guard depth == 0 else { throw FlowError(message: "a bracket is not closed") }
        items.append(current.trimmingSpaces)
        if items.contains(where: \.isEmpty) { throw FlowError(message: "an element is empty") }
        return items
    }

    private static func topLevelColon(_ item: String) -> String.Index? {
        var quote: Character?
        var index = item.startIndex
        while index < item.endIndex {
            let character = item[index]
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == ":" {
                return index
            } else if character == "[" || character == "{" {
                return nil
            }
            index = item.index(after: index)
        }
        return nil
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
