import Foundation
import NokoCore

/// What the run module knows about a run that every remote should know too.
///
/// `Noko.initExtra` fills it from its own records; `noko-run sync` builds it from
/// `metadata.json` and `config.json` (``init(directory:metadata:config:)``).
package struct RemoteRunInfo: Sendable {
    /// The run directory (the journal is `noko.ndjson` in it).
    package var directory: URL
    /// The noko run name: the default display name on the dashboard.
    package var runName: String
    /// When the run started, in Unix seconds: `_runtime` counts from here.
    package var startTime: Double
    /// The config, already redacted as in `config.json`.
    package var config: JSONValue
    /// The machine's name.
    package var host: String?
    /// The program (its path or name).
    package var program: String?
    /// The repository's HEAD commit: one everybody with the repository can open (the
    /// checkpoint commit exists only in the repository that took it).
    package var gitCommit: String?
    /// The checkpoint commit on `noko-checkpoints`: the exact code, for those who have it.
    package var gitCheckpoint: String?
    /// The repository's remote URL (userinfo is stripped before it is sent).
    package var gitRemoteURL: String?
    /// The branch HEAD was on (nil when detached).
    package var gitBranch: String?
    /// This process's rank; only rank 0 talks to remotes.
    package var rank: Int

    /// Everything given explicitly.
    package init(
        directory: URL, runName: String, startTime: Double, config: JSONValue = .object([:]), host: String? = nil,
        program: String? = nil, gitCommit: String? = nil, gitCheckpoint: String? = nil, gitRemoteURL: String? = nil,
        gitBranch: String? = nil, rank: Int = 0
    ) {
        self.directory = directory
        self.runName = runName
        self.startTime = startTime
        self.config = config
        self.host = host
        self.program = program
        self.gitCommit = gitCommit
        self.gitCheckpoint = gitCheckpoint
        self.gitRemoteURL = gitRemoteURL
        self.gitBranch = gitBranch
        self.rank = rank
    }

    /// From a run directory's `metadata.json` (`run_name`, `start_time`, `host`,
    /// `program`, `git.checkpoint`/`git.head`, `git.remote_url`, `git.branch`) and its config.
    package init(directory: URL, metadata: JSONValue, config: JSONValue) {
        let git = metadata["git"]
        self.init(
            directory: directory,
            runName: metadata["run_name"]?.stringValue ?? directory.lastPathComponent,
            startTime: metadata["start_time"]?.doubleValue ?? 0,
            config: config,
            host: metadata["host"]?.stringValue,
            program: metadata["program"]?.stringValue,
            gitCommit: git?["head"]?.stringValue, gitCheckpoint: git?["checkpoint"]?.stringValue,
            gitRemoteURL: git?["remote_url"]?.stringValue, gitBranch: git?["branch"]?.stringValue,
            rank: 0
        )
    }
}
