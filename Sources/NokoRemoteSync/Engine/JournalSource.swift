import Foundation
import NokoCore
import NokoPlatform

/// One journal the upload reads: rank 0's `noko.ndjson` or a `rank-<N>/noko.ndjson`.
package final class JournalSource {
    /// Path relative to the run directory: the key in the cursor's `journals`.
    let relativePath: String
    let rank: Int
    let reader: LineReader
    var warnedMalformed = false
    var warnedInvalid = false

    init(directory: URL, relativePath: String, rank: Int, offset: Int64) {
        self.relativePath = relativePath
        self.rank = rank
        self.reader = LineReader(
            path: directory.appendingPathComponent(relativePath).path, offset: UInt64(offset), missingFileIsEmpty: true,
            skipsBlankLines: true)
    }

    /// The journal's size now, or 0 when it does not exist yet.
    var fileSize: Int64 {
        Int64(FileSystem.info(reader.path)?.size ?? 0)
    }

    package static let mainJournal = RunLayout.journalName

    /// The other ranks' journals in `directory`, by rank: `rank-<N>/noko.ndjson`, N > 0.
    package static func rankJournals(in directory: URL) -> [(rank: Int, relativePath: String)] {
        guard let entries = try? FileSystem.contentsOfDirectory(directory.path) else { return [] }
        var found: [(Int, String)] = []
        for entry in entries {
            guard let rank = RunLayout.rank(ofDirectoryNamed: entry) else { continue }
            let path = "\(entry)/\(mainJournal)"
            if FileSystem.exists(directory.appendingPathComponent(path).path) {
                found.append((rank, path))
            }
        }
        return found.sorted { $0.0 < $1.0 }
    }
}

extension JournalSource {
    /// The journals an upload reads, relative to `directory`: rank 0's, then the other
    /// ranks' when the remote uploads them.
    package static func paths(in directory: URL, otherRanks: Bool) -> [String] {
        var paths = [mainJournal]
        if otherRanks { paths += rankJournals(in: directory).map(\.relativePath) }
        return paths
    }
}
