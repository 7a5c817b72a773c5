import Foundation
import NokoCore

/// `config.yaml` of the Files tab: the config exactly as UpsertBucket sends it
/// (`key: {value: v}` per top-level key, `_wandb` included), in block YAML as wandb's own
/// client writes it.
///
/// Keys and strings are written as JSON strings where plain YAML would read them as
/// something else (`yes`, `1e3`, `a: b`, a leading space); JSON's double-quoted strings
/// are YAML's too. Doubles are spelled as in the journal; non-finite ones as YAML's
/// `.nan`, `.inf`, `-.inf`.
enum ConfigYAML {
    static func text(_ value: JSONValue) -> String {
        var out = ""
        switch value {
        case .object(let members) where !members.isEmpty:
            appendMembers(members, indent: 0, to: &out)
        case .array(let elements) where !elements.isEmpty:
            appendElements(elements, indent: 0, to: &out)
        default:
            out = scalar(value) + "\n"
        }
        return out
    }

    private static func appendMembers(_ members: [String: JSONValue], indent: Int, to out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for key in members.keys.sorted() {
            let value = members[key]!
            out += pad + plainOrQuoted(key) + ":"
            appendValue(value, indent: indent, to: &out)
        }
    }

    private static func appendElements(_ elements: [JSONValue], indent: Int, to out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for element in elements {
            out += pad + "-"
            appendValue(element, indent: indent, to: &out)
        }
    }

    /// The rest of a line after `key:` or `-`, and the nested block under it.
    private static func appendValue(_ value: JSONValue, indent: Int, to out: inout String) {
        switch value {
        case .object(let members) where !members.isEmpty:
            out += "\n"
            appendMembers(members, indent: indent + 4, to: &out)
        case .array(let elements) where !elements.isEmpty:
            out += "\n"
            appendElements(elements, indent: indent + 4, to: &out)
        default:
            out += " " + scalar(value) + "\n"
        }
    }

    private static func scalar(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let v): return v ? "true" : "false"
        case .int(let v): return String(v)
        case .double(let v): return number(v)
        case .string(let s):
            if let special = JSONValue.nonFiniteDouble(s) { return number(special) }
            return plainOrQuoted(s)
        case .array: return "[]"
        case .object: return "{}"
        }
    }

    private static func number(_ v: Double) -> String {
        if v.isNaN { return ".nan" }
        if v.isInfinite { return v < 0 ? "-.inf" : ".inf" }
        var writer = WireWriter(capacity: 32)
        writer.writeDouble(v)
        let text = String(decoding: writer.bytes, as: UTF8.self)
        // YAML 1.1 readers (PyYAML) take `1e+06` for a string; a dot makes it a float.
        if text.contains("e"), !text.contains(".") {
            return text.replacingOccurrences(of: "e", with: ".0e")
        }
        return text
    }

    /// `s` as a plain scalar when YAML reads it back as this same string, else quoted.
    private static func plainOrQuoted(_ s: String) -> String {
        isPlainSafe(s) ? s : quoted(s)
    }

    private static func quoted(_ s: String) -> String {
        var writer = WireWriter(capacity: s.utf8.count + 2)
        writer.writeString(s)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    private static let reserved: Set<String> = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
    ]

    private static func isPlainSafe(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, !reserved.contains(s.lowercased()) else { return false }
        // Letters, digits and a few punctuation marks only, starting with a letter or `_`,
        // so nothing reads as a number, a date, an indicator or a comment.
        guard first == "_" || (first.properties.isAlphabetic && first.isASCII) else { return false }
        return s.unicodeScalars.allSatisfy { c in
            c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "_" || c == "-" || c == "." || c == "/")
        }
    }
}
