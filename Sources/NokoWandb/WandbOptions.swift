import NokoCore

/// How a run talks to wandb: given in the run options (`Noko.initExtra(…, wandb:)`).
///
/// Every field is optional; unset fields come from the environment the way the official
/// client reads it (`WANDB_PROJECT`, `WANDB_ENTITY`, `WANDB_BASE_URL`, `WANDB_MODE`,
/// `WANDB_RUN_GROUP`, `WANDB_TAGS`, `WANDB_NOTES`, `WANDB_RUN_ID`, `WANDB_NAME`,
/// `WANDB_JOB_TYPE`), then from defaults. Passing any `WandbOptions` turns sync on; without
/// them it is on only when `WANDB_MODE` is `online`/`offline` or `WANDB_PROJECT` is set
/// (Python noko's `init_wandb=False` default). The API key is never an option: it comes
/// from `WANDB_API_KEY` or `~/.netrc`, so it cannot end up in a config or a run directory.
public struct WandbOptions: Sendable, Equatable {
    /// Where rows go.
    public enum Mode: String, Sendable, Equatable, CaseIterable {
        /// Upload while the run runs.
        case online
        /// Record locally; `noko-run sync RUN` uploads later.
        case offline
        /// No wandb at all.
        case disabled
    }

    /// What pressing Stop on the run's wandb page does to the program.
    public enum StopAction: String, Sendable, Equatable, CaseIterable {
        /// Only sets `run.stopRequested`: a training loop that polls it ends itself.
        case flag
        /// Sends the program SIGTERM, so the run finishes as `killed` as with `kill` or
        /// `scancel` (SIGINT would not reach a background or `nohup` job, which ignore it).
        case terminate
    }

    /// What happens to the rows of ranks other than 0 in a distributed run.
    public enum OtherRanks: String, Sendable, Equatable {
        /// Only rank 0's journal is uploaded (the default, as wandb recommends for
        /// distributed training; every rank's rows stay in the run directory).
        case skip
        /// Every rank's rows are uploaded, keys `<table>/rank<N>/<key>` for rank N > 0,
        /// on the table's own step axis.
        case prefixed
    }

    /// The wandb project; default `WANDB_PROJECT`, else `uncategorized` (as the SDK).
    public var project: String?
    /// The entity (user or team); default `WANDB_ENTITY`, else the server's default for the key.
    public var entity: String?
    /// The run ID (the last segment of the run's URL); default `WANDB_RUN_ID`, else 8
    /// characters of `[a-z0-9]`. Kept across resumes in `sync/wandb.json`.
    public var runID: String?
    /// The name shown on the dashboard; default `WANDB_NAME`, else the noko run name.
    public var displayName: String?
    /// Run group; default `WANDB_RUN_GROUP`.
    public var group: String?
    /// Job type; default `WANDB_JOB_TYPE`.
    public var jobType: String?
    /// Tags; default `WANDB_TAGS` (comma-separated).
    public var tags: [String]?
    /// Notes; default `WANDB_NOTES`.
    public var notes: String?
    /// The server; default `WANDB_BASE_URL`, else `https://api.wandb.ai`.
    public var baseURL: String?
    /// Online, offline or disabled; default `WANDB_MODE`, else online.
    public var mode: Mode?
    /// Rows below this level are not uploaded (they stay in the journal). Default: none
    /// skipped, since noko logs everything on purpose.
    public var minimumLevel: LogLevel?
    /// Ranks other than 0: see ``OtherRanks``. Default ``OtherRanks/skip``.
    public var otherRanks: OtherRanks
    /// What Stop on the dashboard does: see ``StopAction``. Default ``StopAction/terminate``.
    public var stopAction: StopAction
    /// Whether the `config` table's row goes up as history too, as it used to: by default
    /// it stays in the journal, since the dashboard's config panel shows the
    /// config and the row made one-point charts and `config/*` summary columns.
    public var sendsConfigTable: Bool
    /// At most one upload request per interval after the first (the SDK's 15 s).
    public var transmitInterval: Duration
    /// An empty request keeps the run alive after this long without one (the SDK's 30 s).
    public var heartbeatInterval: Duration
    /// How long `finish` waits for the upload before leaving the rest to `noko-run sync`.
    public var finishTimeout: Duration
    /// Connection set-up limit per try.
    public var connectTimeout: Duration
    /// Whole-request limit per try for GraphQL (the SDK's 30 s).
    public var graphQLTimeout: Duration
    /// Whole-request limit per try for file_stream (the SDK's 180 s).
    public var fileStreamTimeout: Duration
    /// Retry timing and limits.
    public var retry: WandbRetryPolicy
    /// Requests are split above this many bytes (the SDK's 10 MiB).
    public var maxRequestBytes: Int
    /// Log libcurl's connection and header trace at debug level (the `Authorization`
    /// header and the key are redacted). Also switched on by `NOKO_WANDB_DEBUG=1`.
    public var debugHTTP: Bool

    /// Options with every field unset (environment and defaults decide).
    public init(
        project: String? = nil, entity: String? = nil, runID: String? = nil, displayName: String? = nil,
        group: String? = nil, jobType: String? = nil, tags: [String]? = nil, notes: String? = nil,
        baseURL: String? = nil, mode: Mode? = nil, minimumLevel: LogLevel? = nil, otherRanks: OtherRanks = .skip,
        stopAction: StopAction = .terminate, sendsConfigTable: Bool = false, transmitInterval: Duration = .seconds(15), heartbeatInterval: Duration = .seconds(30),
        finishTimeout: Duration = .seconds(30), connectTimeout: Duration = .seconds(20),
        graphQLTimeout: Duration = .seconds(30), fileStreamTimeout: Duration = .seconds(180),
        retry: WandbRetryPolicy = WandbRetryPolicy(), maxRequestBytes: Int = 10 << 20, debugHTTP: Bool = false
    ) {
        self.project = project
        self.entity = entity
        self.runID = runID
        self.displayName = displayName
        self.group = group
        self.jobType = jobType
        self.tags = tags
        self.notes = notes
        self.baseURL = baseURL
        self.mode = mode
        self.minimumLevel = minimumLevel
        self.otherRanks = otherRanks
        self.stopAction = stopAction
        self.sendsConfigTable = sendsConfigTable
        self.transmitInterval = transmitInterval
        self.heartbeatInterval = heartbeatInterval
        self.finishTimeout = finishTimeout
        self.connectTimeout = connectTimeout
        self.graphQLTimeout = graphQLTimeout
        self.fileStreamTimeout = fileStreamTimeout
        self.retry = retry
        self.maxRequestBytes = maxRequestBytes
        self.debugHTTP = debugHTTP
    }
}

/// Exponential backoff with jitter, as wandb-core's HTTP clients (docs/wandb-protocol.md, "Retries"):
/// wait = min(max, min · 2^attempt · (1 + 0.25·random)); a `Retry-After` header replaces
/// the computed wait.
public struct WandbRetryPolicy: Sendable, Equatable {
    /// The first wait.
    public var minimumWait: Duration
    /// The longest computed wait.
    public var maximumWait: Duration
    /// The longest `Retry-After` honoured (a server asking for more gets this).
    public var maximumRetryAfter: Duration
    /// Tries after the first for file_stream (the SDK's 10085, about 7 days).
    public var fileStreamRetries: Int
    /// Tries after the first for GraphQL (the SDK's 20).
    public var graphQLRetries: Int
    /// Tries after the first for a run file's upload (Files tab). Fewer than the SDK's 20:
    /// noko sends one request at a time, so a failing file store would hold back the rows;
    /// a file that still fails is uploaded by the next session or `noko-run sync`.
    public var uploadRetries: Int

    /// The SDK's policy.
    public init(
        minimumWait: Duration = .seconds(2), maximumWait: Duration = .seconds(60),
        maximumRetryAfter: Duration = .seconds(600), fileStreamRetries: Int = 10085, graphQLRetries: Int = 20,
        uploadRetries: Int = 4
    ) {
        self.minimumWait = minimumWait
        self.maximumWait = maximumWait
        self.maximumRetryAfter = maximumRetryAfter
        self.fileStreamRetries = fileStreamRetries
        self.graphQLRetries = graphQLRetries
        self.uploadRetries = uploadRetries
    }
}
