/// What a checkpoint recorded: exactly the object stored under `"git"` in a run's
/// `metadata.json` (snake_case keys; absent values are JSON `null`, never omitted).
public struct GitCheckpointRecord: Codable, Sendable, Equatable {
    /// The repository's working tree (absolute path, no trailing `/`).
    public var root: String
    /// The branch HEAD is on; nil when detached.
    public var branch: String?
    /// Whether HEAD is detached.
    public var detached: Bool
    /// The commit HEAD points at; nil on an unborn branch (no commit yet).
    public var head: String?
    /// Whether the working tree differs from HEAD in any file noko looks at (captured or
    /// skipped; noko's run directories do not count).
    public var dirty: Bool
    /// The checkpoint commit holding the exact code.
    public var checkpoint: String
    /// The branch that holds the checkpoints (`noko-checkpoints` by default).
    public var checkpointBranch: String
    /// The checkpoint this one follows on that branch; nil for the branch's first.
    public var previousCheckpoint: String?
    /// Files (and submodules) in the checkpoint.
    public var files: Int
    /// Their total size in bytes.
    public var bytes: Int64
    /// Files in the working tree that the checkpoint does not hold as they are on disk.
    public var skipped: [GitSkippedFile]
    /// The URL of `origin` (else the first remote), with any user name and password removed.
    public var remoteURL: String?
    /// Size of `from_head.diff`.
    public var fromHead: GitDiffStats
    /// Size of `from_last_checkpoint.diff`.
    public var fromLastCheckpoint: GitDiffStats

    /// Makes a record; `GitCheckpoint.checkpoint` is the usual source.
    public init(
        root: String, branch: String?, detached: Bool, head: String?, dirty: Bool, checkpoint: String,
        checkpointBranch: String, previousCheckpoint: String?, files: Int, bytes: Int64,
        skipped: [GitSkippedFile], remoteURL: String?, fromHead: GitDiffStats, fromLastCheckpoint: GitDiffStats
    ) {
        self.root = root
        self.branch = branch
        self.detached = detached
        self.head = head
        self.dirty = dirty
        self.checkpoint = checkpoint
        self.checkpointBranch = checkpointBranch
        self.previousCheckpoint = previousCheckpoint
        self.files = files
        self.bytes = bytes
        self.skipped = skipped
        self.remoteURL = remoteURL
        self.fromHead = fromHead
        self.fromLastCheckpoint = fromLastCheckpoint
    }

    enum CodingKeys: String, CodingKey {
        case root, branch, detached, head, dirty, checkpoint
        case checkpointBranch = "checkpoint_branch"
        case previousCheckpoint = "previous_checkpoint"
        case files, bytes, skipped
        case remoteURL = "remote_url"
        case fromHead = "from_head"
        case fromLastCheckpoint = "from_last_checkpoint"
    }

    /// Reads a record; `checkpoint_branch`, `skipped` and the diff counts may be absent.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        root = try c.decode(String.self, forKey: .root)
        branch = try c.decodeIfPresent(String.self, forKey: .branch)
        detached = try c.decode(Bool.self, forKey: .detached)
        head = try c.decodeIfPresent(String.self, forKey: .head)
        dirty = try c.decode(Bool.self, forKey: .dirty)
        checkpoint = try c.decode(String.self, forKey: .checkpoint)
        checkpointBranch = try c.decodeIfPresent(String.self, forKey: .checkpointBranch) ?? "noko-checkpoints"
        previousCheckpoint = try c.decodeIfPresent(String.self, forKey: .previousCheckpoint)
        files = try c.decode(Int.self, forKey: .files)
        bytes = try c.decode(Int64.self, forKey: .bytes)
        skipped = try c.decodeIfPresent([GitSkippedFile].self, forKey: .skipped) ?? []
        remoteURL = try c.decodeIfPresent(String.self, forKey: .remoteURL)
        fromHead = try c.decodeIfPresent(GitDiffStats.self, forKey: .fromHead) ?? GitDiffStats()
        fromLastCheckpoint = try c.decodeIfPresent(GitDiffStats.self, forKey: .fromLastCheckpoint) ?? GitDiffStats()
    }

    /// Writes every key, absent values as `null`.
    public func encode(to encoder: any Encoder) throws {
        // `encode`, not `encodeIfPresent`: a stable schema with explicit nulls.
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(root, forKey: .root)
        try c.encode(branch, forKey: .branch)
        try c.encode(detached, forKey: .detached)
        try c.encode(head, forKey: .head)
        try c.encode(dirty, forKey: .dirty)
        try c.encode(checkpoint, forKey: .checkpoint)
        try c.encode(checkpointBranch, forKey: .checkpointBranch)
        try c.encode(previousCheckpoint, forKey: .previousCheckpoint)
        try c.encode(files, forKey: .files)
        try c.encode(bytes, forKey: .bytes)
        try c.encode(skipped, forKey: .skipped)
        try c.encode(remoteURL, forKey: .remoteURL)
        try c.encode(fromHead, forKey: .fromHead)
        try c.encode(fromLastCheckpoint, forKey: .fromLastCheckpoint)
    }
}

/// A working-tree file the checkpoint does not hold as it is on disk.
public struct GitSkippedFile: Codable, Sendable, Equatable {
    /// Why a file was skipped.
    public enum Reason: String, Codable, Sendable {
        /// Larger than `CheckpointOptions.maxFileSize`.
        case tooLarge = "too_large"
        /// Would have taken the checkpoint past `CheckpointOptions.maxTotalSize`.
        case overTotal = "over_total"
        /// An untracked file that looks like a secret (`.env`, `*.pem`, …).
        case secret
    }

    /// Path relative to the repository root, `/`-separated.
    public var path: String
    /// Why it was skipped.
    public var reason: Reason
    /// Size on disk in bytes.
    public var size: Int64

    /// Makes an entry of the skipped list.
    public init(path: String, reason: Reason, size: Int64) {
        self.path = path
        self.reason = reason
        self.size = size
    }
}

/// How big a diff is, as `git diff --shortstat` counts.
public struct GitDiffStats: Codable, Sendable, Equatable {
    /// Files added, deleted, modified or renamed.
    public var filesChanged: Int
    /// Lines added.
    public var insertions: Int
    /// Lines removed.
    public var deletions: Int

    /// Makes counts; the default is an empty diff.
    public init(filesChanged: Int = 0, insertions: Int = 0, deletions: Int = 0) {
        self.filesChanged = filesChanged
        self.insertions = insertions
        self.deletions = deletions
    }

    enum CodingKeys: String, CodingKey {
        case filesChanged = "files_changed"
        case insertions, deletions
    }
}
