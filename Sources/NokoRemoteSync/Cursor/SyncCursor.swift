import Foundation
import NokoCore
import NokoPlatform

/// One journal's progress in a cursor.
package struct JournalProgress: Sendable, Equatable {
    /// Byte offset of the first row not yet acknowledged.
    package var offset: Int64
    /// Rows consumed up to `offset` (uploaded, or skipped by the remote).
    package var rows: Int64

    package init(offset: Int64, rows: Int64) {
        self.offset = offset
        self.rows = rows
    }
}

/// A remote's `sync/<remote>.json`: how far the upload got, and everything needed to finish
/// it from the run directory alone.
///
/// The engine owns the parts every remote shares (the byte offset acknowledged per journal,
/// the user's summary keys, whether the remote run was finished, the last error) and writes
/// the file atomically after every acknowledged request, so that after any crash it says
/// exactly what the server has; the remote adds what it needs to reopen its run.
package protocol SyncCursor: Sendable, Equatable {
    /// The newest `format_version` this noko writes and reads.
    static var formatVersion: Int64 { get }
    /// Keyed by path relative to the run directory: `noko.ndjson`, `rank-1/noko.ndjson`.
    var journals: [String: JournalProgress] { get set }
    /// Whether the journals of ranks other than 0 are uploaded too.
    var uploadsOtherRanks: Bool { get }
    /// Rows the remote holds in total (for the progress bar).
    var rowsAcknowledged: Int64 { get }
    /// Keys set with `run.summary[…] = …`, as last acknowledged.
    var userSummary: [String: JSONValue] { get set }
    /// True once the server acknowledged the run's end.
    var finished: Bool { get set }
    /// The exit code the remote run was finished with.
    var exitCode: Int64? { get set }
    /// The last error that stopped an upload (for `noko-run show`), redacted.
    var lastError: String? { get set }

    /// The file's JSON, `format_version` included.
    var jsonValue: JSONValue { get }
    /// Reads a cursor back (the version already checked); the error names what is missing
    /// or wrong.
    init(json: JSONValue, path: String) throws(SyncCursorError)
}

extension SyncCursor {
    /// The cursor of `remote` in `directory`, nil when there is none.
    package static func load(from directory: URL, remote: String) throws(SyncCursorError) -> Self? {
        let file = RunLayout(directory).syncCursor(remote)
        let data: [UInt8]
        do {
            guard let bytes = try FileSystem.readIfPresent(file.path) else { return nil }
            data = bytes
        } catch {
            throw .invalid("\(error)")
        }
        do {
            let json = try JSONValue(parsing: data)
            do {
                try RunFileFormat.checkVersion(json, newest: Int(formatVersion), path: file.path)
            } catch {
                throw SyncCursorError.invalid(error.message)
            }
            return try Self(json: json, path: file.path)
        } catch let error as SyncCursorError {
            throw .invalid("\(file.path): \(error.reason)")
        } catch {
            throw .invalid("\(file.path): \(error)")
        }
    }

    /// Writes the cursor atomically: readers see the old file or the new one, never half.
    package func save(to directory: URL, remote: String) throws(SyncCursorError) {
        let file = RunLayout(directory).syncCursor(remote)
        do {
            try FileSystem.makeDirectories(file.deletingLastPathComponent().path)
            try RunFileFormat.write(jsonValue, to: file)
        } catch {
            throw .unwritable("\(error)")
        }
    }

    /// Journal bytes acknowledged, and the journals' size now (at least that).
    package func journalBytes(in directory: URL) -> (acknowledged: Int64, total: Int64) {
        let paths = JournalSource.paths(in: directory, otherRanks: uploadsOtherRanks)
        let total = paths.reduce(Int64(0)) { sum, path in
            sum + Int64(FileSystem.info(directory.appendingPathComponent(path).path)?.size ?? 0)
        }
        let done = paths.reduce(Int64(0)) { $0 + (journals[$1]?.offset ?? 0) }
        return (done, max(total, done))
    }

    /// True when every row of every uploaded journal is acknowledged.
    package func isFullyUploaded(in directory: URL) -> Bool {
        JournalSource.paths(in: directory, otherRanks: uploadsOtherRanks).allSatisfy { path in
            let size = Int64(FileSystem.info(directory.appendingPathComponent(path).path)?.size ?? 0)
            return (journals[path]?.offset ?? 0) >= size
        }
    }
}

/// A cursor file could not be read or written.
package enum SyncCursorError: Error, Sendable, CustomStringConvertible {
    case invalid(String)
    case unwritable(String)

    package var reason: String {
        switch self {
        case .invalid(let reason), .unwritable(let reason): return reason
        }
    }

    package var description: String {
        switch self {
        case .invalid(let reason): return "unreadable sync state: \(reason)"
        case .unwritable(let reason): return "cannot write sync state: \(reason)"
        }
    }
}
