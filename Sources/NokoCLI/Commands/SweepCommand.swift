import ArgumentParser
import Foundation
import NokoCore
import Noko
import NokoGit
import NokoPlatform

/// `noko-run sweep NAME AXIS… -- COMMAND ARGS…`: a grid or random search over config
/// overrides, each trial an ordinary run in `runs/NAME/`, resumable, with a leaderboard.
package struct SweepCommand: NokoCommand {
    package static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a grid or random search over config overrides; resume it; rank its trials.",
        discussion: """
            Each trial runs COMMAND ARGS… KEY=VALUE… (the overrides noko's launch config reads; \
            --overrides-in environment passes them as NOKO_OVERRIDES instead) as an ordinary noko \
            run named by the trial's id (t000, t001…, in trial order) inside RUNS_DIR/NAME, with \
            {"sweep": {name, trial, overrides}} in its metadata.json. RUNS_DIR/NAME/sweep.json \
            records the command, the axes, the seed and every trial's status (pending, running, \
            finished, failed, killed), run, exit code and duration; logs/<run>.log holds what each \
            trial's process wrote.

            AXES
              lr=0.1,0.01,0.001         a list; commas inside [ ], { }, ( ) or quotes
                                        do not split: hidden=[64,128],[32,64] is two
              'layers=range(2,8,2)'     2, 4, 6 (Python's range: the stop is left out)
              'lr=loguniform(1e-5,1)'   random (--trials N): log-uniform in the bounds
              'drop=uniform(0,0.5)'     random: uniform
              'opt=choice(adam,sgd)'    random: one of the values
            (Quote axes with parentheses: the shell reads them otherwise.) \
            The grid is the product of the list axes, the last varying fastest. With --trials N, \
            each of N draws of the random axes (from --seed, recorded: the same command gives the \
            same trials) is crossed with the grid.

            ONE CHECKPOINT
              The code is checkpointed once, when the sweep starts (recorded in sweep.json); every \
            trial records that checkpoint (NOKO_CHECKPOINT) instead of taking its own. Resuming on \
            code that is no longer the checkpoint's is an error: restore the code, or give \
            --new-checkpoint to checkpoint it for the trials still to run (the old one is kept in \
            sweep.json's earlier_checkpoints).

            RUNNING
              -j N runs N trials at once; with -j 1 their output also goes to the terminal. A line \
            per start and end shows done, failed, running, to go, and the best --metric so far. A \
            failed trial does not stop the sweep unless --fail-fast (no new trial starts; running \
            ones end). --check runs the first trial alone first, so a value the program rejects \
            fails at once. Ctrl-C (or SIGTERM) stops the running trials, marks them killed and \
            leaves sweep.json consistent. Variables that would make a trial a rank of a \
            distributed job (RANK, WORLD_SIZE, SLURM_PROCID, SLURM_NTASKS, OMPI_COMM_WORLD_*…) are \
            cleared, so a sweep inside an allocation runs whole runs.

            RESUMING
              Run the same command again, or just noko-run sweep NAME: finished trials are \
            skipped, killed and never-started ones run; --retry-failed reruns failed ones into \
            <id>.retry-1 (the failed run stays). Other axes, command, --trials or --seed than \
            recorded are an error naming the difference: start another sweep. One process runs a \
            sweep at a time (RUNS_DIR/NAME/.sweep.lock).

            ON A SLURM CLUSTER
              --executor slurm runs nothing here: it writes RUNS_DIR/NAME/slurm.sh, an sbatch \
            --array job with one task per trial still to run (task N runs trial N; -j N adds %N), \
            submits it with sbatch --parsable and --slurm's arguments (partition, time, GPUs, \
            account), records the job in sweep.json, and returns. Each task runs noko-run sweep \
            NAME --run-trial N --submission K, which claims trial N (RUNS_DIR/NAME/claims/<id>, \
            created with O_EXCL, touched every 30 s), runs it as a local sweep would, and records \
            it in sweep.json under .sweep.json.lock, so a task run twice, or a trial run meanwhile \
            by a local sweep, runs once. A claim untouched for 5 minutes, or whose process is gone \
            from its host, is stale: a later task takes it over and the attempt is marked killed. \
            Run --executor slurm again to submit what is still to run (not what SLURM still has \
            queued); --status shows each job and, where squeue works, its queued tasks. The \
            shared file system must honour flock (NFSv4, or NFSv3 with lockd; Lustre with -o \
            flock), and the nodes' clocks must agree to within a minute or so.

            RESULTS
              --status prints the leaderboard: one line per distinct set of overrides with --metric \
            (last value, or min:/max:, per trial, as noko-run list --metric), over the axes named by \
            --over (e.g. --over seed) as mean ± sample standard deviation and n, best first \
            (--goal, by default min for min: and max otherwise). noko-run list RUNS_DIR shows the \
            sweep as one line; noko-run list RUNS_DIR/NAME lists its trials; noko-run report \
            RUNS_DIR/NAME draws every trial.

            EXAMPLES
              noko-run sweep lr lr=0.1,0.01 'seed=range(3)' -- .build/release/train
              noko-run sweep lr -j 3                  resume it, 3 trials at a time
              noko-run sweep lr --status --metric max:epoch/test_accuracy --over seed
              noko-run sweep rnd --trials 20 'lr=loguniform(1e-5,1e-1)' -- ./train
              noko-run sweep lr --executor slurm -j 8 --slurm "--partition=gpu --gres=gpu:1"

            EXIT STATUS
              0   every trial finished
              1   a trial failed, or the sweep could not run
              64  usage error

            JSON (--json), with --status: {name, path, command, axes, draws, seed, checkpoint, metric, \
            goal, over, counts: {status: n}, trials: [{id, overrides, status, run, exit_code, \
            started, ended, duration, value}], leaderboard: [{overrides, mean, std, n, trials}], submissions: [{number, job, submitted, arguments, \
            trials, in_queue: {state: [trial ids]} or null without squeue}]}
            """
    )

    @Argument(help: ArgumentHelp("The sweep's name: its directory inside --runs-dir.", valueName: "name"))
    package var name: String

    /// The axes, then (after `--`) the command: ArgumentParser takes one positional array, so
    /// the two are told apart by shape — the command starts at the first word that is not
    /// `KEY=…` with KEY a config path (an executable's name is not).
    @Argument(
        help: ArgumentHelp(
            "KEY=VALUES axes (see AXES; none to resume the recorded sweep), then -- and the trial command with its arguments.",
            valueName: "axis… -- command"))
    package var words: [String] = []

    var axes: [String] { Array(words.prefix(while: Self.isAxis)) }
    var command: [String] { Array(words.drop(while: Self.isAxis)) }

    static func isAxis(_ word: String) -> Bool {
        guard let equals = word.firstIndex(of: "="), equals != word.startIndex else { return false }
        return ConfigOverride(String(word[..<equals]) + "=0", source: .argument) != nil
    }

    @Option(name: .long, help: ArgumentHelp("Where the sweep's directory goes.", valueName: "dir"))
    package var runsDir = "runs"

    @Option(name: .customShort("j"), help: ArgumentHelp("Trials run at once (default: 1 here; with slurm, as many as SLURM allows).", valueName: "n"))
    package var jobs: Int?

    @Option(name: .long, help: ArgumentHelp("Where trials run: local (children of this process) or slurm (an sbatch array job).", valueName: "executor"))
    package var executor = SweepExecutor.local

    // Unconditional: the value itself starts with "--".
    @Option(
        name: .long, parsing: .unconditional,
        help: ArgumentHelp("Arguments for sbatch, e.g. \"--partition=gpu --time=4:00:00 --gres=gpu:1\".", valueName: "args"))
    package var slurm: String?

    @Option(name: .long, help: ArgumentHelp("Run the trial with this index and end (what slurm.sh's array tasks run).", valueName: "index"))
    package var runTrial: Int?

    @Option(name: .long, help: ArgumentHelp("With --run-trial: the submission (in sweep.json) the task belongs to.", valueName: "n"))
    package var submission: Int?

    @Option(name: .long, help: ArgumentHelp("Draws of the random axes (uniform, loguniform, choice).", valueName: "n"))
    package var trials: Int?

    @Option(name: .long, help: ArgumentHelp("Seed of the random draws (recorded).", valueName: "n"))
    package var seed: UInt64?

    @Option(name: .long, help: ArgumentHelp("Rank trials by this metric (table/key, min:table/key, max:table/key).", valueName: "metric"))
    package var metric: String?

    @Option(name: .long, help: ArgumentHelp("Whether the metric is better high (max) or low (min).", valueName: "goal"))
    package var goal: SweepGoal?

    @Option(name: .long, help: ArgumentHelp("Aggregate over this axis in the leaderboard (mean ± std); repeatable.", valueName: "key"))
    package var over: [String] = []

    @Option(name: .long, help: ArgumentHelp("How trials get their overrides: arguments or environment (NOKO_OVERRIDES).", valueName: "where"))
    package var overridesIn = "arguments"

    @Flag(name: .long, help: "Print the leaderboard and the trials' status; run nothing.")
    package var status = false

    @Flag(name: .long, help: "Run the first trial alone first; stop if it fails.")
    package var check = false

    @Flag(name: .long, help: "Start no new trial after one fails.")
    package var failFast = false

    @Flag(name: .long, help: "Rerun failed trials (into <id>.retry-N).")
    package var retryFailed = false

    @Flag(name: .long, help: "Take no checkpoint of the code (also NOKO_NO_CHECKPOINT=1).")
    package var noCheckpoint = false

    @Flag(name: .long, help: "Resume on code changed since the sweep started: checkpoint it for the trials still to run.")
    package var newCheckpoint = false

    @OptionGroup package var render: RenderOptions

    package init() {}

    package func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("-j \(jobs): expected at least 1") }
        if executor == .slurm && (check || failFast) {
            throw ValidationError("--check and --fail-fast stop a local sweep; SLURM runs every submitted task (scancel stops a job)")
        }
        if slurm != nil && executor != .slurm { throw ValidationError("--slurm gives sbatch's arguments: use it with --executor slurm") }
        if (runTrial == nil) != (submission == nil) {
            throw ValidationError("--run-trial and --submission go together (slurm.sh gives both)")
        }
        if runTrial != nil && (!words.isEmpty || status || executor == .slurm) {
            throw ValidationError("--run-trial runs one trial of a recorded sweep: give it with the sweep's name and --submission only")
        }
        if !["arguments", "environment"].contains(overridesIn) {
            throw ValidationError("--overrides-in \(TerminalText.escaped(overridesIn)): expected arguments or environment")
        }
        if name.isEmpty || name.contains("/") || name.hasPrefix(".") {
            throw ValidationError("sweep name '\(TerminalText.escaped(name))': expected a plain directory name (no '/', not starting with '.')")
        }
        if let metric {
            do { _ = try MetricReference(metric) } catch let error as CLIError { throw ValidationError(error.description) }
        }
        if render.json && !status { throw ValidationError("--json prints the leaderboard: give it with --status") }
    }

    package func run(in context: CommandContext) throws {
        let runs = context.url(forPath: runsDir, isDirectory: true)
        let directory = runs.appendingPathComponent(name, isDirectory: true)
        let store = SweepStore(directory: directory)
        if let runTrial, let submission {
            try runArrayTask(runTrial, submission: submission, store: store, context: context)
            return
        }
        let recorded = try LoadedRun.cliError { () throws(LogFileError) in try SweepFile.read(from: directory) }
        if status {
            guard let recorded else { throw CLIError("\(directory.path): no sweep here (no \(RunLayout.sweepName))") }
            try printStatus(recorded, in: directory, context: context)
            return
        }

        var sweep: SweepFile
        if let recorded {
            try checkSame(as: recorded)
            sweep = recorded
            _ = try recorded.axes.map(SweepAxis.init)
        } else {
            guard !axes.isEmpty else {
                throw CLIError(
                    "\(directory.path): no sweep to resume; start one with axes and a command: noko-run sweep \(name) lr=0.1,0.01 -- COMMAND")
            }
            guard !command.isEmpty else {
                throw CLIError("give the trial command after --, e.g. noko-run sweep \(name) \(axes[0]) -- .build/release/train")
            }
            if FileSystem.exists(directory.path), !(try FileSystem.contentsOfDirectory(directory.path)).isEmpty {
                throw CLIError("\(directory.path) exists and is not a sweep (no \(RunLayout.sweepName)); choose another name")
            }
            let parsed = try axes.map(SweepAxis.init)
            let points = try SweepPlan.overrides(axes: parsed, draws: trials, seed: seed ?? 0)
            let trialList = zip(SweepPlan.ids(count: points.count), points).map { SweepFile.Trial(id: $0, overrides: $1) }
            sweep = SweepFile(
                name: name, command: command, axes: axes, draws: trials, seed: seed ?? 0, overridesVia: overridesIn,
                checkpoint: nil, metric: metric, goal: goal?.rawValue ?? metric.flatMap { try? MetricReference($0) }.map { SweepGoal.inferred(from: $0).rawValue },
                created: context.now, trials: trialList)
        }
        let executable = try Self.resolve(sweep.command[0], in: context)
        var sbatchArguments: [String] = []
        if let slurm {
            do { sbatchArguments = try ShellWords.split(slurm, source: "--slurm") } catch { throw CLIError("\(error.description)") }
        }

        try FileSystem.makeDirectories(directory.path)
        let lockFile = try FileDescriptor.open(RunLayout(directory).sweepLock.path, .append)
        defer { lockFile.closeIgnoringErrors() }
        guard try lockFile.lockExclusively(wait: false) else {
            throw CLIError("sweep \(name) is being run by another noko-run process (it holds \(RunLayout(directory).sweepLock.path)); wait for it, or stop it")
        }
        if recorded == nil {
            sweep.checkpoint = try checkpoint(into: directory, context: context)
            try store.create(sweep)
        } else if let recordedCheckpoint = sweep.checkpoint, !SweepRunner.queue(sweep, retryFailed: retryFailed).isEmpty {
            // Trials still to run record the sweep's checkpoint: they must run its code.
            switch try sameCode(as: recordedCheckpoint, directory: directory, context: context) {
            case false? where newCheckpoint:
                let replacement = try checkpoint(into: directory, context: context)
                sweep = try store.update { sweep in
                    sweep.earlierCheckpoints.append(recordedCheckpoint)
                    sweep.checkpoint = replacement
                }.sweep
            case false?:
                throw CLIError(
                    "the code changed since sweep \(name) started (its checkpoint \(recordedCheckpoint.prefix(12)) on noko-checkpoints): the trials still to run would run other code than the one recorded for the sweep. Restore that code (noko-run diff shows the checkpoint's change from its HEAD), or give --new-checkpoint to checkpoint the code as it is now for the trials still to run")
            case true?:
                break
            case nil:
                context.note("warning: \(context.workingDirectory.path) is no longer in a git repository; the trials still to run record the sweep's checkpoint \(recordedCheckpoint.prefix(12)) unchecked")
            }
        }

        let queue = SweepRunner.queue(sweep, retryFailed: retryFailed)
        let counts = sweep.counts
        var skipped: [String] = []
        if let finished = counts[.finished] { skipped.append("\(finished) finished") }
        if let failed = counts[.failed], !retryFailed { skipped.append("\(failed) failed (--retry-failed reruns them)") }
        let skippedText = skipped.isEmpty ? "" : " (skipping \(skipped.joined(separator: ", ")))"
        if executor == .slurm {
            try submit(sweep, queue: queue, arguments: sbatchArguments, store: store, runs: runs, skipped: skippedText, context: context)
            return
        }

        let reference = try (metric ?? sweep.metric).map(MetricReference.init)
        let jobs = jobs ?? 1
        var settings = SweepRunner.Settings()
        settings.jobs = jobs
        settings.failFast = failFast
        settings.retryFailed = retryFailed
        settings.check = check
        settings.echo = jobs == 1 && context.writesToStandardOutput
        settings.metric = reference
        settings.goal = goal ?? sweep.goal.flatMap(SweepGoal.init(rawValue:)) ?? reference.map(SweepGoal.inferred) ?? .max

        let interrupts = InterruptHandling()
        if context.writesToStandardOutput { interrupts.install() }
        let runner = SweepRunner(
            store: store, sweep: sweep, queue: queue, executable: executable, environment: context.environment,
            settings: settings, context: context, interrupts: interrupts)
        context.note(
            "sweep \(name): \(sweep.trials.count) trial\(sweep.trials.count == 1 ? "" : "s"), \(queue.count) to run\(skippedText), \(jobs) at a time, in \(directory.path)")
        let outcome = try runner.run()
        let done = outcome.sweep.counts
        var summary = "sweep \(name): \(done[.finished, default: 0])/\(outcome.sweep.trials.count) finished"
        if let failed = done[.failed] { summary += ", \(failed) failed" }
        if outcome.stoppedEarly {
            summary += "; stopped early (\(check ? "--check" : "--fail-fast")): fix the failure, then rerun with --retry-failed to go on"
        }
        context.note("\(summary)")
        if reference != nil { try printStatus(outcome.sweep, in: directory, context: context) }
        if outcome.failed { throw ExitCode.failure }
    }

    /// `--executor slurm`: submits the trials still to run as one array job, leaving out
    /// those a live process holds and those SLURM still has queued from an earlier submission.
    func submit(
        _ sweep: SweepFile, queue: [SweepRunner.Queued], arguments: [String], store: SweepStore, runs: URL, skipped: String,
        context: CommandContext
    ) throws {
        // Claims' heartbeats are file times: compare them with the real clock.
        let now = Date().timeIntervalSince1970
        let inSlurm = SlurmExecutor.queued(jobs: sweep.submissions.compactMap(\.job), context: context) ?? [:]
        var waiting: [String] = []
        var held: [String] = []
        let submitted = queue.filter { queued in
            let trial = sweep.trials[queued.index]
            let tasks = sweep.submissions.filter { $0.trials[trial.id] != nil }.compactMap(\.job).map { "\($0)_\(queued.index)" }
            if tasks.contains(where: { inSlurm[$0] != nil }) {
                waiting.append(trial.id)
                return false
            }
            if (try? store.liveClaimant(of: trial.id, now: now)) ?? nil != nil {
                held.append(trial.id)
                return false
            }
            return true
        }
        if !waiting.isEmpty { context.note("still queued in SLURM from an earlier submission: \(waiting.joined(separator: " "))") }
        if !held.isEmpty { context.note("running now: \(held.joined(separator: " "))") }
        guard !submitted.isEmpty else {
            context.note("sweep \(name): nothing to submit\(skipped)")
            return
        }
        guard let noko = CurrentProcess.executablePath else {
            throw CLIError("cannot tell where noko-run's executable is, for the array tasks to run it")
        }
        let executor = SlurmExecutor(store: store, noko: noko, runsDirectory: runs, context: context)
        let record = try executor.submit(.init(queue: submitted, throttle: jobs, arguments: arguments))
        let ids = submitted.map { sweep.trials[$0.index].id }
        context.note(
            "sweep \(name): submitted \(ids.count) trial\(ids.count == 1 ? "" : "s")\(skipped) as SLURM job \(record.job ?? "?") (submission \(record.number), \(RunLayout(store.directory).slurmScript.path))\(jobs.map { ", \($0) at a time" } ?? ""): \(ids.joined(separator: " "))")
        context.note("follow it with: noko-run sweep \(name)\(runsDir == "runs" ? "" : " --runs-dir \(runsDir)") --status")
    }

    /// `--run-trial N --submission K`: one array task of `slurm.sh`. Runs trial N unless
    /// another process holds it or ran it since submission K; a trial that fails fails the task.
    func runArrayTask(_ index: Int, submission number: Int, store: SweepStore, context: CommandContext) throws {
        let sweep = try store.read()
        guard sweep.trials.indices.contains(index) else {
            throw CLIError("--run-trial \(index): sweep \(name) has trials 0 to \(sweep.trials.count - 1)")
        }
        guard let submission = sweep.submissions.first(where: { $0.number == number }) else {
            throw CLIError("--submission \(number): sweep \(name) records no such submission (\(RunLayout(store.directory).sweep.path))")
        }
        let trial = sweep.trials[index]
        guard let expected = submission.trials[trial.id] else {
            context.note("\(trial.id) is not part of submission \(number): nothing to do")
            return
        }
        let executable = try Self.resolve(sweep.command[0], in: context)
        var settings = SweepRunner.Settings()
        if let job = context.environment["SLURM_ARRAY_JOB_ID"] {
            settings.job = "\(job)_\(context.environment["SLURM_ARRAY_TASK_ID"] ?? String(index))"
        } else {
            settings.job = context.environment["SLURM_JOB_ID"]
        }
        settings.submission = number
        let interrupts = InterruptHandling()
        if context.writesToStandardOutput { interrupts.install() }
        let runner = SweepRunner(
            store: store, sweep: sweep, queue: [.init(index: index, expectedAttempts: expected)], executable: executable,
            environment: context.environment, settings: settings, context: context, interrupts: interrupts)
        let outcome = try runner.run()
        if outcome.sweep.trials[index].status == .failed && outcome.sweep.trials[index].attempts.last?.submission == number {
            throw ExitCode.failure
        }
    }

    /// An error naming what differs from the recorded sweep, when axes or a command were given.
    func checkSame(as recorded: SweepFile) throws {
        guard !axes.isEmpty || !command.isEmpty || trials != nil || seed != nil else { return }
        var differences: [String] = []
        if axes != recorded.axes {
            differences.append("axes \(axes.joined(separator: " ")) (recorded: \(recorded.axes.joined(separator: " ")))")
        }
        if !command.isEmpty && command != recorded.command {
            differences.append("command \(command.joined(separator: " ")) (recorded: \(recorded.command.joined(separator: " ")))")
        }
        if trials != recorded.draws { differences.append("--trials \(trials.map(String.init) ?? "none") (recorded: \(recorded.draws.map(String.init) ?? "none"))") }
        if let seed, seed != recorded.seed { differences.append("--seed \(seed) (recorded: \(recorded.seed))") }
        if overridesIn != recorded.overridesVia {
            differences.append("--overrides-in \(overridesIn) (recorded: \(recorded.overridesVia))")
        }
        guard !differences.isEmpty else { return }
        throw CLIError(
            "sweep \(recorded.name) was started differently: \(differences.joined(separator: "; ")). Resume it with noko-run sweep \(recorded.name) alone, or start a sweep of another name")
    }

    /// Whether the working tree is the code of `checkpoint`; nil when it cannot tell.
    func sameCode(as checkpoint: String, directory: URL, context: CommandContext) throws -> Bool? {
        guard !noCheckpoint, !GitCheckpoint.isDisabled(environment: context.environment) else { return true }
        do {
            return try GitCheckpoint.workingTreeMatches(
                checkpoint: checkpoint, runDirectory: directory, options: checkpointOptions(directory: directory, context: context),
                messages: CLIMessages.logger(context))
        } catch {
            throw CLIError("cannot tell whether the code is still that of the sweep's checkpoint \(checkpoint.prefix(12)): \(error)")
        }
    }

    func checkpointOptions(directory: URL, context: CommandContext) -> CheckpointOptions {
        var options = CheckpointOptions()
        options.searchPath = context.workingDirectory
        options.runsDirectory = directory.deletingLastPathComponent()
        return options
    }

    /// The sweep's one checkpoint, shared with its trials; nil when off or not in a repository.
    func checkpoint(into directory: URL, context: CommandContext) throws -> String? {
        guard !noCheckpoint, !GitCheckpoint.isDisabled(environment: context.environment) else { return nil }
        let messages = CLIMessages.logger(context)
        do {
            guard
                let record = try GitCheckpoint.checkpoint(
                    runDirectory: directory, runName: name, options: checkpointOptions(directory: directory, context: context),
                    messages: messages)
            else {
                return nil
            }
            try GitCheckpoint.share(record, in: directory)
            context.note("checkpoint \(record.checkpoint.prefix(12)) (on \(record.checkpointBranch)): every trial runs this code")
            return record.checkpoint
        } catch {
            context.note("warning: git checkpoint failed; the trials run without one: \(error)")
            return nil
        }
    }

    /// The command's executable: a path (with a `/`), or found on `PATH`.
    static func resolve(_ command: String, in context: CommandContext) throws -> String {
        if command.contains("/") {
            let path = context.url(forPath: command).path
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw CLIError("\(path): the trial command is not an executable file")
            }
            return path
        }
        for directory in (context.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = context.url(forPath: String(directory), isDirectory: true).appendingPathComponent(command).path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw CLIError("\(command): the trial command is not on PATH")
    }

    /// The leaderboard (with a metric) or the trials' list, as text or `--json`.
    func printStatus(_ sweep: SweepFile, in directory: URL, context: CommandContext) throws {
        let reference = try (metric ?? sweep.metric).map(MetricReference.init)
        let goal = goal ?? (metric == nil ? sweep.goal.flatMap(SweepGoal.init(rawValue:)) : nil) ?? reference.map(SweepGoal.inferred) ?? .max
        let results = SweepResults.load(sweep, in: directory, reference: reference, warn: { context.note("warning: \($0)") })
        let knownKeys = Set(sweep.axes.map { String($0.prefix { $0 != "=" }) })
        for key in over where !knownKeys.contains(key) {
            throw CLIError("--over \(key): not an axis of sweep \(sweep.name) (its axes: \(knownKeys.sorted().joined(separator: ", ")))")
        }
        let board = results.leaderboard(over: Set(over), goal: goal)
        let queued = SlurmExecutor.queued(jobs: sweep.submissions.compactMap(\.job), context: context)
        if render.json {
            JSONOutput.write(Self.json(results, board: board, reference: reference, goal: goal, over: over, queued: queued), to: context)
            return
        }
        var model = Self.textContext(results, board: board, reference: reference, goal: goal, over: over, context: context)
        model["submissions"] = Self.submissionLines(sweep, queued: queued, context: context)
        context.write(try Templates.renderText("sweep.txt", context: model, templateFile: render.templatePath(in: context)))
    }

    /// The array tasks of each submission that SLURM still has, as trial ids by state;
    /// nil for every submission when `squeue` could not say.
    static func queuedTrials(_ sweep: SweepFile, _ submission: SweepFile.Submission, queued: [String: String]?) -> [String: [String]]? {
        guard let queued, let job = submission.job else { return nil }
        var byState: [String: [String]] = [:]
        for (index, trial) in sweep.trials.enumerated() where submission.trials[trial.id] != nil {
            if let state = queued["\(job)_\(index)"] { byState[state, default: []].append(trial.id) }
        }
        return byState
    }

    static func submissionsJSON(_ sweep: SweepFile, queued: [String: String]?) -> JSONValue {
        .array(sweep.submissions.map { submission in
            [
                "number": .int(Int64(submission.number)), "job": submission.job.map(JSONValue.string) ?? .null,
                "submitted": .double(submission.submitted), "arguments": .array(submission.arguments.map(JSONValue.string)),
                "trials": .array(submission.trials.keys.sorted().map(JSONValue.string)),
                "in_queue": queuedTrials(sweep, submission, queued: queued).map { byState in
                    .object(byState.mapValues { .array($0.map(JSONValue.string)) })
                } ?? .null,
            ]
        })
    }

    /// `job 4711 (submission 2, 2026-12-04 10:02:11): 4 trials; in SLURM's queue: PENDING t002 t003`.
    static func submissionLines(_ sweep: SweepFile, queued: [String: String]?, context: CommandContext) -> [String] {
        sweep.submissions.map { submission in
            let head = "job \(submission.job ?? "(not submitted)") (submission \(submission.number), \(DisplayFormat.time(submission.submitted, timeZone: context.timeZone))): \(submission.trials.count) trial\(submission.trials.count == 1 ? "" : "s")"
            guard submission.job != nil else { return head }
            guard let byState = queuedTrials(sweep, submission, queued: queued) else { return head + "; squeue not available here" }
            if byState.isEmpty { return head + "; none left in SLURM's queue" }
            return head + "; in SLURM's queue: " + byState.keys.sorted().map { "\($0) \(byState[$0]!.joined(separator: " "))" }.joined(separator: ", ")
        }
    }

    static func json(
        _ results: SweepResults, board: [SweepResults.Group], reference: MetricReference?, goal: SweepGoal, over: [String],
        queued: [String: String]?
    ) -> JSONValue {
        let sweep = results.sweep
        func number(_ value: Double?) -> JSONValue { value.map(JSONValue.double) ?? .null }
        var counts: [String: JSONValue] = [:]
        for (status, n) in sweep.counts { counts[status.rawValue] = .int(Int64(n)) }
        return [
            "name": .string(sweep.name), "path": .string(results.directory.path),
            "command": .array(sweep.command.map(JSONValue.string)), "axes": .array(sweep.axes.map(JSONValue.string)),
            "draws": sweep.draws.map { .int(Int64($0)) } ?? .null, "seed": .string(String(sweep.seed)),
            "checkpoint": sweep.checkpoint.map(JSONValue.string) ?? .null,
            "metric": reference.map { .string($0.description) } ?? .null, "goal": .string(goal.rawValue),
            "over": .array(over.map(JSONValue.string)), "counts": .object(counts),
            "trials": .array(results.trials.map { trial in
                let attempt = trial.trial.attempts.last
                return [
                    "id": .string(trial.trial.id), "overrides": .array(trial.trial.overrides.map(JSONValue.string)),
                    "status": .string(trial.trial.status.rawValue), "run": trial.trial.run.map(JSONValue.string) ?? .null,
                    "exit_code": attempt?.exitCode.map { .int(Int64($0)) } ?? .null, "started": number(attempt?.started),
                    "ended": number(attempt?.ended), "duration": number(attempt?.duration), "value": number(trial.value),
                ]
            }),
            "leaderboard": .array(board.map { group in
                [
                    "overrides": .array(group.overrides.map(JSONValue.string)), "mean": number(group.mean),
                    "std": number(group.standardDeviation), "n": .int(Int64(group.values.count)),
                    "trials": .array(group.trials.map { .string($0.trial.id) }),
                ]
            }),
            "submissions": submissionsJSON(sweep, queued: queued),
        ]
    }

    static func textContext(
        _ results: SweepResults, board: [SweepResults.Group], reference: MetricReference?, goal: SweepGoal, over: [String],
        context: CommandContext
    ) -> [String: Any] {
        let sweep = results.sweep
        var model = TemplateContext.styles(context.terminal)
        model["name"] = sweep.name
        model["path"] = results.directory.path
        model["command"] = ShellQuote.line(sweep.command)
        model["axes"] = sweep.axes.joined(separator: " ")
        let counts = sweep.counts
        model["counts"] = SweepFile.Status.allCases.compactMap { status in counts[status].map { "\($0) \(status.rawValue)" } }
            .joined(separator: ", ")
        model["trial_count"] = "\(sweep.trials.count) trial\(sweep.trials.count == 1 ? "" : "s")"
        model["checkpoint"] = sweep.checkpoint.map { String($0.prefix(12)) } ?? ""
        model["has_checkpoint"] = sweep.checkpoint != nil
        model["random"] = sweep.draws.map { "\($0) draws, seed \(sweep.seed)" } ?? ""
        model["has_random"] = sweep.draws != nil
        if let reference {
            model["has_metric"] = true
            model["metric"] = reference.description
            model["goal"] = goal == .max ? "higher is better" : "lower is better"
            model["over"] = over.joined(separator: ", ")
            model["has_over"] = !over.isEmpty
            let keys = sweep.axes.map { String($0.prefix { $0 != "=" }) }.filter { !over.contains($0) }
            let header = (["#"] + keys + [reference.description, "n", "trials"]).map { RunView.cell($0) }
            let rows: [[TerminalText]] = board.enumerated().map { rank, group in
                let values = Dictionary(group.overrides.map { override in
                    (String(override.prefix { $0 != "=" }), String(override.drop { $0 != "=" }.dropFirst()))
                }, uniquingKeysWith: { a, _ in a })
                let metric = group.mean.map { mean in
                    DisplayFormat.number(mean) + (group.standardDeviation.map { " ± " + DisplayFormat.number($0) } ?? "")
                } ?? "-"
                let statuses = group.trials.map { trial in
                    trial.trial.status == .finished ? trial.trial.id : "\(trial.trial.id) (\(trial.trial.status.rawValue))"
                }
                return [RunView.cell(group.mean == nil ? "" : String(rank + 1))] + keys.map { RunView.cell(values[$0] ?? "") }
                    + [RunView.cell(metric), RunView.cell(String(group.values.count)), RunView.cell(statuses.joined(separator: " "), limit: 60)]
            }
            let right = [true] + keys.map { _ in true } + [true, true, false]
            let lines = TemplateContext.alignedRows([header] + rows, rightAligned: right).map { $0.trimmingTrailingSpaces() }
            model["header"] = lines[0]
            model["lines"] = Array(lines.dropFirst())
        } else {
            model["has_metric"] = false
            let header = ["trial", "status", "duration", "exit", "overrides"].map { RunView.cell($0) }
            let rows: [[TerminalText]] = results.trials.map { trial in
                let attempt = trial.trial.attempts.last
                return [
                    RunView.cell(trial.trial.run ?? trial.trial.id),
                    context.terminal.paint("\(trial.trial.status.rawValue)", Terminal.style(forStatus: trial.trial.status.rawValue)),
                    RunView.cell(attempt?.duration.map(DisplayFormat.duration) ?? ""),
                    RunView.cell(attempt?.exitCode.map(String.init) ?? ""),
                    RunView.cell(trial.trial.overrides.joined(separator: " "), limit: 80),
                ]
            }
            let lines = TemplateContext.alignedRows([header] + rows, rightAligned: [false, false, true, true, false])
                .map { $0.trimmingTrailingSpaces() }
            model["header"] = lines[0]
            model["lines"] = Array(lines.dropFirst())
        }
        return model
    }
}

extension SweepGoal: ExpressibleByArgument {}

/// Where a sweep's trials run.
package enum SweepExecutor: String, Sendable, ExpressibleByArgument, CaseIterable {
    /// Children of `noko-run sweep`, `-j` at a time.
    case local
    /// Tasks of an `sbatch --array` job (`slurm.sh`), each running `--run-trial`.
    case slurm
}
