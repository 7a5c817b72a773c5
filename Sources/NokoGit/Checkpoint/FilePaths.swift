import Foundation
import NokoPlatform

/// Path arithmetic between the file system and a repository's `/`-separated relative paths.
enum FilePaths {
    /// `url`'s absolute path with symbolic links resolved, also when its last components do
    /// not exist yet (a run directory about to be made): the longest existing prefix is
    /// resolved and the rest appended.
    static func canonical(_ url: URL) -> String {
        var existing = url.standardizedFileURL.path
        var missing: [String] = []
        while true {
            if let base = FileSystem.canonicalPath(existing) {
                return ([base == "/" ? "" : base] + missing.reversed()).joined(separator: "/")
            }
            let parent = (existing as NSString).deletingLastPathComponent
            if parent == existing || parent.isEmpty { return url.standardizedFileURL.path }
            missing.append((existing as NSString).lastPathComponent)
            existing = parent
        }
    }

    /// `path` relative to `root` (which ends in `/`), or nil when it is outside `root` or is
    /// `root` itself.
    static func relative(_ path: String, to root: String) -> String? {
        let rootWithoutSlash = root.hasSuffix("/") ? String(root.dropLast()) : root
        guard path.hasPrefix(rootWithoutSlash + "/") else { return nil }
        let relative = String(path.dropFirst(rootWithoutSlash.count + 1))
        return relative.isEmpty ? nil : relative
    }
}
