import Foundation
import Logging
import NokoCore
import NokoGit
import NokoPlatform
import NokoRemoteSync
import NokoWandb
import Synchronization

extension Noko {
    /// The run started by ``initExtra(config:options:)-978i8`` (or another form of
    /// `initExtra`), until it finishes.
    public static var currentRun: Run? { RunLifecycle.run }

    /// Starts a reproducible run: the one line to add at the start of an experiment.
    ///
    /// It creates the run directory (`runs/<program>_<time>` by default) with the default
    /// outputs, records the config (`config.json`, secrets redacted, and a `config` table
    /// row) and everything about the process (`metadata.json`, kept current), seeds every
    /// registered generator from `config.seed`, commits the exact code onto the
    /// `noko-checkpoints` branch, and mirrors the run on wandb when asked to.
    ///
    /// The config is changed at launch, without recompiling, by `path=value` arguments,
    /// `--config FILE` (JSON or YAML), `NOKO_CONFIG` and `NOKO_OVERRIDES`; `config` is set to
    /// the result, which is what `config.json` records:
    ///
    /// ```swift
    /// struct Config: Codable { var lr = 0.1; var seed = 42 }
    /// var config = Config()
    /// let run = try Noko.initExtra(config: &config)   // ./train lr=0.01
    /// ```
    ///
    /// `program --noko-help` lists every config path with its type and default, and exits.
    /// A path that does not exist or a value that does not fit its field throws a
    /// ``LaunchConfigError`` before any file is written.
    ///
    /// Calling it again returns the same run (with a warning). Called after `logRow` has
    /// already initialized noko, it adopts that run directory.
    ///
    /// - Parameters:
    ///   - config: your `Codable` config, holding the code's defaults; on return, the
    ///     effective config.
    ///   - options: where and how; the defaults match Python noko's `init_extra`.
    @discardableResult
    public static func initExtra<Config: Codable>(config: inout Config, options: RunOptions = RunOptions()) throws -> Run {
        if let existing = currentRun { return adoptAgain(existing) }
        let arguments = try LaunchArguments(
            argv: options.resolvedArguments, environment: options.resolvedEnvironment, inputs: options.launchInputs)
        if arguments.helpRequested {
            printHelpAndExit(try LaunchConfig.help(config, program: options.resolvedProgram))
        }
        let (effective, launch) = try LaunchConfig.resolve(config, arguments)
        let run = try RunStarter(config: effective, launch: launch, options: options).start()
        config = effective
        return run
    }

    /// Starts a reproducible run with a config passed by value, which launch-time overrides
    /// cannot change (one given is an error saying to pass `&config`). See
    /// ``initExtra(config:options:)-978i8``.
    @discardableResult
    public static func initExtra<Config: Encodable>(config: Config, options: RunOptions = RunOptions()) throws -> Run {
        try start(config: config, form: "initExtra(config:) got the config by value", options: options)
    }

    /// Starts a reproducible run with a dictionary config, which launch-time overrides cannot
    /// change (one given is an error). See ``initExtra(config:options:)-978i8``.
    @discardableResult
    public static func initExtra(config: [String: Any], options: RunOptions = RunOptions()) throws -> Run {
        try start(config: config, form: "initExtra(config:) got a dictionary", options: options)
    }

    /// Starts a reproducible run without a config. See ``initExtra(config:options:)-978i8``.
    @discardableResult
    public static func initExtra(options: RunOptions = RunOptions()) throws -> Run {
        try start(config: JSONValue.object([:]), form: "initExtra(options:) has no config", options: options)
    }

    /// The command line without noko's arguments (`path=value` overrides, `--config FILE`,
    /// `--noko-help`): what a program with its own argument parser parses, before or after
    /// `initExtra`. `argv[0]` is kept.
    public static var programArguments: [String] {
        let argv = CommandLine.arguments
        return (try? LaunchArguments(argv: argv, environment: [:], inputs: .argumentsAndEnvironment))?.programArguments ?? argv
    }

    /// Runs `body` inside a run whose config the launch may change (see
    /// ``initExtra(config:options:)-978i8``), handing it the effective config: finished
    /// when it returns, `failed` (with the error) when it throws, and the error is rethrown.
    ///
    /// ```swift
    /// try Noko.withRun(config: Config()) { run, config in train(config) }
    /// ```
    public static func withRun<Config: Codable, T>(
        config defaults: Config, options: RunOptions = RunOptions(), _ body: (Run, Config) throws -> T
    ) throws -> T {
        var config = defaults
        let run = try initExtra(config: &config, options: options)
        do {
            let result = try body(run, config)
            run.finish(exitCode: 0)
            return result
        } catch {
            run.finish(status: .failed, exitCode: 1, error: "\(error)")
            throw error
        }
    }

    /// The `async` form of ``withRun(config:options:_:)-5rp6a``.
    public static func withRun<Config: Codable, T>(
        config defaults: Config, options: RunOptions = RunOptions(), _ body: (Run, Config) async throws -> T
    ) async throws -> T {
        var config = defaults
        let run = try initExtra(config: &config, options: options)
        do {
            let result = try await body(run, config)
            run.finish(exitCode: 0)
            return result
        } catch {
            run.finish(status: .failed, exitCode: 1, error: "\(error)")
            throw error
        }
    }

    /// Runs `body` inside a run: finished when it returns, `failed` (with the error) when it
    /// throws, and the error is rethrown.
    public static func withRun<Config: Encodable, T>(
        config: Config, options: RunOptions = RunOptions(), _ body: (Run) throws -> T
    ) throws -> T {
        let run = try initExtra(config: config, options: options)
        do {
            let result = try body(run)
            run.finish(exitCode: 0)
            return result
        } catch {
            run.finish(status: .failed, exitCode: 1, error: "\(error)")
            throw error
        }
    }

    /// The `async` form of ``withRun(config:options:_:)``.
    public static func withRun<Config: Encodable, T>(
        config: Config, options: RunOptions = RunOptions(), _ body: (Run) async throws -> T
    ) async throws -> T {
        let run = try initExtra(config: config, options: options)
        do {
            let result = try await body(run)
            run.finish(exitCode: 0)
            return result
        } catch {
            run.finish(status: .failed, exitCode: 1, error: "\(error)")
            throw error
        }
    }

    private static func start(config: Any, form: String, options: RunOptions) throws -> Run {
        if let existing = currentRun { return adoptAgain(existing) }
        let arguments = try LaunchArguments(
            argv: options.resolvedArguments, environment: options.resolvedEnvironment, inputs: options.launchInputs)
        let tree = try ConfigRecord.tree(config)
        if arguments.helpRequested {
            printHelpAndExit(LaunchConfig.help(encoded: tree, program: options.resolvedProgram))
        }
        if arguments.changesConfig {
            // The program would run with its own values while the run directory recorded others.
            let given = arguments.configFiles.first.map { "\($0.source.rawValue) \($0.path)" }
                ?? arguments.overrides.first.map { "'\($0.recordedText)' (\($0.source == .argument ? "an argument" : $0.source.rawValue))" } ?? ""
            throw LaunchConfigError(
                "\(given) would change the config, but \(form) and cannot hand the changed config back: declare the config as a Codable struct and call `var config = Config(); try Noko.initExtra(config: &config)` (or `Noko.withRun(config:) { run, config in … }`), or set RunOptions.launchInputs to .none (or .environment, to leave the arguments to the program)")
        }
        return try RunStarter(config: tree, launch: LaunchRecord(defaults: tree, files: [], overrides: []), options: options).start()
    }

    private static func adoptAgain(_ existing: Run) -> Run {
        existing.logger.messages.warning("Noko.initExtra was already called; returning run \(existing.name)")
        return existing
    }

    private static func printHelpAndExit(_ text: String) -> Never {
        FileDescriptor.standardOutput.writeIgnoringErrors(Array(text.utf8))
        exit(0)
    }
}

/// The steps of `initExtra`, in order. Each is one method, so a new step (a new remote, a
/// new record) is one more call in `start()`.
private struct RunStarter {
    let config: Any
    let launch: LaunchRecord
    let options: RunOptions
    let environment: [String: String]
    let distributed: DistributedContext
    let startTime = RowClock.system.now()

    init(config: Any, launch: LaunchRecord, options: RunOptions) {
        self.config = config
        self.launch = launch
        self.options = options
        environment = options.resolvedEnvironment
        distributed = DistributedContext(environment: environment)
    }

    func start() throws -> Run {
        // Encode the config first: a config that cannot be recorded fails before any file exists.
        let tree = try ConfigRecord.tree(config)
        let links = try LaunchLinks.read(environment)
        let (directory, name, adopted) = try runDirectory()
        let logDirectory = RunLayout(directory).rank(distributed.rank).directory
        // What an earlier process killed mid-rewrite left: never read, and as large as the
        // file it was replacing.
        for leftovers in [logDirectory, RunLayout(logDirectory).syncDirectory] {
            AtomicFile.removeLeftovers(in: leftovers.path)
        }
        let previous = adopted ? nil : try? RunMetadata.read(from: logDirectory)
        let logger = try makeLogger(logDirectory: logDirectory, adopted: adopted)
        let messages = logger.messages
        logger.redactRowStrings(with: options.rowRedactor)
        if previous != nil { try resume(logger, in: logDirectory) }

        let redactor = options.secretRedactor
        let (recorded, findings) = redactor.redact(tree)
        for finding in findings {
            messages.warning("\(finding.message(subject: "config key"))")
        }
        if distributed.rank == 0 {
            try ConfigFile.write(recorded, to: directory)
            try LaunchRecorder.record(launch, redactor: redactor, in: directory, messages: messages)
        }
        let seedRecord = try seed(tree, messages: messages)
        if let seedRecord {
            try seedRecord.write(to: logDirectory)
        }

        var initial = initialMetadata(name: name, directory: directory, seed: seedRecord?.root)
        let (argv, argvFindings) = redactor.redact(commandLine: options.resolvedArguments)
        initial.argv = argv
        for finding in argvFindings {
            messages.warning("\(finding.message(subject: "command-line argument"))")
        }
        let (build, executable) = BuildInfo.current(cwd: initial.cwd ?? FileSystem.currentDirectory)
        initial.build = build
        initial.links = links
        // A resumed run keeps what its earlier processes recorded.
        initial.startTime = previous?.startTime ?? initial.startTime
        initial.summary = previous?.summary
        initial.remotes = previous?.remotes ?? [:]
        initial.rowsLost = previous?.rowsLost
        initial.writeErrors = previous?.writeErrors
        let metadata = MetadataStore(initial, directory: logDirectory)
        try metadata.update { _ in }
        if distributed.rank == 0 {
            LaunchRecorder.copyPackageResolved(from: build.packageRoot, into: directory, messages: messages)
        }
        let buildHash = executable.flatMap { path -> BackgroundWork? in
            guard options.hashExecutable else { return nil }
            return BuildInfo.hashInBackground(path) { [metadata] digest in
                try? metadata.update { $0.build?.sha256 = digest }
            }
        }
        let crashMarker: CrashMarker?
        do {
            crashMarker = try CrashMarker(
                pending: RunLayout(logDirectory).crashPending.path, crash: RunLayout(logDirectory).crash.path)
        } catch {
            crashMarker = nil
            messages.warning("could not arm the crash marker in \(logDirectory.path): \(error)")
        }

        var checkpoint = distributed.rank == 0 ? gitCheckpoint(directory: directory, name: name, messages: messages) : nil
        if let remoteURL = checkpoint?.remoteURL { checkpoint?.remoteURL = redactor.redact(remoteURL).text }
        if distributed.rank == 0 {
            try metadata.update { m in
                m.git = checkpoint.flatMap { try? JSONValue(parsing: [UInt8](JSONEncoder().encode($0))) } ?? .null
            }
        }

        let flatConfig = ConfigRecord.flattened(recorded)
        if options.outputs.tensorBoardHyperparameters,
            let tensorBoard = logger.outputs.lazy.compactMap({ $0 as? TensorBoardOutput }).first
        {
            do {
                try tensorBoard.writeHyperparameters(flatConfig, startTime: startTime)
            } catch {
                messages.warning("could not write the config for TensorBoard's HParams dashboard: \(error)")
            }
        }
        if !flatConfig.isEmpty {
            logger.logSummary(ConfigTable.name, flatConfig.map { ($0.key, $0.value) }, step: 0, level: .results)
        }

        let systemSampler = startSystemSampler(logger: logger)
        let remotes = startRemotes(directory: directory, name: name, config: recorded, checkpoint: checkpoint, metadata: metadata, messages: messages)
        // Last, so that no error path of initExtra leaves the descriptors captured.
        let console = ConsoleCapture.start(options: options.console, environment: environment, directory: logDirectory, messages: messages)
        let run = Run(
            directory: directory, logDirectory: logDirectory, name: name, distributed: distributed, seed: seedRecord?.root,
            config: recorded, logger: logger, checkpoint: checkpoint, metadata: metadata, remotes: remotes, redactor: redactor,
            heartbeatInterval: options.heartbeatInterval, crashMarker: crashMarker, console: console,
            finishTimeout: options.finishTimeout, buildHash: buildHash,
            systemSampler: systemSampler)
        RunLifecycle.adopt(run, handleSignals: options.handleSignals)
        return run
    }

    /// The `system` table's sampler, unless `RunOptions.systemSampleInterval` or
    /// `NOKO_SYSTEM` turn it off.
    private func startSystemSampler(logger: NokoLogger) -> SystemSampler? {
        let messages = logger.messages
        let configured = options.systemSampleInterval
        guard let interval = SystemSampler.interval(configured, environment: environment, warn: { messages.warning("\($0)") }) else {
            return nil
        }
        let runs = URL(fileURLWithPath: options.runsDir, isDirectory: true).standardizedFileURL.path
        return SystemSampler(
            logger: logger, settings: SystemSampler.Settings(interval: interval, diskPath: runs, nvmlLibrary: options.nvmlLibrary))
    }

    /// The run directory: the auto-initialized one (adopted), or a new one, or an existing
    /// one when resuming or joining as rank > 0.
    private func runDirectory() throws -> (URL, String, adopted: Bool) {
        if let logger = Noko.initializedLogger, !logger.isClosed, let directory = logger.directory, distributed.rank == 0 {
            return (directory, directory.lastPathComponent, true)
        }
        let runs = URL(fileURLWithPath: options.resolvedRunsDir, isDirectory: true)
        let explicit = options.resolvedRunName
        if let explicit {
            let collision: RunDirectory.Collision = options.resume || distributed.isDistributed ? .reuse : .fail
            let created = try RunDirectory.create(in: runs, name: explicit, collision: collision)
            return (created.url, created.name, false)
        }
        if distributed.isDistributed {
            guard let job = distributed.jobID else { throw RunStartError.distributedWithoutName }
            let created = try RunDirectory.create(in: runs, name: "\(options.resolvedProgram)_job\(job)", collision: .reuse)
            return (created.url, created.name, false)
        }
        let created = try RunDirectory.create(
            in: runs, name: RunDirectory.defaultName(program: options.resolvedProgram, date: startTime), collision: .uniquify)
        return (created.url, created.name, false)
    }

    private func makeLogger(logDirectory: URL, adopted: Bool) throws -> NokoLogger {
        if adopted, let logger = Noko.initializedLogger, !logger.isClosed { return logger }
        try FileSystem.makeDirectories(logDirectory.path)
        let logger = try Noko.makeRunLogger(directory: logDirectory, options: options.outputs)
        Noko.install(logger)
        return logger
    }

    /// Continues an existing run directory: the summary sidecar covers the rows already
    /// logged, the views (CSV, Parquet, TensorBoard) get the rows the end of the last process
    /// cut off, and every table's steps continue where they stopped.
    private func resume(_ logger: NokoLogger, in directory: URL) throws {
        let journal = RunLayout(directory).journal.path
        guard FileSystem.exists(journal) else { return }
        let tables = try JournalReplay.resume(journal: journal, outputs: logger.outputs, messages: logger.messages)
        logger.continueSteps(tables)
        let steps = tables.map { "\($0.table): \($0.nextStep)" }.joined(separator: ", ")
        logger.messages.info("resuming run in \(directory.path); tables continue at steps \(steps)")
    }

    /// Seeds the registered generators per the policy; rank N > 0 gets its own root seed.
    private func seed(_ tree: JSONValue, messages: Logging.Logger) throws -> Seeding.Record? {
        guard options.seedPolicy != .never else { return nil }
        var root = options.seed
        if root == nil, let value = tree["seed"] {
            guard let integer = value.intValue else {
                if options.seedPolicy == .always { throw RunStartError.badSeed(value.serialized()) }
                messages.warning("config.seed is \(value.serialized()), not an integer; the generators are not seeded")
                return nil
            }
            root = UInt64(bitPattern: integer)
        }
        guard var root else {
            if options.seedPolicy == .always { throw RunStartError.missingSeed }
            return nil
        }
        if distributed.rank > 0 { root = Seeding.derivedSeed(root: root, name: "rank:\(distributed.rank)") }
        return Seeding.seedAll(root)
    }

    private func initialMetadata(name: String, directory: URL, seed: UInt64?) -> RunMetadata {
        var m = RunMetadata(runName: name)
        m.runDir = directory.standardizedFileURL.path
        m.nokoVersion = Noko.version
        m.status = RunStatus.running.rawValue
        m.startTime = startTime
        m.heartbeat = startTime
        m.heartbeatInterval = Double(options.heartbeatInterval.components.seconds)
            + Double(options.heartbeatInterval.components.attoseconds) / 1e18
        m.program = options.resolvedProgram
        m.cwd = FileSystem.currentDirectory
        m.host = SystemInfo.hostName
        m.user = SystemInfo.userName(environment: environment)
        m.pid = Int(ProcessInfo.processInfo.processIdentifier)
        let os = SystemInfo.operatingSystem
        m.os = os.os
        m.kernel = os.kernel
        m.swiftVersion = SystemInfo.swiftVersion
        m.rank = distributed.rank
        m.worldSize = distributed.worldSize
        m.seed = seed.map { Int64(bitPattern: $0) }
        m.environment = SystemInfo.capturedEnvironment(environment)
        m.remotes = [:]
        return m
    }

    /// The git checkpoint, on a thread of its own (libgit2 blocks; it must never occupy
    /// Swift's cooperative pool if `initExtra` is called from async code).
    private func gitCheckpoint(directory: URL, name: String, messages: Logging.Logger) -> GitCheckpointRecord? {
        guard options.checkpoint, !GitCheckpoint.isDisabled(environment: environment) else { return nil }
        if let shared = environment[GitCheckpoint.sharedVariable], !shared.isEmpty {
            // A launcher (a sweep) checkpointed once for all the runs it starts.
            do {
                return try GitCheckpoint.adopt(sharedIn: URL(fileURLWithPath: shared, isDirectory: true), runDirectory: directory)
            } catch {
                messages.warning("\(GitCheckpoint.sharedVariable): cannot use the launcher's checkpoint (\(error)); taking one of this run's own")
            }
        }
        var checkpointOptions = options.checkpointOptions
        if checkpointOptions.runsDirectory == nil {
            checkpointOptions.runsDirectory = URL(fileURLWithPath: options.resolvedRunsDir, isDirectory: true).standardizedFileURL
        }
        let result = Mutex<GitCheckpointRecord?>(nil)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread { [checkpointOptions] in
            do {
                let record = try GitCheckpoint.checkpoint(runDirectory: directory, runName: name, options: checkpointOptions, messages: messages)
                result.withLock { $0 = record }
            } catch {
                messages.warning("git checkpoint failed; the run goes on without one: \(error)")
            }
            done.signal()
        }
        thread.name = "noko-checkpoint"
        thread.start()
        done.wait()
        return result.withLock { $0 }
    }

    /// Starts every remote of ``remoteStarters`` that is switched on (rank 0 only), and
    /// records where each keeps the run in `metadata.json` under `remotes.<name>`.
    private func startRemotes(
        directory: URL, name: String, config: JSONValue, checkpoint: GitCheckpointRecord?, metadata: MetadataStore,
        messages: Logging.Logger
    ) -> [any LiveRemote] {
        guard distributed.rank == 0 else { return [] }
        let start = RemoteStart(
            options: options,
            run: RemoteRunInfo(
                directory: directory, runName: name, startTime: startTime, config: config, host: SystemInfo.hostName,
                program: options.resolvedProgram, gitCommit: checkpoint?.head, gitCheckpoint: checkpoint?.checkpoint,
                gitRemoteURL: checkpoint?.remoteURL, gitBranch: checkpoint?.branch, rank: distributed.rank),
            environment: environment, messages: messages)
        var remotes: [any LiveRemote] = []
        for starter in Self.remoteStarters {
            let key = starter.name
            let recordChanged: @Sendable (JSONValue) -> Void = { record in try? metadata.update { $0.remotes?[key] = record } }
            guard let remote = starter.start(start, recordChanged) else { continue }
            try? metadata.update { $0.remotes?[key] = remote.recordJSON }
            remotes.append(remote)
        }
        return remotes
    }

    /// The remotes a run can be mirrored on. Each decides from the run options and the
    /// environment whether it is on and returns nil when it is not; the run treats every
    /// started one alike (summary keys, the stop flag, finishing).
    private static let remoteStarters: [RemoteStarter] = [
        RemoteStarter(name: "wandb") { start, recordChanged in
            WandbSync.start(
                options: start.options.wandb, run: start.run, environment: start.environment,
                messages: { message in start.messages.log(level: message.level.swiftLogLevel, "\(message)") },
                onRecordChange: { recordChanged($0.jsonValue) })
        },
        RemoteStarter(name: "mlflow") { start, recordChanged in
            MLflowSync.start(
                options: start.options.mlflow, run: start.run, environment: start.environment,
                messages: { message in start.messages.log(level: message.level.swiftLogLevel, "mlflow: \(message.text)") },
                onRecordChange: { recordChanged($0.jsonValue) })
        },
    ]
}

/// What every remote is started with.
private struct RemoteStart {
    let options: RunOptions
    let run: RemoteRunInfo
    let environment: [String: String]
    let messages: Logging.Logger
}

/// One entry of the remotes list: its key in `metadata.json`'s `remotes`, and how it starts
/// (`recordChanged` rewrites that key when the remote learns more about where the run is).
private struct RemoteStarter: Sendable {
    let name: String
    let start: @Sendable (RemoteStart, _ recordChanged: @escaping @Sendable (JSONValue) -> Void) -> (any LiveRemote)?
}

/// Why `initExtra` could not start a run.
public enum RunStartError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The seed policy is `.always` and the config has no `seed`.
    case missingSeed
    /// `config.seed` is not an integer (its JSON text).
    case badSeed(String)
    /// Several processes, but no run name they could agree on.
    case distributedWithoutName

    public var description: String {
        switch self {
        case .missingSeed:
            return "the seed policy is .always but the config has no 'seed' (add one, or pass RunOptions.seed)"
        case .badSeed(let value):
            return "config 'seed' must be an integer, found \(value)"
        case .distributedWithoutName:
            return "this process is one rank of a distributed job, but there is no run name all ranks agree on: set NOKO_RUN_NAME (or RunOptions.runName) in every rank, or run under a scheduler that sets SLURM_JOB_ID or TORCHELASTIC_RUN_ID"
        }
    }
}
