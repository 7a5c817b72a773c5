import Foundation
import NokoPlatform

/// `config.json`: the run's config as recorded (nested structure kept, secrets redacted),
/// canonical JSON with sorted keys. The run module writes it; `noko-run` and the remotes
/// read it.
package enum ConfigFile {
    /// The config recorded in run directory `directory`; nil when it has none.
    package static func read(from directory: URL) throws(LogFileError) -> JSONValue? {
        try RunFileFormat.readJSON(RunLayout(directory).config)
    }

    /// Records `tree` as the config of run directory `directory`, atomically.
    package static func write(_ tree: JSONValue, to directory: URL) throws(NokoSystemError) {
        try RunFileFormat.write(tree, to: RunLayout(directory).config)
    }
}
