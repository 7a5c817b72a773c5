import Foundation

/// Keeps secrets out of what noko records: the one function every user-supplied string goes
/// through on its way into a run directory or a remote (the config and its `config` row,
/// argv, `run.summary`, the error of a failed run, and string values of logged rows), with
/// the rules of ``SecretRules``.
///
/// - Key names: a value under a secret-looking key (`api_key`, `hfToken`) is `<redacted>`.
/// - URL query parameters with secret names: the value alone is `<redacted>`, the URL stays
///   useful (`https://h/x?token=<redacted>&page=2`).
/// - Well-known token formats (`ghp_…`, `sk-…`, `AKIA…`, JWTs, PEM private keys…): the
///   whole value is `<redacted>`, whatever its key.
/// - URL userinfo (`https://user:password@host`) is always stripped, silently, as before.
///
/// Every redaction is reported as a ``Finding`` naming the key path and the rule, never the
/// value, so the caller can warn about it. Key paths in ``keptAsGiven`` are recorded as given.
package struct SecretRedactor: Sendable {
    /// What a redacted value becomes.
    package static let placeholder = "<redacted>"

    /// Redact values under secret-looking key names.
    package var keyNames: Bool
    /// Redact the values of secret URL query parameters.
    package var urlParameters: Bool
    /// Redact values holding a well-known token.
    package var tokenFormats: Bool
    /// Key paths whose values are kept as given (`RunOptions.unredactedKeys`).
    package var keptAsGiven: Set<String>

    package init(keyNames: Bool = true, urlParameters: Bool = true, tokenFormats: Bool = true, keptAsGiven: Set<String> = []) {
        self.keyNames = keyNames
        self.urlParameters = urlParameters
        self.tokenFormats = tokenFormats
        self.keptAsGiven = keptAsGiven
    }

    /// Every rule: what the config, argv and `run.summary` go through.
    package static let standard = SecretRedactor()
    /// Nothing but URL userinfo (`RunOptions.redactSecrets = false`).
    package static let off = SecretRedactor(keyNames: false, urlParameters: false, tokenFormats: false)
    /// Logged rows are the user's data: only values holding a well-known token are redacted.
    package static let rows = SecretRedactor(keyNames: false, urlParameters: false)

    /// Which rule redacted a value.
    package enum Rule: Sendable, Hashable, CustomStringConvertible {
        /// The key's name looks secret.
        case keyName
        /// A URL query parameter of this name looks secret (its value alone is redacted).
        case urlParameter(String)
        /// The value holds a token of this format (``TokenFormat/name``).
        case tokenFormat(String)

        package var description: String {
            switch self {
            case .keyName: return "its name looks like a secret"
            case .urlParameter(let name): return "its URL's query parameter '\(name)' looks like a secret"
            case .tokenFormat(let name): return "its value matches the token format '\(name)'"
            }
        }
    }

    /// One redaction: where and why, never what.
    package struct Finding: Sendable, Hashable {
        package var keyPath: String
        package var rule: Rule

        package init(keyPath: String, rule: Rule) {
            self.keyPath = keyPath
            self.rule = rule
        }

        /// The warning for it: `config key 'creds': its value matches the token format
        /// 'GitHub token'; it is recorded as "<redacted>" (…)`. `subject` names what the key
        /// belongs to (nil when the caller names the key itself).
        package func message(subject: String?, recorded: String = "recorded") -> String {
            let what = if case .urlParameter = rule { "the parameter's value is" } else { "it is" }
            return (subject.map { "\($0) '\(keyPath)': " } ?? "")
                + "\(rule); \(what) \(recorded) as \"\(SecretRedactor.placeholder)\" "
                + "(add '\(keyPath)' to RunOptions.unredactedKeys to keep it as given)"
        }
    }

    // MARK: Strings

    /// `text` with its secrets redacted, and the rule that changed it (nil: unchanged, apart
    /// from URL userinfo, which is always stripped).
    package func redact(_ text: String) -> (text: String, rule: Rule?) {
        var result = SecretRedactor.strippingCredentials(text)
        var rule: Rule?
        if urlParameters, let (redacted, name) = SecretRedactor.redactingURLParameters(result) {
            result = redacted
            rule = .urlParameter(name)
        }
        if tokenFormats, let format = TokenScanner.firstToken(in: result) {
            return (SecretRedactor.placeholder, .tokenFormat(format.name))
        }
        return (result, rule)
    }

    /// `text` under `keyPath`, redacted unless the key path is kept as given.
    package func redact(_ text: String, keyPath: String) -> (text: String, finding: Finding?) {
        guard !keptAsGiven.contains(keyPath) else { return (SecretRedactor.strippingCredentials(text), nil) }
        let (result, rule) = redact(text)
        return (result, rule.map { Finding(keyPath: keyPath, rule: $0) })
    }

    // MARK: Trees

    /// The tree with secrets redacted: a value under a secret-looking key replaced whole by
    /// `"<redacted>"`, every string through ``redact(_:keyPath:)``; and what was redacted,
    /// sorted by key path. Numbers, booleans and nulls are never touched.
    package func redact(_ tree: JSONValue, keyPath: String = "") -> (JSONValue, [Finding]) {
        var findings: [Finding] = []
        let result = redact(tree, keyPath: keyPath, &findings)
        return (result, findings.sorted { $0.keyPath < $1.keyPath })
    }

    private func redact(_ tree: JSONValue, keyPath: String, _ findings: inout [Finding]) -> JSONValue {
        if !keptAsGiven.isEmpty, keptAsGiven.contains(keyPath) { return tree }
        switch tree {
        case .object(let members):
            var result: [String: JSONValue] = [:]
            result.reserveCapacity(members.count)
            for (key, member) in members {
                if keyNames, SecretRules.isSecretKey(key) {
                    let memberPath = SecretRedactor.join(keyPath, key)
                    if !keptAsGiven.contains(memberPath) {
                        result[key] = .string(SecretRedactor.placeholder)
                        findings.append(Finding(keyPath: memberPath, rule: .keyName))
                        continue
                    }
                }
                result[key] = redact(member, keyPath: { SecretRedactor.join(keyPath, key) }, &findings)
            }
            return .object(result)
        case .array(let elements):
            return .array(elements.enumerated().map { index, element in redact(element, keyPath: { "\(keyPath)[\(index)]" }, &findings) })
        default:
            return redact(tree, keyPath: { keyPath }, &findings)
        }
    }

    /// A member or element, its key path built only when needed: most leaves are numbers,
    /// or strings without a secret.
    private func redact(_ tree: JSONValue, keyPath: () -> String, _ findings: inout [Finding]) -> JSONValue {
        switch tree {
        case .object, .array:
            return redact(tree, keyPath: keyPath(), &findings)
        case .string(let text):
            let (result, rule) = redact(text)
            guard let rule else { return result == text ? tree : .string(result) }
            let path = keyPath()
            if keptAsGiven.contains(path) { return .string(SecretRedactor.strippingCredentials(text)) }
            findings.append(Finding(keyPath: path, rule: rule))
            return .string(result)
        default:
            return tree
        }
    }

    /// A key path as warnings name it: `/` between keys, `[i]` for elements
    /// (`services[0]/secret_access_key`).
    package static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : key.isEmpty ? path : key.hasPrefix("[") ? path + key : "\(path)/\(key)"
    }

    // MARK: Command lines

    /// The command line with secrets removed: the value after a secret-looking option
    /// (`--api-key X`, `--token=X`), and every argument through the value rules (an
    /// option's name is kept: `--header=<redacted>`). Findings are named `argv[i]`.
    package func redact(commandLine argv: [String]) -> ([String], [Finding]) {
        var result: [String] = []
        var findings: [Finding] = []
        var hideNext = false
        for (index, argument) in argv.enumerated() {
            let keyPath = "argv[\(index)]"
            if keptAsGiven.contains(keyPath) {
                result.append(SecretRedactor.strippingCredentials(argument))
                hideNext = false
                continue
            }
            if hideNext {
                result.append(SecretRedactor.placeholder)
                findings.append(Finding(keyPath: keyPath, rule: .keyName))
                hideNext = false
                continue
            }
            if keyNames, let equals = argument.firstIndex(of: "="), !argument.hasPrefix("-"),
                Self.isSecretOverridePath(argument[..<equals])
            {
                // `apiKey=X`, `+model.hf_token=X`: a config override of a secret key.
                result.append(argument[...equals] + SecretRedactor.placeholder)
                findings.append(Finding(keyPath: keyPath, rule: .keyName))
                continue
            }
            if argument.hasPrefix("-") {
                let name = argument.drop { $0 == "-" }
                if let equals = name.firstIndex(of: "=") {
                    let option = argument[..<argument.index(after: equals)]
                    if keyNames, SecretRules.isSecretKey(String(name[..<equals])) {
                        result.append(option + SecretRedactor.placeholder)
                        findings.append(Finding(keyPath: keyPath, rule: .keyName))
                        continue
                    }
                    let (value, finding) = redact(String(argument[argument.index(after: equals)...]), keyPath: keyPath)
                    result.append(option + value)
                    if let finding { findings.append(finding) }
                    continue
                } else if keyNames, SecretRules.isSecretKey(String(name)) {
                    hideNext = true
                }
            }
            let (value, finding) = redact(argument, keyPath: keyPath)
            result.append(value)
            if let finding { findings.append(finding) }
        }
        return (result, findings)
    }

    /// True when the path of a `path=value` override (`+`, `++` in front; keys joined by
    /// `.` or `/`, `[i]` after a key) has a key that names a secret.
    static func isSecretOverridePath(_ path: Substring) -> Bool {
        let bare = path.drop { $0 == "+" }
        // Only what a config path is made of: a URL (`https://h/v1?token=…`) is not one.
        guard !bare.isEmpty,
            bare.utf8.allSatisfy({ c in
                (c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) || c == 0x5F || c == 0x2D || c == 0x2E || c == 0x2F
                    || c == 0x5B || c == 0x5D
            })
        else { return false }
        return bare.split(whereSeparator: { $0 == "." || $0 == "/" }).contains { component in
            SecretRules.isSecretKey(String(component.prefix { $0 != "[" }))
        }
    }

    // MARK: The value rules' parts

    /// `value` with the user name and password removed from every URL in it
    /// (`https://u:p@host` → `https://host`, also inside `--db=postgres://u:p@h/x`); other
    /// text unchanged.
    package static func strippingCredentials(_ value: String) -> String {
        guard value.utf8.contains(UInt8(ascii: "@")), value.contains("://") else { return value }
        // Between "scheme://" and the next "@" (before any "/"), drop everything: userinfo.
        var result = ""
        var rest = Substring(value)
        while let scheme = rest.range(of: "://") {
            result += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" || $0 == " " } ?? rest.endIndex
            if let at = rest[..<authorityEnd].lastIndex(of: "@") {
                rest = rest[rest.index(after: at)...]
            }
        }
        return result + rest
    }

    /// `text` with the value of every secret query parameter replaced by `<redacted>`
    /// (after `?` or `#`, between `&` or `;`, up to white space or a quote), and the first
    /// such parameter's name; nil when there is none. An empty value stays empty.
    static func redactingURLParameters(_ text: String) -> (String, String)? {
        let utf8 = text.utf8
        guard utf8.contains(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }),
            utf8.contains(UInt8(ascii: "="))
        else { return nil }
        let bytes = Array(utf8)
        var secretValues: [Range<Int>] = []
        var firstName: String?
        var inQuery = false
        var parameterStart: Int?
        for (index, byte) in bytes.enumerated() {
            switch byte {
            case UInt8(ascii: "?"), UInt8(ascii: "#"):
                inQuery = true
                parameterStart = index + 1
            case UInt8(ascii: "&"), UInt8(ascii: ";"):
                if inQuery { parameterStart = index + 1 }
            case UInt8(ascii: "="):
                guard inQuery, let start = parameterStart else { break }
                parameterStart = nil
                var end = index + 1
                while end < bytes.count, !endsParameterValue(bytes[end]) { end += 1 }
                let name = Substring(decoding: bytes[start..<index], as: UTF8.self)
                if end > index + 1, SecretRules.isSecretURLParameter(name) {
                    secretValues.append((index + 1)..<end)
                    if firstName == nil { firstName = String(name) }
                }
            default:
                if endsQuery(byte) {
                    inQuery = false
                    parameterStart = nil
                }
            }
        }
        guard let firstName else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var copied = 0
        for range in secretValues {
            result += bytes[copied..<range.lowerBound]
            result += placeholder.utf8
            copied = range.upperBound
        }
        result += bytes[copied...]
        return (String(decoding: result, as: UTF8.self), firstName)
    }

    private static func endsParameterValue(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "&") || byte == UInt8(ascii: ";") || byte == UInt8(ascii: "#") || endsQuery(byte)
    }

    private static func endsQuery(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
            || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">")
    }
}
