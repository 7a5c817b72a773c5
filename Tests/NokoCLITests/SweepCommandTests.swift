import ArgumentParser
import Foundation
import NokoCore
import NokoPlatform
import NokoTestSupport
import Testing

@testable import NokoCLI

/// Axes, plans and real sweeps of the test child's `trial` mode.
@Suite struct SweepAxisTests {
    @Test func listsSplitAtTopLevelCommasOnly() throws {
        #expect(try SweepAxis("lr=0.1,0.01,0.001").values == .list(["0.1", "0.01", "0.001"]))
        #expect(try SweepAxis("hidden=[64,128],[32,64]").values == .list(["[64,128]", "[32,64]"]))
        #expect(try SweepAxis(#"name="a,b",c"#).values == .list([#""a,b""#, "c"]))
        #expect(try SweepAxis("opt={a: 1, b: 2},{a: 3}").values == .list(["{a: 1, b: 2}", "{a: 3}"]))
        #expect(try SweepAxis("model.layers=4").values == .list(["4"]))
        #expect(try SweepAxis("+extra.tag=x,y").key == "+extra.tag")
    }

    @Test func rangesAreInclusiveOfStartAndExclusiveOfStop() throws {
        #expect(try SweepAxis("seed=range(5)").values == .list(["0", "1", "2", "3", "4"]))
        #expect(try SweepAxis("layers=range(2,8,2)").values == .list(["2", "4", "6"]))
        #expect(try SweepAxis("n=range(3,0,-1)").values == .list(["3", "2", "1"]))
        #expect(try SweepAxis("lr=loguniform(1e-5,1e-1)").values == .logUniform(1e-5, 1e-1))
        #expect(try SweepAxis("d=uniform(0, 0.5)").values == .uniform(0, 0.5))
        #expect(try SweepAxis("opt=choice(adam,sgd)").values == .choice(["adam", "sgd"]))
    }

    @Test(arguments: [
        ("lr=", "no values"), ("lr=0.1,,0.2", "value 2 is empty"), ("seed=range(1.5)", "range takes integers"),
        ("seed=range(0)", "is empty"), ("seed=range(1,2,0)", "step must not be 0"), ("lr=loguniform(0,1)", "bounds must be positive"),
        ("d=uniform(2,1)", "LOW must be below HIGH"), ("d=uniform(x)", "two finite numbers"), ("1x=3", "not a config path"),
        ("=3", "expected KEY=VALUES"), ("opt=choice()", "one or more values"),
    ])
    func badAxesAreNamed(_ text: String, _ message: String) throws {
        let error = try #require(throws: CLIError.self) { try SweepAxis(text) }
        #expect(error.description.contains("axis '\(text)'"), "\(error)")
        #expect(error.description.contains(message), "\(error)")
    }

    @Test func theGridVariesTheLastAxisFastest() throws {
        let axes = try ["lr=0.1,0.01", "seed=range(3)"].map(SweepAxis.init)
        #expect(try SweepPlan.overrides(axes: axes, draws: nil, seed: 0) == [
            ["lr=0.1", "seed=0"], ["lr=0.1", "seed=1"], ["lr=0.1", "seed=2"],
            ["lr=0.01", "seed=0"], ["lr=0.01", "seed=1"], ["lr=0.01", "seed=2"],
        ])
        #expect(SweepPlan.ids(count: 3) == ["t000", "t001", "t002"])
        #expect(SweepPlan.ids(count: 1000).last == "t999")
        #expect(SweepPlan.ids(count: 1001).first == "t0000")
        #expect(SweepPlan.ids(count: 1001).last == "t1000")
    }

    @Test func randomDrawsComeFromTheSeedAndCrossTheGrid() throws {
        let axes = try ["lr=loguniform(1e-5,1e-1)", "seed=range(2)", "opt=choice(adam,sgd)", "d=uniform(0,0.5)"].map(SweepAxis.init)
        let first = try SweepPlan.overrides(axes: axes, draws: 50, seed: 42)
        #expect(first == (try SweepPlan.overrides(axes: axes, draws: 50, seed: 42)))
        #expect(first != (try SweepPlan.overrides(axes: axes, draws: 50, seed: 43)))
        #expect(first.count == 100)
        var options: Set<String> = []
        for (n, trial) in first.enumerated() {
            #expect(trial.map { $0.prefix { $0 != "=" } } == ["lr", "seed", "opt", "d"])
            #expect(trial[1] == "seed=\(n % 2)")
            let lr = try #require(Double(trial[0].dropFirst(3)))
            let d = try #require(Double(trial[3].dropFirst(2)))
            #expect(lr >= 1e-5 && lr <= 1e-1 && d >= 0 && d < 0.5)
            options.insert(trial[2])
            // Both seeds of one draw share its random values.
            if n % 2 == 1 { #expect(first[n - 1][0] == trial[0] && first[n - 1][2] == trial[2]) }
        }
        #expect(options == ["opt=adam", "opt=sgd"])
        // Log-uniform: about as many draws below 1e-3 as above.
        let below = first.filter { Double($0[0].dropFirst(3))! < 1e-3 }.count
        #expect(below > 30 && below < 70)
    }

    @Test func plansThatCannotBeMadeAreRefused() throws {
        let random = try SweepAxis("lr=uniform(0,1)")
        let grid = try SweepAxis("seed=range(2)")
        #expect(throws: CLIError.self) { try SweepPlan.overrides(axes: [random], draws: nil, seed: 0) }
        #expect(throws: CLIError.self) { try SweepPlan.overrides(axes: [grid], draws: 3, seed: 0) }
        #expect(throws: CLIError.self) { try SweepPlan.overrides(axes: [random], draws: 0, seed: 0) }
        let twice = try #require(throws: CLIError.self) { try SweepPlan.overrides(axes: [grid, grid], draws: nil, seed: 0) }
        #expect(twice.description.contains("'seed' is given twice"))
    }
}

@Suite(.serialized) struct SweepCommandTests {
    static let child = NokoRunTests.builtProduct("noko-test-child")

    /// A scratch directory that is a git repository with one commit (the code the sweep
    /// checkpoints), `runs/` ignored.
    static func repository() throws -> Fixtures {
        let fixtures = Fixtures()
        try CheckoutCommandTests.git(["init", "-q", "-b", "main"], in: fixtures.root)
        try Data("runs/\n".utf8).write(to: fixtures.url(".gitignore"))
        try Data("let lr = 0.1\n".utf8).write(to: fixtures.url("train.swift"))
        try CheckoutCommandTests.git(["add", "."], in: fixtures.root)
        try CheckoutCommandTests.git(["-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-m", "first"], in: fixtures.root)
        return fixtures
    }

    /// Runs `noko-run sweep …` in-process; the error it threw, if any, and its standard
    /// output and error.
    @discardableResult
    static func sweep(_ fixtures: Fixtures, _ arguments: [String], environment: [String: String] = [:]) -> (error: (any Error)?, out: String, err: String) {
        let context = fixtures.context(environment: gitTestEnvironment.merging(environment) { _, new in new })
        do {
            try NokoRun.parseCommand(["sweep"] + arguments).run(in: context)
            return (nil, context.capturedOutput, context.capturedError)
        } catch {
            return (error, context.capturedOutput, context.capturedError)
        }
    }

    static func record(_ fixtures: Fixtures, _ name: String) throws -> SweepFile {
        try #require(try SweepFile.read(from: fixtures.url("runs/\(name)")))
    }

    static func metadata(_ run: URL) throws -> JSONValue {
        try JSONValue(parsing: [UInt8](Data(contentsOf: RunLayout(run).metadata)))
    }

    /// The max of `epoch/test_accuracy` in a run's journal, read line by line.
    static func maxAccuracy(in run: URL) throws -> Double {
        let text = try String(contentsOf: RunLayout(run).journal, encoding: .utf8)
        let values = try text.split(separator: "\n").compactMap { line -> Double? in
            let row = try JSONValue(parsing: String(line))
            return row["$table"] == "epoch" ? row["test_accuracy"]?.doubleValue : nil
        }
        return try #require(values.max())
    }

    @Test func trialsAreRunsOfOneCheckpointAndTheLeaderboardIsTheirJournals() throws {
        let fixtures = try Self.repository()
        // A sweep started inside an allocation: the rank variables must not reach the trials.
        let result = Self.sweep(
            fixtures, ["grid", "lr=0.1,0.01", "seed=range(3)", "--metric", "max:epoch/test_accuracy", "--", Self.child, "trial"],
            environment: ["RANK": "3", "WORLD_SIZE": "8", "SLURM_PROCID": "2", "SLURM_NTASKS": "4"])
        #expect(result.error == nil, "\(result.err)")
        let sweep = try Self.record(fixtures, "grid")
        #expect(sweep.trials.map(\.id) == ["t000", "t001", "t002", "t003", "t004", "t005"])
        #expect(sweep.trials.map(\.overrides) == [
            ["lr=0.1", "seed=0"], ["lr=0.1", "seed=1"], ["lr=0.1", "seed=2"], ["lr=0.01", "seed=0"], ["lr=0.01", "seed=1"], ["lr=0.01", "seed=2"],
        ])
        #expect(sweep.trials.allSatisfy { $0.status == .finished && $0.attempts.count == 1 && $0.attempts[0].exitCode == 0 })
        let checkpoint = try #require(sweep.checkpoint)
        // One checkpoint for the whole sweep: the branch holds exactly one commit.
        #expect(try CheckoutCommandTests.git(["rev-list", "--count", "main..noko-checkpoints"], in: fixtures.root) == "1\n")
        for trial in sweep.trials {
            let run = fixtures.url("runs/grid/\(trial.id)")
            let metadata = try Self.metadata(run)
            #expect(metadata["status"] == "finished")
            #expect(metadata["git"]?["checkpoint"]?.stringValue == checkpoint)
            #expect(metadata["links"]?["sweep"]?["trial"]?.stringValue == trial.id)
            #expect(metadata["links"]?["sweep"]?["overrides"] == .array(trial.overrides.map(JSONValue.string)))
            #expect(metadata["argv"]?.arrayValue?.suffix(2).map(\.stringValue) == trial.overrides)
            #expect(FileManager.default.fileExists(atPath: RunLayout(run).fromHeadDiff.path))
            let log = try String(contentsOf: RunLayout(fixtures.url("runs/grid")).sweepLog(trial.id), encoding: .utf8)
            #expect(log.contains("rank none procid none"), "\(log)")
        }

        let status = Self.sweep(fixtures, ["grid", "--status", "--over", "seed", "--json"])
        #expect(status.error == nil, "\(status.err)")
        let json = try JSONValue(parsing: status.out)
        let board = try #require(json["leaderboard"]?.arrayValue)
        #expect(board.map { $0["overrides"] } == [["lr=0.01"], ["lr=0.1"]])
        for (group, lr) in zip(board, ["0.01", "0.1"]) {
            let runs = sweep.trials.filter { $0.overrides[0] == "lr=\(lr)" }.map { fixtures.url("runs/grid/\($0.id)") }
            let values = try runs.map(Self.maxAccuracy)
            let mean = values.reduce(0, +) / 3
            let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 2).squareRoot()
            #expect(abs(group["mean"]!.doubleValue! - mean) < 1e-12)
            #expect(abs(group["std"]!.doubleValue! - std) < 1e-12)
            #expect(group["n"] == 3)
        }
        let text = Self.sweep(fixtures, ["grid", "--status", "--over", "seed"]).out
        #expect(text.contains("metric      max:epoch/test_accuracy (higher is better), mean ± std over seed"), "\(text)")
        #expect(text.contains("1  0.01"), "\(text)")

        // list shows the sweep as one line, and its trials inside it; report draws every trial.
        let list = try fixtures.run(["list", "runs"])
        #expect(list.contains("grid  sweep  6/6 finished  best max:epoch/test_accuracy"), "\(list)")
        let listJSON = try JSONValue(parsing: try fixtures.run(["list", "runs", "--json"]))
        #expect(listJSON["sweeps"]?.arrayValue?.first?["counts"] == ["finished": 6])
        #expect(listJSON["sweeps"]?.arrayValue?.first?["best"]?["trial"]?.stringValue?.hasPrefix("t00") == true)
        let trials = try JSONValue(parsing: try fixtures.run(["list", "runs/grid", "--json"]))
        #expect(trials["runs"]?.arrayValue?.map { $0["name"] } == ["t000", "t001", "t002", "t003", "t004", "t005"])
        let page = fixtures.url("report.html")
        try fixtures.run(["report", "runs/grid", "-o", page.path])
        let html = try String(contentsOf: page, encoding: .utf8)
        for id in ["t000", "t005"] { #expect(html.contains(id)) }
    }

    @Test func parallelTrialsOverlapAndNoneRunsTwice() throws {
        let fixtures = try Self.repository()
        let result = Self.sweep(fixtures, ["par", "seed=range(6)", "sleepMs=300", "-j", "3", "--no-checkpoint", "--", Self.child, "trial"])
        #expect(result.error == nil, "\(result.err)")
        let sweep = try Self.record(fixtures, "par")
        #expect(sweep.checkpoint == nil)
        let attempts = sweep.trials.flatMap(\.attempts)
        #expect(attempts.count == 6 && Set(attempts.map(\.run)).count == 6)
        #expect(attempts.allSatisfy { $0.status == .finished })
        let intervals = attempts.map { ($0.started!, $0.ended!) }
        let overlapping = intervals.indices.flatMap { i in intervals.indices.filter { $0 > i }.map { (i, $0) } }
            .filter { i, j in intervals[i].0 < intervals[j].1 && intervals[j].0 < intervals[i].1 }
        #expect(overlapping.count >= 3, "\(intervals)")
        // At most three at a time.
        for (start, _) in intervals {
            #expect(intervals.filter { $0.0 <= start && start < $0.1 }.count <= 3)
        }
        #expect(try Self.metadata(fixtures.url("runs/par/t000"))["git"] == .null)
        // Trials start in trial order, whichever worker takes them.
        let starts = result.err.split(separator: "\n").filter { $0.contains(" started]") }
        #expect(starts.map { String($0.prefix(5)) } == (0..<6).map { "[t00\($0)" }, "\(result.err)")
    }

    @Test func aFailedTrialIsRecordedTheRestGoOnAndOnlyFailedOnesAreRetried() throws {
        let fixtures = try Self.repository()
        let first = Self.sweep(fixtures, ["f", "lr=0.1,-1,0.01", "--no-checkpoint", "--", Self.child, "trial"])
        #expect(first.error is ExitCode)
        var sweep = try Self.record(fixtures, "f")
        #expect(sweep.trials.map(\.status) == [.finished, .failed, .finished])
        #expect(sweep.trials[1].attempts[0].exitCode == 1)
        #expect(first.err.contains("[t001 failed after"), "\(first.err)")
        #expect(first.err.contains("error: lr must be positive, got -1.0"), "\(first.err)")

        // A rerun resumes: nothing is left to run but the failed trial, which waits for --retry-failed.
        let resumed = Self.sweep(fixtures, ["f"])
        #expect(resumed.err.contains("0 to run (skipping 2 finished, 1 failed (--retry-failed reruns them))"), "\(resumed.err)")
        #expect(try Self.record(fixtures, "f") == sweep)

        let retried = Self.sweep(fixtures, ["f", "--retry-failed"])
        #expect(retried.error is ExitCode)
        sweep = try Self.record(fixtures, "f")
        #expect(sweep.trials[1].attempts.map(\.run) == ["t001", "t001.retry-1"])
        #expect(sweep.trials[0].attempts.count == 1 && sweep.trials[2].attempts.count == 1)
        #expect(FileManager.default.fileExists(atPath: fixtures.url("runs/f/t001/metadata.json").path))
        #expect(FileManager.default.fileExists(atPath: fixtures.url("runs/f/t001.retry-1/metadata.json").path))
    }

    @Test func failFastAndCheckStopBeforeTheRest() throws {
        let fixtures = try Self.repository()
        let fast = Self.sweep(fixtures, ["ff", "lr=-1,0.1,0.01", "--fail-fast", "--no-checkpoint", "--", Self.child, "trial"])
        #expect(fast.error is ExitCode)
        #expect(try Self.record(fixtures, "ff").trials.map(\.status) == [.failed, .pending, .pending])
        #expect(fast.err.contains("stopped early (--fail-fast)"), "\(fast.err)")

        let check = Self.sweep(fixtures, ["chk", "lr=-1,0.1", "seed=range(2)", "--check", "-j", "2", "--no-checkpoint", "--", Self.child, "trial"])
        #expect(check.error is ExitCode)
        #expect(try Self.record(fixtures, "chk").trials.map(\.status) == [.failed, .pending, .pending, .pending])
        #expect(check.err.contains("--check: t000 runs alone first"), "\(check.err)")
        #expect(check.err.contains("lr must be positive"), "\(check.err)")
    }

    @Test func aResumedSweepRunsTheCodeOfItsCheckpointOrTakesANewOneWhenAsked() throws {
        let fixtures = try Self.repository()
        let arguments = ["code", "lr=-1,0.1,-1,0.01", "--fail-fast"]
        #expect(Self.sweep(fixtures, arguments + ["--", Self.child, "trial"]).error is ExitCode)
        let first = try #require(try Self.record(fixtures, "code").checkpoint)
        // The same code: the resumed trials record the sweep's checkpoint.
        #expect(Self.sweep(fixtures, arguments).error is ExitCode)
        #expect(try Self.record(fixtures, "code").trials.map(\.status) == [.failed, .finished, .failed, .pending])
        #expect(try Self.metadata(fixtures.url("runs/code/t001"))["git"]?["checkpoint"]?.stringValue == first)

        try Data("let lr = 0.2\n".utf8).write(to: fixtures.url("train.swift"))
        let changed = Self.sweep(fixtures, ["code"])
        #expect("\(changed.error.map { "\($0)" } ?? "")".contains("the code changed since sweep code started (its checkpoint \(first.prefix(12))"))
        #expect(try Self.record(fixtures, "code").trials[3].status == .pending)

        // Exit status 1 still: t000 and t002 stay failed.
        let renewed = Self.sweep(fixtures, ["code", "--new-checkpoint"])
        #expect(renewed.error is ExitCode, "\(renewed.err)")
        #expect(renewed.err.contains("[t003 finished"), "\(renewed.err)")
        let sweep = try Self.record(fixtures, "code")
        let second = try #require(sweep.checkpoint)
        #expect(second != first && sweep.earlierCheckpoints == [first])
        #expect(try Self.metadata(fixtures.url("runs/code/t003"))["git"]?["checkpoint"]?.stringValue == second)
        #expect(try Self.metadata(fixtures.url("runs/code/t001"))["git"]?["checkpoint"]?.stringValue == first)
    }

    @Test func aSweepStartedDifferentlyIsRefusedNamingTheDifference() throws {
        let fixtures = try Self.repository()
        #expect(Self.sweep(fixtures, ["d", "lr=0.1", "--no-checkpoint", "--", Self.child, "trial"]).error == nil)
        let before = try Self.record(fixtures, "d")
        let axes = Self.sweep(fixtures, ["d", "lr=0.1,0.2", "--", Self.child, "trial"])
        let message = "\(axes.error.map { "\($0)" } ?? "")"
        #expect(message.contains("sweep d was started differently: axes lr=0.1,0.2 (recorded: lr=0.1)"), "\(message)")
        let command = Self.sweep(fixtures, ["d", "lr=0.1", "--", Self.child, "trial", "epochs=2"])
        #expect("\(command.error.map { "\($0)" } ?? "")".contains("command \(Self.child) trial epochs=2 (recorded: \(Self.child) trial)"))
        let seed = Self.sweep(fixtures, ["d", "--seed", "3"])
        #expect("\(seed.error.map { "\($0)" } ?? "")".contains("--seed 3 (recorded: 0)"))
        #expect(try Self.record(fixtures, "d") == before)
    }

    @Test func badInputIsNamed() throws {
        let fixtures = try Self.repository()
        func message(_ arguments: [String]) -> String {
            let result = Self.sweep(fixtures, arguments)
            return result.error.map { ($0 as? CLIError)?.description ?? NokoRun.message(for: $0) } ?? ""
        }
        #expect(message(["x", "lr=0.1", "--", "no-such-program-here"]).contains("no-such-program-here: the trial command is not on PATH"))
        #expect(message(["x", "lr=0.1"]).contains("give the trial command after --"))
        #expect(message(["x", "-j", "0", "lr=0.1", "--", Self.child]).contains("-j 0: expected at least 1"))
        #expect(message(["a/b", "lr=0.1", "--", Self.child]).contains("expected a plain directory name"))
        #expect(message(["x", "--status"]).contains("no sweep here"))
        #expect(message(["x"]).contains("no sweep to resume"))
        try FileManager.default.createDirectory(at: fixtures.url("runs/taken/t000"), withIntermediateDirectories: true)
        #expect(message(["taken", "lr=0.1", "--", Self.child]).contains("exists and is not a sweep"))
        #expect(Self.sweep(fixtures, ["ok", "lr=0.1", "--no-checkpoint", "--", Self.child, "trial"]).error == nil)
        #expect(message(["ok", "--status", "--over", "seed"]).contains("--over seed: not an axis of sweep ok (its axes: lr)"))
        // SLURM's options: a value that starts with "--" is --slurm's; its words are checked.
        #expect(message(["ok", "--slurm", "--partition=gpu"]).contains("--slurm gives sbatch's arguments: use it with --executor slurm"))
        #expect(message(["ok", "--executor", "slurm", "--slurm", "--comment='open"]).contains("--slurm: a single quote is not closed"))
        #expect(message(["ok", "--executor", "slurm", "--fail-fast"]).contains("--check and --fail-fast stop a local sweep"))
        #expect(message(["ok", "--run-trial", "0"]).contains("--run-trial and --submission go together"))
        #expect(message(["ok", "--run-trial", "5", "--submission", "1"]).contains("--run-trial 5: sweep ok has trials 0 to 0"))
        #expect(message(["ok", "--run-trial", "0", "--submission", "1"]).contains("--submission 1: sweep ok records no such submission"))
        // A sweep.json damaged by hand is named, not taken for an empty sweep.
        try Data("{\"format_version\": 1, \"name\": 3}".utf8).write(to: fixtures.url("runs/ok/sweep.json"))
        #expect(message(["ok", "--status"]).contains("sweep.json: expected a string \"name\""))
    }

    /// SIGINT to a real `noko-run sweep`: no trial is left running, the running ones are
    /// marked killed in a valid sweep.json, and the next run resumes them.
    @Test func anInterruptedSweepLeavesNothingRunningAndResumes() throws {
        let fixtures = try Self.repository()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: NokoRunTests.builtProduct("noko-run"))
        process.arguments = ["sweep", "int", "seed=range(5)", "sleepMs=300", "-j", "2", "--no-checkpoint", "--", Self.child, "trial", "epochs=6"]
        process.currentDirectoryURL = fixtures.root
        process.environment = gitTestEnvironment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let sweep = try? SweepFile.read(from: fixtures.url("runs/int")), sweep.counts[.running] == 2,
                sweep.trials.prefix(2).allSatisfy({ FileManager.default.fileExists(atPath: fixtures.url("runs/int/\($0.id)/metadata.json").path) })
            {
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGINT)
        let sweep = try Self.record(fixtures, "int")
        #expect(sweep.trials.map(\.status) == [.killed, .killed, .pending, .pending, .pending])
        for trial in sweep.trials.prefix(2) {
            let metadata = try Self.metadata(fixtures.url("runs/int/\(trial.id)"))
            #expect(metadata["status"] == "killed")
            let pid = try #require(metadata["pid"]?.intValue)
            #expect(kill(pid_t(pid), 0) != 0, "trial \(trial.id) (pid \(pid)) is still running")
        }

        let resumed = Self.sweep(fixtures, ["int", "-j", "2"])
        #expect(resumed.error == nil, "\(resumed.err)")
        let done = try Self.record(fixtures, "int")
        #expect(done.trials.allSatisfy { $0.status == .finished })
        #expect(done.trials.prefix(2).map { $0.attempts.map(\.run) } == [["t000", "t000.retry-1"], ["t001", "t001.retry-1"]])
        #expect(done.trials.suffix(3).allSatisfy { $0.attempts.count == 1 })
    }
}
