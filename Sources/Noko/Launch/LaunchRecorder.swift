import Foundation
import Logging
import NokoCore
import NokoPlatform

/// Writes what the launch gave into the run directory: `overrides.json`, a copy of each
/// config file, and `Package.resolved`.
enum LaunchRecorder {
    static func record(_ launch: LaunchRecord, redactor: SecretRedactor, in directory: URL, messages: Logging.Logger) throws {
        let layout = RunLayout(directory)
        var files: [OverridesFile.ConfigFile] = []
        for (index, file) in launch.files.enumerated() {
            let content = JSONValue.object(file.content.mapValues(\.recorded))
            let (redacted, findings) = redactor.redact(content)
            let secretPaths = findings.map(\.keyPath)
            let copy: URL
            if secretPaths.isEmpty {
                copy = layout.launchConfig(index + 1, extension: file.format.rawValue)
                try AtomicFile.write(file.bytes, to: copy.path)
            } else {
                // The file itself holds a secret: its content is recorded, redacted, as JSON.
                copy = layout.launchConfig(index + 1, extension: LaunchConfigFile.Format.json.rawValue)
                try RunFileFormat.write(redacted, to: copy)
                messages.warning(
                    "\(file.origin) holds secrets (\(secretPaths.joined(separator: ", "))); its copy in the run directory is their redacted content, as JSON")
            }
            files.append(
                OverridesFile.ConfigFile(
                    source: file.source.rawValue, path: file.path, copy: copy.lastPathComponent, format: file.format.rawValue))
        }
        let overrides = launch.overrides.map { override, value in
            // The same rules as config.json: a secret key's value goes whole, and a value in
            // a token format or with a secret URL parameter whatever its key.
            let path = override.path.description
            let (text, _) = redactor.redact(commandLine: [override.text])
            let recordedValue = value.map { value in
                redactor.keyNames && override.path.isSecret ? .string(SecretRedactor.placeholder) : redactor.redact(value, keyPath: path).0
            }
            return OverridesFile.Override(
                source: override.source.rawValue, text: text[0], operation: override.operation.rawValue, path: path,
                value: recordedValue)
        }
        let defaults = redactor.redact(launch.defaults).0
        try OverridesFile(configFiles: files, overrides: overrides, defaults: defaults).write(to: directory)
    }

    /// Copies `Package.resolved` from the package root: the dependency versions the
    /// executable was built with (as of now; a warning if it cannot be copied).
    static func copyPackageResolved(from packageRoot: String?, into directory: URL, messages: Logging.Logger) {
        guard let packageRoot else { return }
        let source = packageRoot + "/" + RunLayout.packageResolvedName
        do {
            guard let bytes = try FileSystem.readIfPresent(source) else { return }
            try AtomicFile.write(bytes, to: RunLayout(directory).packageResolved.path)
        } catch {
            messages.warning("could not copy \(source) into the run directory: \(error)")
        }
    }
}

/// `NOKO_RUN_LINKS`: a JSON object a launcher attaches to the run (`{"sweep": …}`),
/// recorded as `links` in `metadata.json`.
enum LaunchLinks {
    static let variable = "NOKO_RUN_LINKS"

    static func read(_ environment: [String: String]) throws(LaunchConfigError) -> [String: JSONValue]? {
        guard let text = environment[variable], !text.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: text)
        } catch let error as JSONParseError {
            let (line, column) = LaunchConfigFile.lineAndColumn(of: error.offset, in: Array(text.utf8))
            throw LaunchConfigError("\(variable): expected a JSON object; malformed JSON at line \(line), column \(column): \(error.message)")
        } catch {
            throw LaunchConfigError("\(variable): expected a JSON object; malformed JSON: \(error)")
        }
        guard case .object(let members) = value else {
            throw LaunchConfigError("\(variable): expected a JSON object ({\"sweep\": …}), found \(value.serialized().prefix(40))")
        }
        return members
    }
}

extension LaunchValue {
    /// The value as recorded when it never went through the config type: text as a string.
    var recorded: JSONValue {
        switch self {
        case .json(let json): return json
        case .text(let text): return .string(SecretRedactor.strippingCredentials(text))
        case .array(let elements): return .array(elements.map(\.recorded))
        case .object(let members): return .object(members.mapValues(\.recorded))
        }
    }
}
