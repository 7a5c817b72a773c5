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
//   noko-test-child hostile RUNS_DIR RUN_NAME VALUE [ARGUMENT…]
//       a finished run whose config keys and values, table names, keys, string values and
//       summary hold VALUE (and a NUL), and whose argv holds the ARGUMENTs; a NaN in an
//       array under a key holding VALUE makes noko warn about that key
//       (Tests/NokoCLITests/HostileRunTests.swift). NOKO_TEST_CHECKPOINT=1 checkpoints.
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
import Foundation
import Logging
import Noko
import NokoPlatform
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
    let runsDir = arguments[2]
    let name = arguments[3] == "-" ? nil : arguments[3]
    let rows = arguments[4] == "forever" ? Int.max : Int(arguments[4])!
    let then = arguments.count > 5 ? arguments[5] : "exit"
    var options = RunOptions()
    options.runsDir = runsDir
    options.runName = name
    options.checkpoint = ProcessInfo.processInfo.environment["NOKO_TEST_CHECKPOINT"] == "1"
    options.heartbeatInterval = .milliseconds(Int(ProcessInfo.processInfo.environment["NOKO_TEST_HEARTBEAT_MS"] ?? "30000")!)
    options.resume = ProcessInfo.processInfo.environment["NOKO_TEST_RESUME"] == "1"
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
    let run = try Noko.initExtra(config: Config(), options: options)
    say("run \(run.directory.path)")
    Logger(label: "app").info("hello from the app")
    Logger(label: "app").warning("a warning from the app")
    var i = 0
    while i < rows {
        Noko.logRow("t", ["i": i, "x": Double(i) * 0.5, "r": Double.random(in: 0..<1, using: &Noko.random)])
        say("logged \(i)")
        pace(i, endless: rows == Int.max)
        i += 1
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
