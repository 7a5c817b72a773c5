// A child process for noko's own tests (kill -9, signals, crashes, ranks). Not installed.
//
//   noko-test-child log RUNS_DIR RUN_NAME [ROWS]
//       initializes noko, logs ROWS rows (default: forever) into table `t`, printing
//       "logged <i>" to stdout after each logRow returns.
//   noko-test-child wandb RUNS_DIR RUN_NAME BASE_URL RUN_ID ROWS
//       initializes noko, syncs the run to the wandb server at BASE_URL (key from
//       WANDB_API_KEY) as run RUN_ID; for each line read on stdin logs a batch of ROWS rows
//       (every fifth into table `eval`, the rest into `train`, key `i` = row number) and
//       prints "logged <rows so far>"; at the end of stdin waits to be killed
//       (Tests/NokoWandbTests/WandbCrashResumeTests.swift).
//   noko-test-child parquet DIR
//       logs rows forever into DIR/noko.ndjson and DIR/t.parquet (tiny row groups, so that
//       a kill is likely to land in the middle of an append), printing "logged <i>".
//   noko-test-child outputs RUNS_DIR RUN_NAME [OPTION…]
//       Noko.initialize with OutputOptions from the options; see the mode below
//       (Tests/NokoTests/RunOptionsTests.swift).
//   noko-test-child hostile RUNS_DIR RUN_NAME VALUE [ARGUMENT…]
//       a finished run whose config keys and values, table names, keys, string values and
//       summary hold VALUE (and a NUL), and whose argv holds the ARGUMENTs; a NaN in an
//       array under a key holding VALUE makes noko warn about that key
//       (Tests/NokoCLITests/HostileRunTests.swift). NOKO_TEST_CHECKPOINT=1 checkpoints.
//   noko-test-child secrets RUNS_DIR RUN_NAME [ARGUMENT…]
//       a failed run (its error holds a token) whose config, rows, summary and argv hold
//       SecretCorpus's positives and negatives, besides the config of issue 27; wandb from
//       the environment (Tests/NokoTests/SecretRedactionTests.swift).
//   noko-test-child launch [ARGUMENT…]
//       Noko.initExtra(config: &config) with a nested Codable config, overridden by the
//       ARGUMENTs and NOKO_CONFIG/NOKO_OVERRIDES; the code asks for runs dir
//       `code-runs` and run name `code-name` (NOKO_RUNS_DIR/NOKO_RUN_NAME win). Prints
//       "program <arguments>" (Noko.programArguments), "config <effective JSON>", "run <dir>"
//       (Tests/NokoTests/LaunchTests.swift). NOKO_TEST_LAUNCH_INPUTS=environment|none scopes;
//       NOKO_TEST_WITH_RUN=1 uses Noko.withRun(config:) { run, config in … } instead.
//   noko-test-child trial [OVERRIDE…]
//       a sweep's trial (Tests/NokoCLITests/SweepCommandTests.swift): config {lr, seed,
//       epochs, sleep_ms, fail, hidden} from the overrides; prints "rank <RANK> procid
//       <SLURM_PROCID>", logs `epoch` rows with test_accuracy = 0.9 - 0.1*|log10(lr)+2| +
//       0.001*seed + 0.01*epoch, exits 1 for lr <= 0 and 3 after a row for fail=true.
//   noko-test-child launch-by-value [ARGUMENT…]
//       the same config passed by value: an override is an error.
//   noko-test-child console RUNS_DIR RUN_NAME ACTION…
//       console capture (Tests/NokoTests/ConsoleCaptureTests.swift): runs the actions in
//       order; `start` is initExtra (NOKO_TEST_RESUME=1 resumes, NOKO_TEST_CONSOLE_LIMIT sets
//       the size limit, NOKO_TEST_CONSOLE_OPTION=off turns capture off in RunOptions).
//       Actions: print=T (Swift print), stderr=T (FileHandle.standardError), write=T
//       (write(2) on descriptor 1), grandchild=T (a shell writing T-out and T-err), flush,
//       isatty (prints "isatty <1> <2> columns <n>"), identity (prints "identity <1> <2>"),
//       progress=N (a bar redrawn N times with \r), burst=BYTES (numbered lines, big writes),
//       longline=N (x and N two-byte characters), warn (a noko warning), lines=N
//       (N numbered lines, a pause every 50), sleep=MS, finish, kill9, hang, exit=N.
//   noko-test-child disk RUNS_DIR RUN_NAME
//       a run (initExtra; NOKO_TEST_RESUME=1 resumes) with every file output: the defaults,
//       TensorBoard at INFO and Parquet written at every flush (no background flush), for the
//       full-disk and read-only tests (Tests/NokoTests/DiskFailureTests.swift). Prints
//       "ready", then runs one command per line of stdin and answers each on a line:
//       `log N` logs N rows into `train` ("logged <total> lost <journal's lost rows>"),
//       `fill` logs until 20 rows in a row could not reach the journal ("filled <total> lost
//       <n>", or "not filled" after a million rows), `flush` (flushCompletely: "flushed <rowsLost as JSON>"),
//       `finish` (run.finish(); "finished", and the process exits 0).
//   noko-test-child system-cpu
//       a system sampler alone in a process: a sample, a busy loop (until 0.3 s of CPU is
//       used), a sample, an idle second, a sample; prints "busy <cpu %>", "idle <cpu %>"
//       and "machine <cpu %>" per rated row (Tests/NokoTests/SystemSamplerTests.swift).
//   noko-test-child torture RUNS_DIR RUN_NAME TRAIN GRAD EVAL ROWS finish|wait
//       one life of a run scripts/torture kills with SIGKILL: every output, a checkpoint,
//       live wandb sync; reports each step once it has returned (Torture.swift).
//   noko-test-child wandb-server
//       the tests' loopback wandb server in a process of its own, for scripts/torture.
import Foundation
import Logging
import Noko
import NokoPlatform
import NokoRemoteSync
import NokoTestSupport
import NokoWandb

/// Past this many rows a child logging "forever" slows to about a row per millisecond: the
/// tests kill it long before, and on a loaded machine the kill can come late; unthrottled,
/// the run directory would grow by gigabytes in the meantime.
let fullSpeedRows = 20_000

/// Paces endless logging (see ``fullSpeedRows``); a given number of rows goes at full speed.
func pace(_ row: Int, endless: Bool = true) {
    if endless && row >= fullSpeedRows { CurrentProcess.sleep(seconds: 0.001) }
}

/// One unbuffered line on stdout: the parent reads progress as it happens.
func say(_ line: String) {
    FileDescriptor.standardOutput.writeIgnoringErrors(Array((line + "\n").utf8))
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: noko-test-child MODE ...\n".utf8))
    exit(2)
}

switch arguments[1] {
case "system-cpu":
    let memory = InMemoryOutput()
    let logger = NokoLogger(outputs: [memory], flushInterval: nil)
    let sampler = SystemSampler(
        logger: logger,
        settings: SystemSampler.Settings(
            interval: nil, diskPath: FileManager.default.temporaryDirectory.path, nvmlLibrary: "/nonexistent/libnvidia-ml.so.1"))
    func used() -> Double {
        let t = WallClock.processCPUTime()
        return t.user + t.system
    }
    let start = used()
    let wallStart = WallClock.monotonic()
    var sink = 0.0
    while used() - start < 0.3 && WallClock.monotonic() - wallStart < 30 {
        for i in 0..<100_000 { sink += Double(i).squareRoot() }
    }
    sampler.sampleNow()
    // Over a second: the idle row's rate is then taken against the busy one.
    CurrentProcess.sleep(seconds: 1.2)
    sampler.sampleNow()
    logger.close()
    func number(_ value: Scalar?) -> String {
        switch value {
        case .double(let v)?: return "\(v)"
        case .int(let v)?: return "\(v)"
        default: return "none"
        }
    }
    let rows = memory.rows(in: "system")
    say("busy \(number(rows[1]["process/cpu_percent"]))")
    say("idle \(number(rows[2]["process/cpu_percent"]))")
    for row in rows.dropFirst() { say("machine \(number(row["cpu/percent"]))") }
    if sink == 42 { say("") }
case "log":
    let runsDir = arguments[2], runName = arguments[3]
    let rows = arguments.count > 4 ? Int(arguments[4])! : Int.max
    try Noko.initialize(runsDir: runsDir, runName: runName)
    var i = 0
    while i < rows {
        Noko.logRow("t", ["i": i, "x": Double(i) * 0.5, "s": "row \(i)", "v": [1.0, 2.0, Double(i)]])
        say("logged \(i)")
        pace(i, endless: rows == Int.max)
        i += 1
    }
    Noko.close()
case "extra":
    // noko-test-child extra RUNS_DIR NAME|- ROWS|forever [then: exit N | trap | hang | throw]
    struct Config: Codable {
        var lr = 0.1
        var seed = 7
        var apiKey = "sk-very-secret"
        var nested = Nested()
        struct Nested: Codable {
            var depth = 3
            var authToken = "tok-123"
            var maxTokens = 256
        }
    }
    // The environment varies the run: NOKO_TEST_REDACT=0 (redactSecrets off),
    // NOKO_TEST_SEED_POLICY=always|never, NOKO_TEST_SEED=<text>|none (a dictionary config
    // whose seed is that text, or which has none), NOKO_TEST_TB_HPARAMS=1, NOKO_TEST_SUMMARY=1
    // (sets run.summary values), NOKO_TEST_FLUSH_MS (the flush interval),
    // NOKO_TEST_CONFIG_CHANGE=1 (run.updateConfig and run.updateDescription after the rows),
    // NOKO_TEST_MLFLOW_INTERVAL_MS (MLflowOptions with that transmit interval, a 5 s finish
    // and request timeout, and NOKO_TEST_MLFLOW_TABLES=1 for the tables' CSV as artifacts).
    let environment = ProcessInfo.processInfo.environment
    let runsDir = arguments[2]
    let name = arguments[3] == "-" ? nil : arguments[3]
    let rows = arguments[4] == "forever" ? Int.max : Int(arguments[4])!
    let then = arguments.count > 5 ? arguments[5] : "exit"
    var options = RunOptions()
    options.runsDir = runsDir
    options.runName = name
    options.checkpoint = environment["NOKO_TEST_CHECKPOINT"] == "1"
    options.heartbeatInterval = .milliseconds(Int(environment["NOKO_TEST_HEARTBEAT_MS"] ?? "30000")!)
    options.resume = environment["NOKO_TEST_RESUME"] == "1"
    options.redactSecrets = environment["NOKO_TEST_REDACT"] != "0"
    options.seedPolicy = environment["NOKO_TEST_SEED_POLICY"].flatMap(SeedPolicy.init(rawValue:)) ?? .ifPresent
    options.outputs.tensorBoardHyperparameters = environment["NOKO_TEST_TB_HPARAMS"] == "1"
    if let milliseconds = environment["NOKO_TEST_FLUSH_MS"].flatMap(Int.init) { options.outputs.flushInterval = .milliseconds(milliseconds) }
    if let milliseconds = environment["NOKO_TEST_MLFLOW_INTERVAL_MS"].flatMap(Int.init) {
        options.mlflow = MLflowOptions(
            transmitInterval: .milliseconds(milliseconds), finishTimeout: .seconds(5), requestTimeout: .seconds(5),
            uploadsTables: environment["NOKO_TEST_MLFLOW_TABLES"] == "1")
    }
    if ProcessInfo.processInfo.environment["NOKO_TEST_BOOTSTRAP"] == "1" {
        Noko.bootstrapLogging()
        Logger(label: "app").info("before the run: stderr only")
    }
    if then == "throw" {
        struct Failure: Error, CustomStringConvertible { var description: String { "the experiment diverged" } }
        do {
            try Noko.withRun(config: Config(), options: options) { _ in
                Noko.logRow("t", ["i": 0])
                throw Failure()
            }
        } catch {
            exit(0)
        }
    }
    let run: Run
    if let seed = environment["NOKO_TEST_SEED"] {
        var config: [String: Any] = ["lr": 0.1, "depth": 3]
        if seed != "none" { config["seed"] = Int(seed) ?? seed as Any }
        run = try Noko.initExtra(config: config, options: options)
    } else {
        run = try Noko.initExtra(config: Config(), options: options)
    }
    say("run \(run.directory.path)")
    if environment["NOKO_TEST_SUMMARY"] == "1" {
        run.summary["best_accuracy"] = .double(0.875)
        run.summary["verdict"] = "good"
    }
    Logger(label: "app").info("hello from the app")
    Logger(label: "app").warning("a warning from the app")
    var i = 0
    while i < rows {
        Noko.logRow("t", ["i": i, "x": Double(i) * 0.5, "r": Double.random(in: 0..<1, using: &Noko.random)])
        say("logged \(i)")
        pace(i, endless: rows == Int.max)
        i += 1
    }
    if environment["NOKO_TEST_CONFIG_CHANGE"] == "1" {
        // A value that cannot be recorded changes nothing; then keys added and replaced.
        struct Opaque {}
        do {
            try run.updateConfig(["when": Opaque()])
        } catch {
            say("config error: \(error)")
        }
        try run.updateConfig(["warmup": 500, "optimizer": ["lr": 0.003, "password": "hunter2-secret"], "lr": 0.05])
        run.updateDescription(name: "renamed", tags: ["a", " ", "a", "b"], notes: "changed")
        Noko.logRow("t", ["i": i, "x": 0.0, "r": 0.0])
        say("config changed")
    }
    switch then {
    case "trap":
        let values: [Int] = []
        say("trapping")
        _ = values[Int(arguments[4])!]  // out of range: a Swift trap (SIGILL/SIGTRAP)
    case "hang":
        say("hanging")
        while true { sleep(60) }
    default:
        exit(Int32(then.split(separator: " ").last.flatMap { Int32($0) } ?? 0))
    }
case "outputs":
    // noko-test-child outputs RUNS_DIR RUN_NAME [OPTION…]: Noko.initialize with OutputOptions
    // from the options (csv=off, pprint=off, statistics=off, tensorboard=off, stdout=LEVEL,
    // stderr=LEVEL), then a RESULTS row with a NaN (noko warns about it), an INFO row, and a
    // summarizer declared twice (noko warns that the second replaces the first).
    var options = OutputOptions()
    for option in arguments.dropFirst(4) {
        let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
        let level = parts.count == 2 ? LogLevel(parsing: parts[1]) : nil
        switch parts[0] {
        case "csv": options.csvLevel = level
        case "pprint": options.prettyPrintLevel = level
        case "statistics": options.statisticsLevel = level
        case "tensorboard": options.tensorBoardLevel = level
        case "stdout": options.standardOutputLevel = level
        case "stderr": options.stderrLevel = level ?? .critical
        default:
            FileHandle.standardError.write(Data("unknown option \(option)\n".utf8))
            exit(2)
        }
    }
    struct Point { var x: Double }
    try Noko.initialize(runsDir: arguments[2], runName: arguments[3], options: options)
    Noko.logRow("epoch", ["accuracy": 0.75, "loss": Double.nan], level: .results)
    Noko.logRow("t", ["x": 1], level: .info)
    Noko.declareSummarizer(for: Point.self) { point, prefix, summary in summary.add(prefix + ".x", .double(point.x)) }
    Noko.declareSummarizer(for: Point.self) { point, prefix, summary in summary.add(prefix + ".x2", .double(point.x * 2)) }
    Noko.logRow("points", ["p": Point(x: 1.5)], level: .info)
    Noko.close()
case "adopt":
    // noko-test-child adopt: logRow first (auto-initializing under ./runs), then initExtra twice.
    Noko.logRow("t", ["i": 0])
    let auto = Noko.logger.directory!.path
    var options = RunOptions()
    options.checkpoint = false
    let first = try Noko.initExtra(config: ["seed": 1], options: options)
    let second = try Noko.initExtra(config: ["seed": 2], options: options)
    say("auto \(auto)")
    say("run \(first.directory.path)")
    say("same \(first === second)")
case "race":
    // noko-test-child race: eight threads make the first logRow at once (cwd: ./runs).
    let group = DispatchGroup()
    for t in 0..<8 {
        DispatchQueue.global().async(group: group) { Noko.logRow("t", ["thread": t]) }
    }
    group.wait()
    Noko.close()
case "random":
    // noko-test-child random SEED: prints draws from every registered generator
    let root = UInt64(arguments[2])!
    Seeding.seedAll(root)
    var shared = Noko.random
    var stream = Noko.generator(named: "workers")
    say("noko \((0..<4).map { _ in String(shared.next()) }.joined(separator: " "))")
    say("stream \((0..<4).map { _ in String(stream.next()) }.joined(separator: " "))")
    let (first, second) = (CLibrary.drawFromGenerators(), CLibrary.drawFromGenerators())
    say("rand \(first.rand) \(second.rand)")
    say("random \(first.random) \(second.random)")
    say("drand48 \(first.drand48) \(second.drand48)")
case "wandb":
    let runsDir = arguments[2], runName = arguments[3], baseURL = arguments[4], runID = arguments[5]
    let rows = Int(arguments[6])!
    let start = Date().timeIntervalSince1970
    let directory = try Noko.initialize(runsDir: runsDir, runName: runName)
    let options = WandbOptions(
        project: "p", entity: "e", runID: runID, baseURL: baseURL, mode: .online, transmitInterval: .milliseconds(20),
        retry: WandbRetryPolicy(minimumWait: .milliseconds(20), maximumWait: .milliseconds(200)))
    guard let sync = WandbSync.start(
        options: options, run: WandbRunInfo(directory: directory, runName: runName, startTime: start, config: ["seed": 7]),
        messages: { message in FileHandle.standardError.write(Data("child: \(message)\n".utf8)) })
    else {
        say("sync did not start")
        exit(3)
    }
    // Each line on stdin logs a batch of `rows` rows, so the test decides when rows appear.
    var logged = 0
    while readLine() != nil {
        for i in logged..<(logged + rows) {
            Noko.logRow(i % 5 == 4 ? "eval" : "train", ["i": i, "loss": 1 / Double(i + 1)])
            CurrentProcess.sleep(seconds: 0.0005)
        }
        logged += rows
        say("logged \(logged)")
    }
    withExtendedLifetime(sync) {
        while true { sleep(60) }
    }
case "parquet":
    let directory = URL(fileURLWithPath: arguments[2])
    let logger = NokoLogger(
        directory: directory,
        outputs: [
            try NDJSONOutput(url: RunLayout(directory).journal, level: .trace),
            ParquetOutput(directory: directory, rowGroupRows: 7, rowGroupInterval: .zero),
        ], flushInterval: .milliseconds(2))
    var i = 0
    while true {
        logger.logRow("t", ["i": i, "x": Double(i) * 0.5, "s": "row \(i)"])
        say("logged \(i)")
        pace(i)
        i += 1
    }
case "hostile":
    let value = arguments[4]
    var options = RunOptions()
    options.runsDir = arguments[2]
    options.runName = arguments[3]
    options.checkpoint = ProcessInfo.processInfo.environment["NOKO_TEST_CHECKPOINT"] == "1"
    let config: [String: Any] = [
        "seed": 3, "note": value, "k" + value: 1.5, "nul": value + "\u{0}", "nested": ["n" + value: value], "list": [value, 2],
    ]
    let run = try Noko.initExtra(config: config, options: options)
    for step in 0..<4 {
        Noko.logRow("t" + value, ["k" + value: Double(step) * 0.5, "s": value, "w" + value: [step == 2 ? .nan : 1.0, 2.0]])
        Noko.logRow("plain", ["loss": 1 / Double(step + 1), "v" + value: value + String(step)])
    }
    run.summary["s" + value] = .string(value)
    say("run \(run.directory.path)")
    run.finish()
case "secrets":
    struct Service: Codable {
        var name = "s3"
        var secret_access_key = "hunter5key"
    }
    // The config of issue 27, as a new user would write it.
    struct IssueConfig: Codable {
        var seed = 1
        var endpoints = ["https://api.example.com/v1?token=hunter4&x=1", "https://u:hunter5@h.example.com/"]
        var githubPAT = "ghp_hunter9abcdefghijklmnopqrstuvwxyz0123"
        var password = "hunter3pw"
        var hfToken = "hunter6hf"
        var services = [Service()]
        var OPENAI_API_KEY = "hunter7oa"
        var authHeader = "hunter8ah"
    }
    var options = RunOptions()
    options.runsDir = arguments[2]
    options.runName = arguments[3]
    options.checkpoint = false
    options.unredactedKeys = ["kept_token", "kept/token"]
    // The arguments are the corpus for argv, not config overrides.
    options.launchInputs = .none
    // The corpus at the top level, beside the issue's config, all through the config encoder.
    struct CorpusConfig: Encodable {
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(IssueConfig(), forKey: Key(stringValue: "issue"))
            try container.encode(SecretCorpus.keptToken, forKey: Key(stringValue: "kept_token"))
            for example in SecretCorpus.positives { try container.encode(example.value, forKey: Key(stringValue: example.key)) }
            for example in SecretCorpus.negatives { try container.encode(example.value, forKey: Key(stringValue: example.key)) }
        }
    }
    let config = CorpusConfig()
    struct Diverged: Error, CustomStringConvertible {
        var description: String { "the experiment diverged; retry with \(SecretCorpus.tokens[0].value)" }
    }
    do {
        try Noko.withRun(config: config, options: options) { run in
            say("run \(run.directory.path)")
            for step in 0..<3 {
                Noko.logRow("auth", ["token": SecretCorpus.tokens[0].value, "step_loss": 1 / Double(step + 1)] as [String: Any])
                var tokens: [String: Any] = ["n": step]
                for example in SecretCorpus.tokens { tokens[example.key] = example.value }
                Noko.logRow("corpus", tokens, level: .results)
                var plain: [String: Any] = ["n": 123_456_789_012 + step, "x": 0.25]
                for example in SecretCorpus.negatives { plain[example.key] = example.value }
                Noko.logRow("plain", plain, level: .results)
                Noko.logRow("kept", ["token": SecretCorpus.keptToken])
            }
            for example in SecretCorpus.positives { run.summary[example.key] = .string(example.value) }
            for example in SecretCorpus.negatives { run.summary[example.key] = .string(example.value) }
            run.summary["best"] = .object(["api_key": "hunter9sum", "value": 0.5])
            throw Diverged()
        }
    } catch {
        exit(0)
    }
case "trial":
    // A sweep's trial: config from the launch (overrides after `trial`), a run placed by
    // the sweep's variables, three epochs whose accuracy is a known function of lr and seed.
    struct Config: Codable {
        var lr = 0.1
        var seed = 0
        var epochs = 3
        var sleepMs = 0
        var fail = false
        var hidden = [64]
    }
    var config = Config()
    let environment = ProcessInfo.processInfo.environment
    say("rank \(environment["RANK"] ?? "none") procid \(environment["SLURM_PROCID"] ?? "none")")
    let run: Run
    do {
        run = try Noko.initExtra(config: &config)
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        exit(2)
    }
    guard config.lr > 0 else {
        FileHandle.standardError.write(Data("error: lr must be positive, got \(config.lr)\n".utf8))
        exit(1)
    }
    for epoch in 0..<config.epochs {
        if config.sleepMs > 0 { Thread.sleep(forTimeInterval: Double(config.sleepMs) / 1000) }
        let accuracy = 0.9 - 0.1 * abs(log10(config.lr) + 2) + 0.001 * Double(config.seed) + 0.01 * Double(epoch)
        Noko.logRow("epoch", ["test_accuracy": accuracy, "width": config.hidden.reduce(0, +)], step: epoch)
        if config.fail {
            FileHandle.standardError.write(Data("error: failing as asked (fail=true)\n".utf8))
            exit(3)
        }
    }
    say("trial \(run.name) lr=\(config.lr) seed=\(config.seed)")
    run.finish()
case "launch", "launch-by-value":
    struct Config: Codable {
        enum Optimizer: String, Codable, CaseIterable { case adam, sgd }
        struct Model: Codable {
            var layers = 2
            var width = 64
        }
        var lr = 0.1
        var name = "base"
        var seed = 5
        var optimizer = Optimizer.adam
        var model = Model()
        var hidden = [64, 128]
        var dropout: Double? = nil
        var apiKey = "sk-default"
    }
    var options = RunOptions()
    options.runsDir = "code-runs"
    options.runName = "code-name"
    options.checkpoint = false
    switch ProcessInfo.processInfo.environment["NOKO_TEST_LAUNCH_INPUTS"] {
    case "environment": options.launchInputs = .environment
    case "none": options.launchInputs = .none
    default: break
    }
    // Noko.programArguments is the split for the default inputs; a program that scopes
    // them away parses the whole command line.
    let program = options.launchInputs == .argumentsAndEnvironment ? Noko.programArguments : CommandLine.arguments
    say("program \(program.dropFirst().joined(separator: " "))")
    var config = Config()
    if ProcessInfo.processInfo.environment["NOKO_TEST_WITH_RUN"] == "1" {
        let effective = try Noko.withRun(config: config, options: options) { run, config in
            say("run \(run.directory.path)")
            Noko.logRow("t", ["lr": config.lr])
            return config
        }
        say("config \(String(decoding: try JSONEncoder().encode(effective), as: UTF8.self))")
        exit(0)
    }
    let run: Run
    do {
        if arguments[1] == "launch" {
            run = try Noko.initExtra(config: &config, options: options)
        } else {
            run = try Noko.initExtra(config: config, options: options)
        }
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        exit(2)
    }
    let effective = try JSONEncoder().encode(config)
    say("config \(String(decoding: effective, as: UTF8.self))")
    say("run \(run.directory.path)")
    Noko.logRow("t", ["lr": config.lr, "layers": config.model.layers])
    run.finish()
case "torture":
    try TortureLife.run(Array(arguments.dropFirst(2)))
case "wandb-server":
    try StandaloneWandbServer.run()
case "disk":
    diskCommands(runsDir: arguments[2], runName: arguments[3])
case "console":
    consoleActions(runsDir: arguments[2], runName: arguments[3], actions: Array(arguments.dropFirst(4)))
default:
    FileHandle.standardError.write(Data("unknown mode \(arguments[1])\n".utf8))
    exit(2)
}

func consoleActions(runsDir: String, runName: String, actions: [String]) {
    let environment = ProcessInfo.processInfo.environment
    var run: Run?
    for action in actions {
        let (name, value) = action.firstIndex(of: "=").map { (String(action[..<$0]), String(action[action.index(after: $0)...])) }
            ?? (action, "")
        switch name {
        case "start":
            var options = RunOptions()
            options.runsDir = runsDir
            options.runName = runName
            options.checkpoint = false
            options.resume = environment["NOKO_TEST_RESUME"] == "1"
            if let limit = environment["NOKO_TEST_CONSOLE_LIMIT"] { options.console.sizeLimit = UInt64(limit)! }
            if environment["NOKO_TEST_CONSOLE_OPTION"] == "off" { options.console.capture = false }
            // The actions (print=T, burst=N) are not config overrides.
            options.launchInputs = .none
            run = try! Noko.initExtra(config: ["seed": 1], options: options)
        case "print":
            print(value)
        case "stderr":
            FileHandle.standardError.write(Data((value + "\n").utf8))
        case "write":
            try! FileDescriptor.standardOutput.writeAll(Array((value + "\n").utf8))
        case "flush":
            CurrentProcess.flushStandardOutput()
        case "grandchild":
            let shell = Process()
            shell.executableURL = URL(fileURLWithPath: "/bin/sh")
            shell.arguments = ["-c", "echo \"$0-out\"; echo \"$0-err\" >&2", value]
            try! shell.run()
            shell.waitUntilExit()
        case "isatty":
            let out = FileDescriptor.standardOutput, err = FileDescriptor.standardError
            say("isatty \(out.isTerminal) \(err.isTerminal) columns \(out.terminalColumns.map(String.init) ?? "none")")
        case "identity":
            func identity(_ fd: FileDescriptor) -> String {
                (try? fd.info().identity).map { "\($0.device):\($0.inode)" } ?? "closed"
            }
            say("identity \(identity(.standardOutput)) \(identity(.standardError))")
        case "progress":
            for i in 1...Int(value)! {
                FileDescriptor.standardOutput.writeIgnoringErrors(Array("\rprogress \(i)/\(value)".utf8))
            }
            say("")
        case "burst":
            // Numbered lines in writes of about 64 KiB, as fast as the pipe takes them.
            var chunk: [UInt8] = []
            var written = 0, i = 0
            let total = Int(value)!
            while written < total {
                chunk += Array("burst \(i) abcdefghijklmnopqrstuvwxyz0123456789\n".utf8)
                i += 1
                if chunk.count >= 65_536 || written + chunk.count >= total {
                    try! FileDescriptor.standardOutput.writeAll(chunk)
                    written += chunk.count
                    chunk.removeAll(keepingCapacity: true)
                }
            }
        case "longline":
            say("x" + String(repeating: "é", count: Int(value)!))
        case "warn":
            Noko.logger.messages.warning("a warning of noko's own")
        case "lines":
            for i in 0..<Int(value)! {
                say("line \(i)")
                if i % 50 == 49 { CurrentProcess.sleep(seconds: 0.002) }
            }
        case "sleep":
            CurrentProcess.sleep(seconds: Double(value)! / 1000)
        case "finish":
            run?.finish()
        case "kill9":
            SignalNumber.raise(SignalNumber.kill)
        case "hang":
            while true { CurrentProcess.sleep(seconds: 60) }
        case "exit":
            exit(Int32(value) ?? 0)
        default:
            FileHandle.standardError.write(Data("unknown console action \(action)\n".utf8))
            exit(2)
        }
    }
}

func diskCommands(runsDir: String, runName: String) {
    var options = RunOptions()
    options.runsDir = runsDir
    options.runName = runName
    options.resume = ProcessInfo.processInfo.environment["NOKO_TEST_RESUME"] == "1"
    options.checkpoint = false
    options.hashExecutable = false
    options.launchInputs = .none
    // Rows the test does not log would make its counts depend on timing.
    options.systemSampleInterval = nil
    options.console.capture = false
    options.outputs.tensorBoardLevel = .info
    options.outputs.parquetLevel = nil
    // Views are flushed by the `flush` command only, so a test knows which flushes met a full
    // disk (a background flush at the edge of it can find a page freed by another file's failure).
    options.outputs.flushInterval = .seconds(3600)
    let run: Run
    do {
        run = try Noko.initExtra(config: ["seed": 1], options: options)
    } catch {
        say("cannot start: \(error)")
        exit(1)
    }
    // Row groups at every flush (and never between), so the Parquet file is written, and
    // fails, while the test watches, not only at the end.
    run.logger.add(
        ParquetOutput(directory: run.logDirectory, rowGroupRows: 100_000, rowGroupInterval: .zero, messages: run.logger.messages))
    var logged = run.logger.nextStep(of: "train")
    func journalLost() -> Int { run.logger.rowsLost[RunLayout.journalName] ?? 0 }
    func logOne() {
        let i = logged
        run.logger.logRow(
            "train", ["i": i, "loss": 1.0 / Double(i + 1), "w": [Double(i), 0.5, -1.0, 2.0], "tag": "row \(i % 3)"],
            level: .info)
        logged += 1
    }
    say("ready")
    while let line = readLine() {
        let words = line.split(separator: " ").map(String.init)
        switch words.first {
        case "log":
            for _ in 0..<(Int(words[1]) ?? 1) { logOne() }
            say("logged \(logged) lost \(journalLost())")
        case "fill":
            // Until 20 rows in a row fail: at the edge of a full disk a shorter row can still fit
            // in the journal's last page, so the first failure alone does not say it is full.
            var failedInARow = 0
            while logged < 1_000_000 && failedInARow < 20 {
                let before = journalLost()
                logOne()
                failedInARow = journalLost() > before ? failedInARow + 1 : 0
            }
            say(failedInARow == 20 ? "filled \(logged) lost \(journalLost())" : "not filled")
        case "flush":
            // Completely: `flush()` spaces summary.json's rewrites, and the tests must know
            // whether each view tried its file.
            run.logger.flushCompletely()
            let lost = run.logger.rowsLost.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }
            say("flushed {\(lost.joined(separator: ","))}")
        case "finish":
            run.finish()
            say("finished")
            exit(0)
        default:
            say("unknown command \(line)")
        }
    }
}
