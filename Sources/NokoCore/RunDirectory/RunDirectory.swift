import Foundation
import NokoPlatform


/// Creates run directories: unique, atomically, with a readable default name.
package enum RunDirectory {
    /// `<program>_<local time>`, e.g. `train_2026-11-27T102738` (ISO 8601, basic time format:
    /// no `:` in file names).
    package static func defaultName(program: String = ProcessInfo.processInfo.processName, date: Double = RowClock.system.now()) -> String {
        let local = LocalTimeFormatter.localTime(Int(date))
        return "\(program)_\(local.replacingOccurrences(of: ":", with: ""))"
    }

    /// What already exists is an error unless asked otherwise.
    package enum Collision: Sendable {
        /// Another directory with this name exists: append `_2`, `_3`… until one is free.
        case uniquify
        /// Fail when the directory exists.
        case fail
        /// Use the existing directory (resume, or a rank joining its run).
        case reuse
    }

    /// Creates `runsDirectory/name` (and `runsDirectory` itself when needed).
    ///
    /// Creation is `mkdir`, which is atomic: two processes starting in the same second get
    /// two directories.
    /// - Returns: the directory and its final name.
    package static func create(in runsDirectory: URL, name: String, collision: Collision) throws -> (url: URL, name: String) {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw RunDirectoryError.invalidName(name)
        }
        try FileSystem.makeDirectories(runsDirectory.standardizedFileURL.path)
        var candidate = name
        var n = 1
        while true {
            let url = runsDirectory.appendingPathComponent(candidate)
            if try FileSystem.makeDirectory(url.path) { return (url, candidate) }
            switch collision {
            case .reuse: return (url, candidate)
            case .fail: throw RunDirectoryError.exists(url.path)
            case .uniquify:
                n += 1
                candidate = "\(name)_\(n)"
            }
        }
    }
}

/// Why a run directory could not be made.
public enum RunDirectoryError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The directory exists and reuse was not asked for.
    case exists(String)
    /// The name cannot be a directory name.
    case invalidName(String)

    public var description: String {
        switch self {
        case .exists(let path):
            return "run directory \(path) already exists; choose another run name, or resume it explicitly"
        case .invalidName(let name):
            return "invalid run name \(name.debugDescription): it must be a single path component"
        }
    }
}
