import Foundation
import NokoCore
import NokoGit
import NokoWandb

/// When `initExtra` seeds the registered generators.
public enum SeedPolicy: String, Sendable, CaseIterable {
    /// Seed when the config has an integer `seed` (Python noko's default).
    case ifPresent
    /// Always seed; a missing or non-integer `config.seed` is an error.
    case always
    /// Never seed.
    case never
}

/// Everything `Noko.initExtra` can be told; the defaults match Python noko's `init_extra`.
public struct RunOptions: Sendable {
    /// Where run directories go. `NOKO_RUNS_DIR`, when set, wins: a launcher (a sweep, a
    /// reproduction, a scheduler script) must be able to place a run.
    public var runsDir: String = "runs"
    /// The run's name; by default `<program>_<local time>` (in a distributed job, one derived
    /// from the job id). `NOKO_RUN_NAME`, when set, wins.
    public var runName: String?
    /// Which launch-time config `initExtra` reads: `path=value` and `--config FILE`
    /// arguments and `NOKO_CONFIG`/`NOKO_OVERRIDES` (the default), the environment only (for
    /// programs whose own arguments contain `=`), or none.
    public var launchInputs = LaunchInputs.argumentsAndEnvironment
    /// The command line noko reads overrides from; the process's by default.
    public var arguments: [String]?
    /// Record the executable's SHA-256 in `metadata.json`'s `build` (hashed on a thread of
    /// its own while the program starts; `finish()` waits for it).
    public var hashExecutable = true
    /// Continue an existing run directory of the same name instead of failing.
    public var resume = false
    /// When to seed the registered generators.
    public var seedPolicy = SeedPolicy.ifPresent
    /// A root seed to use instead of `config.seed`.
    public var seed: UInt64?
    /// The outputs and their levels, noko's stderr level, the flush interval.
    public var outputs = OutputOptions()
    /// Commit the working tree onto `noko-checkpoints` (also off with `NOKO_NO_CHECKPOINT=1`;
    /// a launcher that checkpointed for its runs sets `NOKO_CHECKPOINT` to where it did).
    public var checkpoint = true
    /// Where and how to checkpoint (the repository containing the working directory by default).
    public var checkpointOptions = CheckpointOptions()
    /// Mirror the run on wandb; off unless given (or `WANDB_MODE`/`WANDB_PROJECT` is set).
    public var wandb: WandbOptions?
    /// Mirror the run on an MLflow tracking server; off unless given (or
    /// `MLFLOW_TRACKING_URI` is set).
    public var mlflow: MLflowOptions?
    /// Keep secrets out of the run directory and the remotes (on by default): values under
    /// secret-looking keys, secret URL query parameters and well-known tokens (`ghp_…`,
    /// `sk-…`, `AKIA…`, JWTs, PEM private keys…) are recorded as `"<redacted>"`, in the
    /// config, argv, `run.summary` and a failed run's error; logged rows' string values
    /// holding a well-known token too. `false` turns every rule off (URL userinfo is still
    /// stripped).
    public var redactSecrets = true
    /// Key paths recorded as given although they look secret, as the warnings name them:
    /// config keys (`model/checkpoint_url`, `endpoints[0]`), `run.summary` keys, logged
    /// columns as `table/key` (`auth/token`), argv entries as `argv[3]`.
    public var unredactedKeys: Set<String> = []
    /// Apply the value rules (URL parameters, token formats), not only the key names; the
    /// benchmark's baseline turns them off.
    package var redactSecretValues = true
    /// How often `metadata.json`'s heartbeat is refreshed; a `running` run whose heartbeat is
    /// older than three intervals reads as `stale`.
    public var heartbeatInterval = Duration.seconds(30)
    /// Mark the run `killed` on SIGINT and SIGTERM (then let the signal end the process).
    public var handleSignals = true
    /// How long `finish()` waits for the remotes' uploads at most before leaving them for
    /// `noko-run sync` (each remote also stops at its own `finishTimeout`, of
    /// ``/NokoWandb/WandbOptions`` and ``/NokoMLflow/MLflowOptions``).
    public var finishTimeout = Duration.seconds(30)
    /// How often the reserved `system` table is sampled (process and machine CPU, memory,
    /// disk, network, GPUs), besides one sample when the run starts and one when it
    /// finishes; nil turns it off. `NOKO_SYSTEM=off` also turns it off, and
    /// `NOKO_SYSTEM=<seconds>` sets the interval.
    public var systemSampleInterval: Duration? = RunOptions.defaultSystemSampleInterval
    /// Where NVML is loaded from: the driver's `libnvidia-ml.so.1`, or a fake one in tests.
    package var nvmlLibrary = NVML.defaultLibrary
    /// Console capture into `output.log` (on by default; also off with `NOKO_CONSOLE=off`).
    public var console = ConsoleOptions()
    /// The environment noko reads (`RANK`, `WANDB_*`, `NOKO_*`…); the process's by default.
    public var environment: [String: String]?
    /// The program's name in the default run name and the metadata.
    public var program: String?

    /// The defaults.
    public init() {}

    /// The system table's default sampling interval: 10 s, as MLflow's.
    package static let defaultSystemSampleInterval = Duration.seconds(10)

    /// What the config, argv, `run.summary` and the error go through.
    var secretRedactor: SecretRedactor {
        guard redactSecrets else { return .off }
        return SecretRedactor(
            keyNames: true, urlParameters: redactSecretValues, tokenFormats: redactSecretValues, keptAsGiven: unredactedKeys)
    }

    /// What logged rows' string values go through; nil for none.
    var rowRedactor: SecretRedactor? {
        guard redactSecrets, redactSecretValues else { return nil }
        var redactor = SecretRedactor.rows
        redactor.keptAsGiven = unredactedKeys
        return redactor
    }

    var resolvedEnvironment: [String: String] { environment ?? ProcessInfo.processInfo.environment }
    var resolvedArguments: [String] { arguments ?? CommandLine.arguments }
    /// `NOKO_RUNS_DIR` when set, else ``runsDir``.
    var resolvedRunsDir: String {
        if let directory = resolvedEnvironment["NOKO_RUNS_DIR"], !directory.isEmpty { return directory }
        return runsDir
    }
    /// `NOKO_RUN_NAME` when set, else ``runName``.
    var resolvedRunName: String? {
        if let name = resolvedEnvironment["NOKO_RUN_NAME"], !name.isEmpty { return name }
        return runName
    }
    var resolvedProgram: String { program ?? ProcessInfo.processInfo.processName }
}
