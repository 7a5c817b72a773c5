import Foundation

/// How `GitCheckpoint.checkpoint` snapshots the working tree.
public struct CheckpointOptions: Sendable, Equatable {
    /// Where to look for the repository: this directory or any parent. Default: the current
    /// working directory.
    public var searchPath: URL
    /// Files larger than this are not captured (bytes; default 8 MiB). A tracked file over
    /// the cap keeps the version in the index, so the diffs do not show it deleted.
    public var maxFileSize: Int64
    /// The most a checkpoint captures from the working tree in total (bytes; default
    /// 100 MiB). Beyond it the largest files are skipped. Files unchanged since the index
    /// are already stored and never count.
    public var maxTotalSize: Int64
    /// Commit untracked files that look like secrets (`.env`, `*.pem`, `id_rsa`…) instead
    /// of skipping them with a warning. Default false.
    public var includeSecrets: Bool
    /// The directory holding the runs (e.g. `runs/`): never captured, ignored or not.
    public var runsDirectory: URL?
    /// The branch that collects the checkpoints. Default `noko-checkpoints`.
    public var branch: String

    /// The defaults; every parameter can be overridden.
    public init(
        searchPath: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true),
        maxFileSize: Int64 = 8 << 20,
        maxTotalSize: Int64 = 100 << 20,
        includeSecrets: Bool = false,
        runsDirectory: URL? = nil,
        branch: String = "noko-checkpoints"
    ) {
        self.searchPath = searchPath
        self.maxFileSize = maxFileSize
        self.maxTotalSize = maxTotalSize
        self.includeSecrets = includeSecrets
        self.runsDirectory = runsDirectory
        self.branch = branch
    }
}
