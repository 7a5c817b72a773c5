import NokoCore

/// A path into the config: `model.layers`, `model/layers`, `hidden[1]`.
struct ConfigPath: Hashable, Sendable, CustomStringConvertible, Comparable {
    enum Component: Hashable, Sendable {
        case key(String)
        case index(Int)
    }

    var components: [Component]

    init(_ components: [Component]) { self.components = components }

    /// Parses `a.b[1]/c`; nil unless the whole text is a path (keys of letters, digits, `_`
    /// and `-`, starting with a letter or `_`; `.` or `/` between keys; `[N]` after one).
    init?(parsing text: Substring) {
        var components: [Component] = []
        var rest = text[...]
        var expectKey = true
        while !rest.isEmpty {
            if rest.first == "[" {
                guard !components.isEmpty, let close = rest.firstIndex(of: "]"),
                    let index = Int(rest[rest.index(after: rest.startIndex)..<close]), index >= 0,
                    rest[rest.index(after: rest.startIndex)..<close].allSatisfy(\.isASCIIDigit)
                else { return nil }
                components.append(.index(index))
                rest = rest[rest.index(after: close)...]
                expectKey = false
                continue
            }
            if !expectKey {
                guard rest.first == "." || rest.first == "/" else { return nil }
                rest = rest.dropFirst()
            }
            guard let first = rest.first, first.isASCIILetter || first == "_" else { return nil }
            let end = rest.firstIndex { !($0.isASCIILetter || $0.isASCIIDigit || $0 == "_" || $0 == "-") } ?? rest.endIndex
            components.append(.key(String(rest[..<end])))
            rest = rest[end...]
            expectKey = false
        }
        guard !components.isEmpty else { return nil }
        self.components = components
    }

    /// `model.layers`, `hidden[1]`: the spelling errors and `--noko-help` use.
    var description: String { spelled(separator: ".") }

    /// `model/layers`: the spelling of the `config` table and `noko-run`.
    var slashed: String { spelled(separator: "/") }

    private func spelled(separator: String) -> String {
        var text = ""
        for component in components {
            switch component {
            case .key(let key): text += text.isEmpty ? key : separator + key
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }

    var parent: ConfigPath { ConfigPath(Array(components.dropLast())) }
    var last: Component? { components.last }
    var isEmpty: Bool { components.isEmpty }

    func appending(_ component: Component) -> ConfigPath { ConfigPath(components + [component]) }

    func hasPrefix(_ other: ConfigPath) -> Bool { components.starts(with: other.components) }

    /// The last key, for the secret check (`model.apiKey` is a secret).
    var lastKey: String? {
        for component in components.reversed() { if case .key(let key) = component { return key } }
        return nil
    }

    /// True when any key of the path names a secret.
    var isSecret: Bool {
        components.contains { if case .key(let key) = $0 { return SecretRules.isSecretKey(key) } else { return false } }
    }

    static func < (lhs: ConfigPath, rhs: ConfigPath) -> Bool { lhs.description < rhs.description }
}

extension Character {
    fileprivate var isASCIILetter: Bool { isASCII && isLetter }
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

/// Where a launch-time value came from. The cases are in precedence order, lowest first:
/// a later source wins over an earlier one.
public enum LaunchSource: String, Sendable, CaseIterable, Comparable {
    /// The file named by the `NOKO_CONFIG` environment variable.
    case configEnvironment = "NOKO_CONFIG"
    /// A `--config FILE` argument.
    case configArgument = "--config"
    /// The `NOKO_OVERRIDES` environment variable.
    case overridesEnvironment = "NOKO_OVERRIDES"
    /// A `path=value` argument.
    case argument

    public static func < (lhs: LaunchSource, rhs: LaunchSource) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One override as given: `lr=0.1`, `+extra.k=2`, `++k=3`, `~dropout`.
package struct ConfigOverride: Sendable, Equatable {
    enum Operation: String, Sendable {
        /// `path=value`: the path must exist in the defaults.
        case set
        /// `+path=value`: adds a key the defaults lack (a nil optional, a dictionary entry).
        case add
        /// `++path=value`: sets or adds.
        case setOrAdd = "set_or_add"
        /// `~path`: removes an optional or a dictionary entry.
        case remove
    }

    var operation: Operation
    var path: ConfigPath
    /// The value's text; nil for `~path`.
    var value: String?
    /// The override as given (one argument, one word of `NOKO_OVERRIDES`).
    var text: String
    var source: LaunchSource

    /// The override in `text`, nil when `text` is not one (an argument starting with `-`,
    /// one without `=`, one whose left side is not a path: the program's own).
    package init?(_ text: String, source: LaunchSource) {
        guard !text.hasPrefix("-") else { return nil }
        self.text = text
        self.source = source
        if text.hasPrefix("~") {
            guard let path = ConfigPath(parsing: text.dropFirst()) else { return nil }
            (operation, self.path, value) = (.remove, path, nil)
            return
        }
        guard let equals = text.firstIndex(of: "=") else { return nil }
        var left = text[..<equals]
        if left.hasPrefix("++") {
            operation = .setOrAdd
            left = left.dropFirst(2)
        } else if left.hasPrefix("+") {
            operation = .add
            left = left.dropFirst()
        } else {
            operation = .set
        }
        guard let path = ConfigPath(parsing: left) else { return nil }
        self.path = path
        value = String(text[text.index(after: equals)...])
    }

    /// The override as recorded: the value of a secret-looking path is `<redacted>`.
    var recordedText: String {
        guard path.isSecret, let equals = text.firstIndex(of: "=") else { return text }
        return text[...equals] + SecretRedactor.placeholder
    }
}
