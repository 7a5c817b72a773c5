import NokoPlatform

/// File names that usually hold credentials. An untracked file matching one is left out of
/// checkpoints unless the user opts in: a checkpoint commit is easy to push by accident.
enum SecretFileNames {
    /// Shell patterns matched against the file's name (not its directory).
    static let patterns = [
        ".env", ".env.*", "*.pem", "*.key", "id_rsa*", "id_ed25519*", "*.p12", "credentials*.json",
        ".netrc", ".pgpass",
    ]

    /// Whether the last component of `path` matches one of `patterns`.
    static func matches(_ path: String) -> Bool {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return patterns.contains { CLibrary.matchesShellPattern($0, name) }
    }
}
