import Foundation
import NokoPlatform

/// The rules every JSON file of a run directory follows, checked in one place: a top-level
/// object with an integer `format_version`, no newer than the reader knows. Fields a reader
/// does not know are ignored, so files that later versions extend with optional fields stay
/// readable; only an incompatible change raises `format_version`.
package enum RunFileFormat {
    /// The JSON value of the file at `url`, nil when there is no such file. Errors name the
    /// file: unreadable, malformed JSON.
    package static func readJSON(_ url: URL) throws(LogFileError) -> JSONValue? {
        let bytes: [UInt8]
        do {
            guard let read = try FileSystem.readIfPresent(url.path) else { return nil }
            bytes = read
        } catch {
            throw LogFileError(path: url.path, message: "cannot read: \(error.reason)")
        }
        do {
            return try JSONValue(parsing: bytes)
        } catch {
            throw LogFileError(path: url.path, message: "expected JSON, found malformed text (\(error))")
        }
    }

    /// Checks that `json` is an object whose `format_version` is at most `newest`.
    package static func checkVersion(_ json: JSONValue, newest: Int, path: String) throws(LogFileError) {
        guard case .object = json else {
            throw LogFileError(path: path, message: "expected a JSON object, found \(json.serialized().prefix(40))")
        }
        guard json["format_version"]?.intValue != nil else {
            throw LogFileError(path: path, message: "expected an integer \"format_version\"; found none")
        }
        try refuseNewer(json, newest: newest, path: path)
    }

    /// Throws when `json`'s `format_version` is newer than `newest` (the rows may mean
    /// something else), and only then: readers that take damaged files as absent still stop here.
    package static func refuseNewer(_ json: JSONValue, newest: Int, path: String) throws(LogFileError) {
        guard let version = json["format_version"]?.intValue, version > Int64(newest) else { return }
        throw LogFileError(
            path: path,
            message: "written by a newer noko (format_version \(version); this noko reads format_version \(newest) and older); upgrade noko")
    }

    /// Writes `json` atomically into `url`, canonical (sorted keys) and pretty-printed.
    package static func write(_ json: JSONValue, to url: URL) throws(NokoSystemError) {
        try AtomicFile.write(json.serializedBytes(pretty: true), to: url.path)
    }
}
