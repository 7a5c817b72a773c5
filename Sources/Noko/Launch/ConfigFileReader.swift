import Foundation
import NokoCore
import NokoPlatform
import Yams

/// A config file given at launch (`--config FILE`, `NOKO_CONFIG`), read.
struct LaunchConfigFile: Sendable {
    enum Format: String, Sendable {
        case json, yaml
    }

    var source: LaunchSource
    /// The path as given.
    var path: String
    var format: Format
    /// The file's bytes, copied into the run directory.
    var bytes: [UInt8]
    /// Its content: JSON values typed, plain YAML scalars as text the fields will type.
    var content: [String: LaunchValue]

    /// Where it came from, as errors say it: `--config run.yaml`.
    var origin: String { "\(source.rawValue) \(path)" }

    /// Reads and parses the file. Errors name the file and, for malformed text, the line
    /// and column.
    init(source: LaunchSource, path: String) throws(LaunchConfigError) {
        self.source = source
        self.path = path
        let origin = "\(source.rawValue) \(path)"
        let read: [UInt8]?
        do {
            read = try FileSystem.readIfPresent(path)
        } catch {
            throw LaunchConfigError("\(origin): cannot read: \(error.reason)")
        }
        guard let read else { throw LaunchConfigError("\(origin): no such file") }
        bytes = read
        let lowered = path.lowercased()
        if lowered.hasSuffix(".json") {
            format = .json
        } else if lowered.hasSuffix(".yaml") || lowered.hasSuffix(".yml") {
            format = .yaml
        } else {
            // Any other name: JSON if it looks like it (YAML would read it too, but JSON's
            // errors are the better ones for a JSON file).
            format = read.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{") ? .json : .yaml
        }
        let root: LaunchValue
        switch format {
        case .json:
            do {
                root = LaunchValue(try JSONValue(parsing: read))
            } catch let error as JSONParseError {
                let (line, column) = Self.lineAndColumn(of: error.offset, in: read)
                throw LaunchConfigError("\(origin): line \(line), column \(column): malformed JSON: \(error.message)")
            } catch {
                throw LaunchConfigError("\(origin): malformed JSON: \(error)")
            }
        case .yaml:
            guard let text = String(validating: read, as: UTF8.self) else {
                throw LaunchConfigError("\(origin): not UTF-8 text")
            }
            root = try Self.yaml(text, origin: origin)
        }
        switch root {
        case .object(let members): content = members
        case .json(.null): content = [:]  // an empty YAML file
        default: throw LaunchConfigError("\(origin): expected a mapping of config keys at the top level, found \(root.display.prefix(40))")
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    static func lineAndColumn(of offset: Int, in bytes: [UInt8]) -> (Int, Int) {
        let before = bytes.prefix(min(offset, bytes.count))
        let line = before.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
        let lineStart = before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        let column = String(decoding: bytes[lineStart..<before.endIndex], as: UTF8.self).count + 1
        return (line, column)
    }

    private static func yaml(_ text: String, origin: String) throws(LaunchConfigError) -> LaunchValue {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw LaunchConfigError("\(origin): \(describe(error))")
        } catch {
            throw LaunchConfigError("\(origin): malformed YAML: \(error)")
        }
        guard let node else { return .json(.null) }
        return try value(node, origin: origin)
    }

    private static func describe(_ error: YamlError) -> String {
        func at(_ mark: Mark, _ problem: String, _ context: YamlError.Context?) -> String {
            let context = context.map { "\($0.text) (line \($0.mark.line), column \($0.mark.column)): " } ?? ""
            return "line \(mark.line), column \(mark.column): malformed YAML: \(context)\(problem)"
        }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return at(mark, problem, context)
        default:
            return "malformed YAML: \(error)"
        }
    }

    private static func value(_ node: Node, origin: String) throws(LaunchConfigError) -> LaunchValue {
        func place(_ node: Node) -> String {
            node.mark.map { "line \($0.line), column \($0.column): " } ?? ""
        }
        switch node {
        case .scalar(let scalar):
            guard scalar.style == .plain || scalar.style == .any else { return .json(.string(scalar.string)) }
            if ["", "~", "null", "Null", "NULL"].contains(scalar.string) { return .json(.null) }
            return .text(scalar.string)
        case .mapping(let mapping):
            var members: [String: LaunchValue] = [:]
            for (key, member) in mapping {
                guard case .scalar(let name) = key else {
                    throw LaunchConfigError("\(origin): \(place(key))a config key must be a plain name, found a \(key.isMapping ? "mapping" : "sequence")")
                }
                guard members[name.string] == nil else {
                    throw LaunchConfigError("\(origin): \(place(key))the key '\(name.string)' appears twice")
                }
                members[name.string] = try value(member, origin: origin)
            }
            return .object(members)
        case .sequence(let sequence):
            var elements: [LaunchValue] = []
            for element in sequence { elements.append(try value(element, origin: origin)) }
            return .array(elements)
        case .alias:
            throw LaunchConfigError("\(origin): \(place(node))YAML aliases (*name) are not supported in config files; write the value out")
        }
    }
}

extension Node {
    fileprivate var isMapping: Bool {
        if case .mapping = self { return true }
        return false
    }
}
