import Foundation
import NokoCore

/// One `--where` condition of `noko-run list`: `FIELD OP VALUE`.
///
/// FIELD is `config.KEY` (flattened with `/`), `metadata.KEY` (a top-level key of
/// `metadata.json`), `name`, `status`, or a metric reference (`table/key`, `max:table/key`).
/// OP is `=`, `!=`, `<`, `<=`, `>`, `>=` or `~` (shell pattern). Numbers compare as numbers
/// (`0.1` equals `0.10`), anything else as text; `<` and friends need numbers on both
/// sides. A run without the field matches only `!=`.
package struct RunFilter: Sendable, CustomStringConvertible {
    /// The comparison.
    package enum Operator: String, Sendable, CaseIterable {
        case notEqual = "!=", lessOrEqual = "<=", greaterOrEqual = ">=", equal = "=", less = "<", greater = ">", glob = "~"
    }

    /// What is compared.
    package enum Field: Sendable, Equatable {
        case config(String)
        case metadata(String)
        case name
        case status
        case metric(MetricReference)
    }

    package let field: Field
    package let op: Operator
    package let value: String
    package let description: String

    /// Parses `text`; a malformed condition is an error saying what was expected.
    package init(_ text: String) throws {
        description = text
        // The first operator character splits field from value; two-character operators first.
        guard let opStart = text.firstIndex(where: { "=!<>~".contains($0) }) else {
            throw CLIError("--where \"\(text)\": expected FIELD OP VALUE, e.g. config.lr=0.1 or epoch/test_accuracy>0.9")
        }
        let rest = text[opStart...]
        guard let op = Operator.allCases.first(where: { rest.hasPrefix($0.rawValue) }) else {
            throw CLIError("--where \"\(text)\": unknown operator; expected one of = != < <= > >= ~")
        }
        let name = text[..<opStart].trimmingCharacters(in: .whitespaces)
        value = rest.dropFirst(op.rawValue.count).trimmingCharacters(in: .whitespaces)
        self.op = op
        switch name {
        case "": throw CLIError("--where \"\(text)\": expected a field before \(op.rawValue)")
        case "name": field = .name
        case "status": field = .status
        default:
            if name.hasPrefix("config.") {
                field = .config(String(name.dropFirst("config.".count)))
            } else if name.hasPrefix("metadata.") {
                field = .metadata(String(name.dropFirst("metadata.".count)))
            } else if name.contains("/") {
                field = .metric(try MetricReference(name))
            } else {
                throw CLIError(
                    "--where \"\(text)\": unknown field \"\(name)\"; expected config.KEY, metadata.KEY, name, status or table/key")
            }
        }
    }

    /// Whether the run's value for the field satisfies the condition (nil: the run lacks it).
    package func matches(_ actual: JSONValue?) -> Bool {
        guard let actual, actual != .null else { return op == .notEqual }
        let text = DisplayFormat.jsonExact(actual)
        let lhs = actual.doubleValue ?? (actual.boolValue.map { $0 ? 1 : 0 })
        let rhs = Double(value) ?? (value == "true" ? 1 : value == "false" ? 0 : nil)
        switch op {
        case .equal, .notEqual:
            let equal: Bool
            if let lhs, let rhs, actual.stringValue == nil { equal = lhs == rhs || (lhs.isNaN && rhs.isNaN) } else { equal = text == value }
            return op == .equal ? equal : !equal
        case .glob:
            return Glob(value).matches(text)
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            guard let lhs, let rhs, actual.stringValue == nil || JSONValue.nonFiniteDouble(text) != nil else { return false }
            switch op {
            case .less: return lhs < rhs
            case .lessOrEqual: return lhs <= rhs
            case .greater: return lhs > rhs
            default: return lhs >= rhs
            }
        }
    }
}
