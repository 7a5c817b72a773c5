import NokoCore

/// How a run is mirrored on an MLflow tracking server: given in the run options
/// (`RunOptions.mlflow`), or by `MLFLOW_TRACKING_URI` (with `MLFLOW_EXPERIMENT_NAME`) in the
/// environment, as MLflow's own client reads them.
///
/// Credentials are never options: `MLFLOW_TRACKING_USERNAME` and `MLFLOW_TRACKING_PASSWORD`
/// (the server's basic auth), or `MLFLOW_TRACKING_TOKEN` (a bearer token), come from the
/// environment only, are held by libcurl, and are redacted from every message and artifact.
public struct MLflowOptions: Sendable, Equatable {
    /// The tracking server, `http://host:5000` (`MLFLOW_TRACKING_URI`). noko talks to a
    /// server over its REST API; a `file:` or database URI is refused with a message saying
    /// to start one (`mlflow server`).
    public var trackingURI: String?
    /// The experiment the run goes in, created when missing (`MLFLOW_EXPERIMENT_NAME`;
    /// default `Default`).
    public var experimentName: String?
    /// The run's name on the server (default: noko's run name).
    public var runName: String?
    /// Tags the run is created with, besides noko's own (`mlflow.source.*`, `noko.*`).
    public var tags: [String: String]
    /// At most one request per interval (rows logged meanwhile go in the next).
    public var transmitInterval: Duration
    /// How long `run.finish()` waits for the upload before leaving it for `noko-run sync`.
    public var finishTimeout: Duration
    /// The whole-request limit per try.
    public var requestTimeout: Duration
    /// Uploads every table's CSV as an artifact (`tables/<table>.csv`) when the run ends,
    /// besides the config, metadata, diffs and console that always go up.
    public var uploadsTables: Bool

    /// Options with the given fields; unset ones come from the environment, then defaults.
    public init(
        trackingURI: String? = nil, experimentName: String? = nil, runName: String? = nil, tags: [String: String] = [:],
        transmitInterval: Duration = .seconds(5), finishTimeout: Duration = .seconds(30), requestTimeout: Duration = .seconds(60),
        uploadsTables: Bool = false
    ) {
        self.trackingURI = trackingURI
        self.experimentName = experimentName
        self.runName = runName
        self.tags = tags
        self.transmitInterval = transmitInterval
        self.finishTimeout = finishTimeout
        self.requestTimeout = requestTimeout
        self.uploadsTables = uploadsTables
    }
}
