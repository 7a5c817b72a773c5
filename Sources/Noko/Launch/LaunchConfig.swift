import Foundation
import NokoCore

/// What the launch changed: the record behind `overrides.json`.
struct LaunchRecord: Sendable {
    /// The code's defaults, as encoded.
    var defaults: JSONValue
    /// The config files, lowest precedence first.
    var files: [LaunchConfigFile]
    /// The overrides, in the order applied, each with the value it gave the config.
    var overrides: [(override: ConfigOverride, value: JSONValue?)]

    var isEmpty: Bool { files.isEmpty && overrides.isEmpty }
}

/// Merges the launch-time config (files, then overrides) over the code's defaults and
/// decodes the result into the config type: every error names the path, the value and
/// where it came from, and comes before anything is written.
enum LaunchConfig {
    /// The effective config and what changed it.
    static func resolve<Config: Codable>(_ defaults: Config, _ arguments: LaunchArguments) throws -> (Config, LaunchRecord) {
        let defaultsTree = try ConfigEncoder.encode(defaults)
        let schema = try Schema(defaultsTree, Config.self)
        var merger = Merger(tree: LaunchValue(defaultsTree), schema: schema)
        var files: [LaunchConfigFile] = []
        for (source, path) in arguments.configFiles {
            let file = try LaunchConfigFile(source: source, path: path)
            try merger.merge(file)
            files.append(file)
        }
        for override in arguments.overrides { try merger.apply(override) }

        let log = DecodingLog()
        let effective: Config
        do {
            effective = try LaunchDecoder.decode(Config.self, from: merger.tree, log: log)
        } catch let failure as LaunchDecodingFailure {
            throw merger.error(for: failure)
        }
        // A key a file or an override set that the config's init(from:) never read would be
        // recorded in overrides.json but not used: the program would run with other values.
        for (path, origin) in merger.origins.sorted(by: { $0.key < $1.key }) where !log.visited.contains(path) {
            throw LaunchConfigError("config has no path '\(path)' (\(origin))\(schema.suggestion(for: path))")
        }
        let effectiveTree = try ConfigEncoder.encode(effective)
        let overrides = arguments.overrides.map { override in
            (override, override.operation == .remove ? nil : effectiveTree.value(at: override.path))
        }
        return (effective, LaunchRecord(defaults: defaultsTree, files: files, overrides: overrides))
    }

    /// The `--noko-help` text: every config path with its type and default.
    static func help<Config: Codable>(_ defaults: Config, program: String) throws -> String {
        let defaultsTree = try ConfigEncoder.encode(defaults)
        let schema = try Schema(defaultsTree, Config.self)
        return helpText(schema.listed(in: LaunchValue(defaultsTree)), program: program)
    }

    /// The `--noko-help` text for a config that can only be encoded: paths and JSON types.
    static func help(encoded tree: JSONValue, program: String) -> String {
        let value = LaunchValue(tree)
        let rows = value.leafPaths().filter { !$0.isEmpty }.map { path -> (String, String, String) in
            let leaf = value.value(at: path) ?? .json(.null)
            return (path.description, "", leaf.display)
        }
        return helpText(rows, program: program)
            + "\nThis config is passed by value, so it cannot be overridden: make it Codable and pass it as `&config`.\n"
    }

    private static func helpText(_ rows: [(path: String, type: String, value: String)], program: String) -> String {
        let pathWidth = max(4, rows.map(\.path.count).max() ?? 0)
        let typeWidth = max(4, rows.map(\.type.count).max() ?? 0)
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        var text = "Config of \(program) (set with path=value, add with +path=value, remove with ~path):\n\n"
        text += "  \(pad("path", pathWidth))  \(pad("type", typeWidth))  default\n"
        for row in rows {
            text += "  \(pad(TerminalText.escaped(row.path), pathWidth))  \(pad(row.type, typeWidth))  \(TerminalText.escaped(row.value))\n"
        }
        text += """

            Sources, lowest precedence first: the code's defaults, the file in NOKO_CONFIG, --config FILE \
            (JSON or YAML), NOKO_OVERRIDES (overrides separated by spaces), path=value arguments.

            """
        return text
    }
}

/// The config's shape, learned by decoding the defaults once.
struct Schema {
    let log: DecodingLog
    let defaults: LaunchValue

    init<Config: Decodable>(_ defaults: JSONValue, _ type: Config.Type) throws {
        log = DecodingLog()
        self.defaults = LaunchValue(defaults)
        do {
            _ = try LaunchDecoder.decode(type, from: self.defaults, log: log)
        } catch let failure as LaunchDecodingFailure {
            throw LaunchConfigError(
                "the defaults of \(TypeName.of(type)) do not decode back at '\(failure.path)' (\(failure.reason ?? "expected \(failure.expected)")): its encode(to:) and init(from:) disagree")
        }
    }

    func field(_ path: ConfigPath) -> ConfigField? { log.fields.first { $0.path == path } }

    /// True when `path` may be added: a nil optional, or a key under a dictionary.
    func mayAdd(_ path: ConfigPath) -> Bool {
        if let field = field(path) { return field.isOptional }
        return log.dictionaries.contains(path.parent)
    }

    /// ", did you mean 'model.layers'?" or "".
    func suggestion(for path: ConfigPath) -> String {
        let known = Set(log.fields.map(\.path.description) + defaults.leafPaths().map(\.description))
        let given = path.description
        let scored = known.map { ($0, Self.distance($0, given)) }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
        if let best = scored.first, best.1 <= max(2, given.count / 3) {
            return "; did you mean '\(best.0)'?"
        }
        if let lastKey = path.lastKey,
            let sameName = known.sorted().first(where: { ConfigPath(parsing: Substring($0))?.lastKey == lastKey })
        {
            return "; did you mean '\(sameName)'?"
        }
        return " (--noko-help lists every path)"
    }

    /// The rows of `--noko-help`: every field that is not a struct, in decoding order.
    func listed(in tree: LaunchValue) -> [(path: String, type: String, value: String)] {
        log.fields.filter { !log.structs.contains($0.path) || log.dictionaries.contains($0.path) }
            .filter { field in !log.fields.contains { other in other.path != field.path && field.path.hasPrefix(other.path) && log.dictionaries.contains(other.path) } }
            .map { field in
                (field.path.description, field.type + (field.isOptional ? "?" : ""), tree.value(at: field.path)?.display ?? "nil")
            }
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var current = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...max(1, b.count) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}

/// Applies files and overrides to the tree, checking each path against the schema.
private struct Merger {
    var tree: LaunchValue
    let schema: Schema
    /// For each path a file or an override wrote, where the value came from (for errors).
    var origins: [ConfigPath: String] = [:]

    init(tree: LaunchValue, schema: Schema) {
        self.tree = tree
        self.schema = schema
    }

    mutating func merge(_ file: LaunchConfigFile) throws {
        try merge(file.content, at: ConfigPath([]), origin: file.origin)
    }

    private mutating func merge(_ members: [String: LaunchValue], at path: ConfigPath, origin: String) throws {
        for key in members.keys.sorted() {
            let memberPath = path.appending(.key(key))
            let member = members[key]!
            let existing = tree.value(at: memberPath)
            if existing == nil && !schema.mayAdd(memberPath) {
                throw LaunchConfigError("config has no path '\(memberPath)' (\(origin))\(schema.suggestion(for: memberPath))")
            }
            if case .object(let inner) = member, case .object? = existing, !inner.isEmpty {
                try merge(inner, at: memberPath, origin: origin)
            } else {
                tree.set(member, at: memberPath)
                forget(under: memberPath)
                // Every leaf, so a misspelt key inside an array of structs is caught too.
                for leaf in member.leafPaths(under: memberPath) { origins[leaf] = origin }
            }
        }
    }

    mutating func apply(_ override: ConfigOverride) throws {
        let path = override.path
        let origin = Self.origin(override)
        let existing = tree.value(at: path)
        switch override.operation {
        case .set, .setOrAdd:
            if existing == nil {
                try checkAddable(path, origin: origin)
                if override.operation == .set {
                    throw LaunchConfigError(
                        "config '\(path)' is not in the defaults (\(origin)); add it with +\(path)=\(displayed(override))")
                }
            }
        case .add:
            if let existing {
                throw LaunchConfigError(
                    "config '\(path)' is already set (to \(path.isSecret ? SecretRedactor.placeholder : existing.display)) (\(origin)); change it with \(path)=\(displayed(override)), or use ++\(path)=… to set or add")
            }
            try checkAddable(path, origin: origin)
        case .remove:
            guard existing != nil else {
                throw LaunchConfigError("config '\(path)' is not set, so it cannot be removed (\(origin))\(tree.value(at: path.parent) == nil ? schema.suggestion(for: path) : "")")
            }
            if case .index = path.last {
                throw LaunchConfigError("config '\(path)' is an array element, which cannot be removed (\(origin)); set the whole array: \(path.parent)=[…]")
            }
            if let field = schema.field(path), !field.isOptional, !schema.log.dictionaries.contains(path.parent) {
                throw LaunchConfigError("config '\(path)' cannot be removed: it is not optional (\(field.type)) (\(origin))")
            }
            tree.remove(at: path)
            forget(under: path)
            origins[path] = nil
            return
        }
        let value: LaunchValue
        do {
            value = try Self.expanded(override.value ?? "")
        } catch {
            throw LaunchConfigError("config '\(path)': \(error.message) (\(origin))")
        }
        assign(value, at: path)
        // Every leaf of `[…]` and `{…}` values too, so a misspelt key inside one is caught.
        for leaf in value.leafPaths(under: path) { origins[leaf] = origin }
    }

    /// Sets `value` at `path`: `{…}` over a struct sets the fields it names, at any depth, and
    /// the others keep their values; anything else (a dictionary included) is replaced whole.
    private mutating func assign(_ value: LaunchValue, at path: ConfigPath) {
        if case .object(let members) = value, case .object? = tree.value(at: path), !schema.log.dictionaries.contains(path) {
            for (key, member) in members { assign(member, at: path.appending(.key(key))) }
        } else {
            tree.set(value, at: path)
            forget(under: path)
        }
    }

    /// The text of an override with Hydra's `[…]` and `{…}` taken apart; the leaves stay
    /// text, typed by the fields they land in.
    static func expanded(_ text: String) throws(FlowText.FlowError) -> LaunchValue {
        if let elements = try FlowText.list(text) {
            var expanded: [LaunchValue] = []
            for case .text(let element) in elements { expanded.append(try Self.expanded(element)) }
            return .array(expanded)
        }
        if let members = try FlowText.map(text) {
            var expanded: [String: LaunchValue] = [:]
            for (key, member) in members { if case .text(let inner) = member { expanded[key] = try Self.expanded(inner) } }
            return .object(expanded)
        }
        return .text(text)
    }

    /// Checks that `path`, absent from the tree, may be added: its parent is an object (or
    /// will be one), and the first missing component is a nil optional or a dictionary key.
    private func checkAddable(_ path: ConfigPath, origin: String) throws {
        var prefix = ConfigPath([])
        for component in path.components {
            let next = prefix.appending(component)
            if tree.value(at: next) == nil {
                if case .index(let index) = component {
                    let count: Int
                    if case .array(let elements)? = tree.value(at: prefix) { count = elements.count } else { count = 0 }
                    throw LaunchConfigError(
                        "config '\(path)': '\(prefix)' has \(count) element\(count == 1 ? "" : "s"), so there is no [\(index)] (\(origin)); set the whole array: \(prefix)=[…]")
                }
                if case .object? = tree.value(at: prefix), schema.mayAdd(next) { return }
                if prefix.isEmpty || tree.value(at: prefix) != nil {
                    if case .object? = tree.value(at: prefix) {} else if !prefix.isEmpty {
                        throw LaunchConfigError("config '\(path)': '\(prefix)' is a value, not a struct or dictionary (\(origin))")
                    }
                }
                throw LaunchConfigError("config has no path '\(path)' (\(origin))\(schema.suggestion(for: path))")
            }
            prefix = next
        }
    }

    /// Origins under a path that was replaced whole no longer apply.
    private mutating func forget(under path: ConfigPath) {
        for key in origins.keys where key.hasPrefix(path) && key != path { origins[key] = nil }
    }

    private func displayed(_ override: ConfigOverride) -> String {
        override.path.isSecret ? SecretRedactor.placeholder : (override.value ?? "")
    }

    static func origin(_ override: ConfigOverride) -> String {
        switch override.source {
        case .argument: return "argument '\(override.recordedText)'"
        default: return "\(override.source.rawValue) '\(override.recordedText)'"
        }
    }

    func error(for failure: LaunchDecodingFailure) -> LaunchConfigError {
        var origin: String?
        var path = failure.path
        while origin == nil {
            origin = origins[path]
            if path.isEmpty { break }
            path = path.parent
        }
        let from = origin.map { " (\($0))" } ?? " (the code's default)"
        let found = failure.found.map { failure.path.isSecret ? SecretRedactor.placeholder : "'\($0.display)'" } ?? "no value"
        if let reason = failure.reason {
            return LaunchConfigError("config '\(failure.path)' \(failure.expected.isEmpty ? "" : "expects \(failure.expected): ")\(reason), found \(found)\(from)")
        }
        return LaunchConfigError("config '\(failure.path)' expects \(failure.expected), found \(found)\(from)")
    }
}

extension JSONValue {
    /// The value at a config path.
    func value(at path: ConfigPath) -> JSONValue? {
        var current = self
        for component in path.components {
            switch (component, current) {
            case (.key(let key), .object(let members)):
                guard let member = members[key] else { return nil }
                current = member
            case (.index(let index), .array(let elements)) where elements.indices.contains(index):
                current = elements[index]
            default:
                return nil
            }
        }
        return current
    }
}
