import NokoCore
import NokoPlatform

/// Directories whose working-tree content never enters a checkpoint: the runs directory,
/// the current run directory and every noko run directory found in the tree. Checkpointing
/// them would commit the logs of every run into the next one, and they pile up.
struct ExcludedDirectories {
    /// Relative paths, each ending in `/`.
    private(set) var directories: Set<String> = []

    /// Excludes `relativePath` (a directory, relative to the repository root) and all below.
    mutating func insert(_ relativePath: String) {
        guard !relativePath.isEmpty else { return }
        directories.insert(relativePath.hasSuffix("/") ? relativePath : relativePath + "/")
    }

    /// Whether `path` (relative to the repository root) lies in an excluded directory.
    func contains(_ path: String) -> Bool {
        guard !directories.isEmpty else { return false }
        var index = path.startIndex
        while let slash = path[index...].firstIndex(of: "/") {
            let next = path.index(after: slash)
            if directories.contains(String(path[..<next])) { return true }
            index = next
        }
        return false
    }

    /// The directory holding `metadataPath` if that file marks a noko run directory: a
    /// `metadata.json` whose top-level object has a `format_version` key.
    static func runDirectory(ofMetadataFile metadataPath: String, workdir: String) -> String? {
        let name = RunLayout.metadataName
        guard metadataPath.hasSuffix("/" + name) else { return nil }
        // A run's metadata is a few kilobytes; anything over 4 MiB is not one.
        guard let bytes = (try? FileSystem.read(workdir + metadataPath, limit: 4 << 20)) ?? nil,
            let metadata = try? JSONValue(parsing: bytes),
            metadata.objectValue?["format_version"] != nil
        else { return nil }
        return String(metadataPath.dropLast(name.count))
    }
}
