import Foundation
import NokoPlatform

/// `overrides.json`: what the launch gave, in the order it was applied (config files, then
/// overrides, each with its source), and the code's defaults. With `config.json` and
/// `metadata.json`'s `build`, it is enough to relaunch the run with the same config. The
/// run module writes it; `noko-run show`, `list` and `compare` read it.
package struct OverridesFile: Sendable, Equatable {
    /// The newest layout this noko reads and writes.
    package static let formatVersion = 1

    /// One override as given.
    package struct Override: Sendable, Equatable {
        /// `argument` or `NOKO_OVERRIDES`.
        package var source: String
        /// The override as given (`lr=0.1`), its value `<redacted>` under a secret-looking key.
        package var text: String
        /// `set`, `add`, `set_or_add` or `remove`.
        package var operation: String
        /// The path, dotted (`model.layers`, `hidden[1]`).
        package var path: String
        /// The value it gave the config, typed (absent for `remove`).
        package var value: JSONValue?

        package init(source: String, text: String, operation: String, path: String, value: JSONValue?) {
            (self.source, self.text, self.operation, self.path, self.value) = (source, text, operation, path, value)
        }

        /// The path as the `config` table and `noko-run` spell it (`model/layers`).
        package var key: String { path.replacingOccurrences(of: ".", with: "/") }
    }

    /// One config file given at launch.
    package struct ConfigFile: Sendable, Equatable {
        /// `NOKO_CONFIG` or `--config`.
        package var source: String
        /// The path as given.
        package var path: String
        /// The copy's name in the run directory.
        package var copy: String
        /// `json` or `yaml`.
        package var format: String

        package init(source: String, path: String, copy: String, format: String) {
            (self.source, self.path, self.copy, self.format) = (source, path, copy, format)
        }
    }

    package var configFiles: [ConfigFile]
    package var overrides: [Override]
    /// The code's defaults (secrets redacted).
    package var defaults: JSONValue

    package init(configFiles: [ConfigFile], overrides: [Override], defaults: JSONValue) {
        (self.configFiles, self.overrides, self.defaults) = (configFiles, overrides, defaults)
    }

    /// The launch as words: `--config run.yaml lr=0.1 model.layers=4` (a `NOKO_CONFIG` file
    /// as `NOKO_CONFIG=path`); empty when the code's defaults ran unchanged.
    package var launchWords: [String] {
        configFiles.flatMap { $0.source == "--config" ? ["--config", $0.path] : ["\($0.source)=\($0.path)"] } + overrides.map(\.text)
    }

    package var json: JSONValue {
        .object([
            "format_version": .int(Int64(Self.formatVersion)),
            "config_files": .array(configFiles.map { file in
                ["source": .string(file.source), "path": .string(file.path), "copy": .string(file.copy), "format": .string(file.format)]
            }),
            "overrides": .array(overrides.map { override in
                var members: [String: JSONValue] = [
                    "source": .string(override.source), "text": .string(override.text),
                    "operation": .string(override.operation), "path": .string(override.path),
                ]
                if let value = override.value { members["value"] = value }
                return .object(members)
            }),
            "defaults": defaults,
        ])
    }

    /// Reads `overrides.json`'s content; `path` names the file in errors.
    package init(json: JSONValue, path: String) throws(LogFileError) {
        try RunFileFormat.checkVersion(json, newest: Self.formatVersion, path: path)
        func text(_ member: JSONValue, _ key: String, _ list: String) throws(LogFileError) -> String {
            guard let value = member[key]?.stringValue else {
                throw LogFileError(path: path, message: "expected a string \"\(key)\" in each of \"\(list)\"")
            }
            return value
        }
        var files: [ConfigFile] = []
        for member in json["config_files"]?.arrayValue ?? [] {
            files.append(
                ConfigFile(
                    source: try text(member, "source", "config_files"), path: try text(member, "path", "config_files"),
                    copy: try text(member, "copy", "config_files"), format: try text(member, "format", "config_files")))
        }
        var overrides: [Override] = []
        for member in json["overrides"]?.arrayValue ?? [] {
            overrides.append(
                Override(
                    source: try text(member, "source", "overrides"), text: try text(member, "text", "overrides"),
                    operation: try text(member, "operation", "overrides"), path: try text(member, "path", "overrides"),
                    value: member["value"]))
        }
        self.init(configFiles: files, overrides: overrides, defaults: json["defaults"] ?? .object([:]))
    }

    /// The `overrides.json` of run directory `directory`; nil when it has none (a run from
    /// before launch-time config, or from `Noko.initialize`).
    package static func read(from directory: URL) throws(LogFileError) -> OverridesFile? {
        let url = RunLayout(directory).overrides
        guard let json = try RunFileFormat.readJSON(url) else { return nil }
        return try OverridesFile(json: json, path: url.path)
    }

    /// Writes `overrides.json` into `directory`, atomically.
    package func write(to directory: URL) throws(NokoSystemError) {
        try RunFileFormat.write(json, to: RunLayout(directory).overrides)
    }
}
