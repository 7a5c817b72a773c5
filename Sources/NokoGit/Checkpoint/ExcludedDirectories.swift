import NokoCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
        let name = "metadata.json"
        guard metadataPath.hasSuffix("/" + name) else { return nil }
        guard let bytes = readSmallFile(workdir + metadataPath),
            let metadata = try? JSONValue(parsing: bytes),
            metadata.objectValue?["format_version"] != nil
        else { return nil }
        return String(metadataPath.dropLast(name.count))
    }

    /// Reads up to 4 MiB: a run's metadata is a few kilobytes; anything bigger is not one.
    private static func readSmallFile(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        let limit = 4 << 20
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while bytes.count <= limit {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 { return nil }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return nil
    }
}
