import Foundation
import NokoCore

/// What the run module knows about the run that wandb should know too.
///
/// `Noko.initExtra` fills it from its own records; `noko-run sync` builds it from
/// `metadata.json` and `config.json` (``init(directory:metadata:config:)``).
public struct WandbRunInfo: Sendable {
    /// The run directory (the journal is `noko.ndjson` in it).
    public var directory: URL
    /// The noko run name: the default display name on the dashboard.
    public var runName: String
    /// When the run started, in Unix seconds: `_runtime` counts from here.
    public var startTime: Double
    /// The config, already redacted as in `config.json`.
    public var config: JSONValue
    /// The machine's name.
    public var host: String?
    /// The program (its path or name).
    public var program: String?
    /// The commit of the code: the checkpoint commit when there is one, else HEAD.
    public var gitCommit: String?
    /// The repository's remote URL (userinfo is stripped before it is sent).
    public var gitRemoteURL: String?
    /// This process's rank; only rank 0 talks to wandb.
    public var rank: Int

    /// Everything given explicitly.
    public init(
        directory: URL, runName: String, startTime: Double, config: JSONValue = .object([:]), host: String? = nil,
        program: String? = nil, gitCommit: String? = nil, gitRemoteURL: String? = nil, rank: Int = 0
    ) {
        self.directory = directory
        self.runName = runName
        self.startTime = startTime
        self.config = config
        self.host = host
        self.program = program
        self.gitCommit = gitCommit
        self.gitRemoteURL = gitRemoteURL
        self.rank = rank
    }

    /// From a run directory's `metadata.json` (`run_name`, `start_time`, `host`,
    /// `program`, `git.checkpoint`/`git.head`, `git.remote_url`) and its config.
    public init(directory: URL, metadata: JSONValue, config: JSONValue) {
        let git = metadata["git"]
        self.init(
            directory: directory,
            runName: metadata["run_name"]?.stringValue ?? directory.lastPathComponent,
            startTime: metadata["start_time"]?.doubleValue ?? 0,
            config: config,
            host: metadata["host"]?.stringValue,
            program: metadata["program"]?.stringValue,
            gitCommit: git?["checkpoint"]?.stringValue ?? git?["head"]?.stringValue,
            gitRemoteURL: git?["remote_url"]?.stringValue,
            rank: 0
        )
    }
}

/// Where the run lives on wandb: what the run module writes to `metadata.json` under
/// `remotes.wandb` (``jsonValue``).
public struct WandbRemoteRecord: Sendable, Equatable, Codable {
    /// The entity; nil until the server names the default one (when none was given).
    public var entity: String?
    /// The project.
    public var project: String
    /// The run ID.
    public var runID: String
    /// The run's dashboard page, once the entity is known.
    public var url: String?
    /// `online` or `offline` (offline: `noko-run sync` uploads it).
    public var mode: String

    /// A record.
    public init(entity: String?, project: String, runID: String, url: String?, mode: String) {
        self.entity = entity
        self.project = project
        self.runID = runID
        self.url = url
        self.mode = mode
    }

    enum CodingKeys: String, CodingKey {
        case entity, project, url, mode
        case runID = "run_id"
    }

    /// The record as JSON: `{"entity", "project", "run_id", "url", "mode"}`.
    public var jsonValue: JSONValue {
        var members: [String: JSONValue] = [
            "project": .string(project), "run_id": .string(runID), "mode": .string(mode),
        ]
        members["entity"] = entity.map(JSONValue.string) ?? .null
        members["url"] = url.map(JSONValue.string) ?? .null
        return .object(members)
    }
}
