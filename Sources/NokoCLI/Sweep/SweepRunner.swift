import Foundation
import Noko
import NokoCore
import NokoGit
import NokoPlatform
import Synchronization

/// Runs a sweep's trials in this process's children — `jobs` at a time for a local sweep,
/// one for a SLURM array task — claiming each (``SweepStore``) and recording every start and
/// end in `sweep.json` before going on, so that an interrupted or killed sweep resumes where
/// it was and no trial runs twice, whichever processes share the sweep.
///
/// Each trial is the command with the trial's overrides, an ordinary noko run placed by the
/// launch variables: `NOKO_RUNS_DIR` (the sweep directory), `NOKO_RUN_NAME` (the attempt's
/// name), `NOKO_RUN_LINKS` (`{"sweep": …}`) and `NOKO_CHECKPOINT` (the sweep's one
/// checkpoint). The variables that would make it a rank of a distributed job are cleared.
package final class SweepRunner: Sendable {
    /// How the sweep runs.
    package struct Settings: Sendable {
        package var jobs = 1
        package var failFast = false
        package var retryFailed = false
        /// Run the first trial alone, and stop when it fails.
        package var check = false
        /// Pass each trial's output on to standard error (besides its log).
        package var echo = false
        package var metric: MetricReference?
        package var goal = SweepGoal.max
        /// The SLURM array task running the trials (`4711_3`) and its submission's number.
        package var job: String?
        package var submission: Int?

        package init() {}
    }

    /// How the sweep ended.
    package struct Outcome: Sendable {
        package var sweep: SweepFile
        /// A trial failed (or `--check`'s did and the rest were not started).
        package var failed: Bool
        /// `--check` or `--fail-fast` stopped it before every trial ran.
        package var stoppedEarly: Bool
    }

    /// A trial to run, and how many attempts it had when it was chosen: if another process
    /// ran it since, it is skipped.
    package struct Queued: Sendable, Equatable {
        package var index: Int
        package var expectedAttempts: Int

        package init(index: Int, expectedAttempts: Int) {
            (self.index, self.expectedAttempts) = (index, expectedAttempts)
        }
    }

    private struct State {
        var sweep: SweepFile
        var queue: [Queued]
        /// Trials this process runs now, by index.
        var running: Set<Int> = []
        var stop = false
        var stoppedEarly = false
        var best: (id: String, value: Double)?
    }

    private let store: SweepStore
    private let executable: String
    private let environment: [String: String]
    private let settings: Settings
    private let context: CommandContext
    private let interrupts: InterruptHandling
    private let heartbeat: ClaimHeartbeat
    private let state: Mutex<State>

    /// A runner of `queue` in `store`'s sweep (`sweep` as read); `environment` is what trials
    /// inherit (before the launch variables), `executable` the resolved path of the command.
    package init(
        store: SweepStore, sweep: SweepFile, queue: [Queued], executable: String, environment: [String: String],
        settings: Settings, context: CommandContext, interrupts: InterruptHandling
    ) {
        self.store = store
        self.executable = executable
        self.environment = environment
        self.settings = settings
        self.context = context
        self.interrupts = interrupts
        heartbeat = ClaimHeartbeat(store: store)
        state = Mutex(State(sweep: sweep, queue: queue))
    }

    /// The trials a run of `sweep` runs, in order: those never started, killed or left
    /// running (unless their claim is alive, which ``SweepStore/claim`` decides), and failed
    /// ones when retried.
    package static func queue(_ sweep: SweepFile, retryFailed: Bool) -> [Queued] {
        sweep.trials.indices.filter { index in
            switch sweep.trials[index].status {
            case .pending, .killed, .running: return true
            case .failed: return retryFailed
            case .finished: return false
            }
        }.map { Queued(index: $0, expectedAttempts: sweep.trials[$0].attempts.count) }
    }

    /// Runs the queued trials and returns when they have ended. An interrupt marks the
    /// running trials `killed`, gives up their claims and ends the process
    /// (``InterruptHandling``).
    package func run() throws -> Outcome {
        defer { heartbeat.stop() }
        interrupts.onInterrupt { [self] in
            let running = state.withLock { $0.running }
            for index in running.sorted() {
                _ = try? store.finish(index, status: .killed, exitCode: nil, now: Date().timeIntervalSince1970)
            }
            context.note(
                "interrupted: \(running.count) running trial\(running.count == 1 ? "" : "s") stopped and marked killed; run `noko-run sweep \(store.directory.lastPathComponent)` again to resume")
        }
        if settings.check, let id = state.withLock({ state in state.queue.first.map { state.sweep.trials[$0.index].id } }) {
            context.note("--check: \(id) runs alone first")
        }
        if settings.check, let first = next() {
            if runTrial(first) == false {
                state.withLock {
                    $0.stop = true
                    $0.stoppedEarly = true
                }
            }
        }
        let workers = max(1, settings.jobs)
        let group = DispatchGroup()
        for n in 0..<workers {
            group.enter()
            let thread = Thread { [self] in
                while let claim = next() {
                    if !runTrial(claim) && settings.failFast {
                        state.withLock {
                            if !$0.queue.isEmpty { $0.stoppedEarly = true }
                            $0.stop = true
                        }
                    }
                }
                group.leave()
            }
            thread.name = "noko-sweep-\(n)"
            thread.start()
        }
        group.wait()
        let sweep = (try? store.read()) ?? state.withLock { $0.sweep }
        return state.withLock { state in
            Outcome(sweep: sweep, failed: sweep.trials.contains { $0.status == .failed }, stoppedEarly: state.stoppedEarly)
        }
    }

    /// A trial this process claimed, with the name of the run its attempt writes.
    private struct Claim {
        let index: Int
        let trial: SweepFile.Trial
        let run: String
    }

    /// The next trial, taken off the queue, claimed and recorded as running, its start
    /// announced under the same lock so starts print in trial order; trials another process
    /// holds or ran since are passed over. Nil when none is left or the sweep stops.
    private func next() -> Claim? {
        state.withLock { state -> Claim? in
            while !state.stop, !interrupts.interrupted, !state.queue.isEmpty {
                let queued = state.queue.removeFirst()
                let outcome: SweepStore.Claim
                do {
                    outcome = try store.claim(
                        queued.index, expectedAttempts: queued.expectedAttempts, job: settings.job,
                        submission: settings.submission, now: Date().timeIntervalSince1970)
                } catch {
                    context.note("warning: could not claim \(state.sweep.trials[queued.index].id) in \(store.directory.path): \(error)")
                    continue
                }
                if let sweep = try? store.read() { state.sweep = sweep }
                guard case .claimed(let run) = outcome else {
                    if case .skipped(let reason) = outcome { context.note("[skipped] \(reason)") }
                    continue
                }
                let trial = state.sweep.trials[queued.index]
                state.running.insert(queued.index)
                heartbeat.hold(trial.id)
                context.note("[\(trial.id) started] \(trial.overrides.joined(separator: " "))" + (run == trial.id ? "" : " (as \(run))"))
                return Claim(index: queued.index, trial: trial, run: run)
            }
            return nil
        }
    }

    /// Runs the claimed attempt; true when it finished.
    private func runTrial(_ claim: Claim) -> Bool {
        let (index, trial, run) = (claim.index, claim.trial, claim.run)
        let directory = store.directory
        var childEnvironment = environment
        for name in DistributedContext.rankVariables { childEnvironment[name] = nil }
        childEnvironment["NOKO_RUNS_DIR"] = directory.path
        childEnvironment["NOKO_RUN_NAME"] = run
        childEnvironment["NOKO_RUN_LINKS"] = JSONValue.object([
            "sweep": .object([
                "name": .string(directory.lastPathComponent), "trial": .string(trial.id), "path": .string(directory.path),
                "overrides": .array(trial.overrides.map(JSONValue.string)),
            ])
        ]).serialized()
        let sweep = state.withLock { $0.sweep }
        if sweep.checkpoint != nil {
            childEnvironment[GitCheckpoint.sharedVariable] = directory.path
        } else {
            childEnvironment["NOKO_NO_CHECKPOINT"] = "1"
        }
        var arguments = Array(sweep.command.dropFirst())
        if sweep.overridesVia == "environment" {
            let words = trial.overrides.map { ShellQuote.word($0).rendered }.joined(separator: " ")
            childEnvironment["NOKO_OVERRIDES"] = [environment["NOKO_OVERRIDES"], words].compactMap { $0 }.joined(separator: " ")
        } else {
            arguments += trial.overrides
        }

        let log = RunLayout(directory).sweepLog(run)
        var exitCode: Int?
        var failure: String?
        var tail: [String] = []
        do {
            try FileSystem.makeDirectories(log.deletingLastPathComponent().path)
            let end = try interrupts.run(
                executable, arguments, in: context.workingDirectory, environment: childEnvironment,
                output: .log(path: log.path, echo: settings.echo))
            exitCode = Int(end.status)
            tail = end.tail
            if end.status != 0 { failure = end.description }
        } catch {
            failure = "\(error)"
        }

        let finished = failure == nil
        let recorded: SweepFile?
        do {
            recorded = try store.finish(index, status: finished ? .finished : .failed, exitCode: exitCode, now: Date().timeIntervalSince1970)
        } catch {
            context.note("warning: could not record how \(run) ended in \(RunLayout(directory).sweep.path): \(error)")
            recorded = nil
        }
        heartbeat.release(trial.id)
        let line = state.withLock { state -> String in
            state.running.remove(index)
            if let recorded { state.sweep = recorded }
            let attempt = state.sweep.trials[index].attempts.last { $0.run == run }
            let duration = attempt?.duration.map(DisplayFormat.duration) ?? "?"
            var value: Double?
            if finished, let reference = settings.metric {
                let results = SweepResults.load(state.sweep, in: directory, reference: reference, warn: { _ in })
                value = results.trials[index].value
                if let value, state.best.map({ settings.goal.prefers(value, over: $0.value) }) ?? true {
                    state.best = (trial.id, value)
                }
            }
            let head = finished
                ? "[\(trial.id) finished in \(duration)" + (value.map { ", \(settings.metric!) \(DisplayFormat.number($0))" } ?? "") + "]"
                : "[\(trial.id) failed after \(duration): \(failure!); its output: \(log.path)]"
            return head + " " + progress(state)
        }
        context.note("\(line)")
        if !finished && !settings.echo {
            for text in tail.suffix(5) { context.note("    \(text)") }
        }
        return finished
    }

    /// `3/12 finished · 1 failed · 2 running · 6 to go · best max:epoch/acc 0.93 (t002)`.
    private func progress(_ state: State) -> String {
        let counts = state.sweep.counts
        var parts = ["\(counts[.finished, default: 0])/\(state.sweep.trials.count) finished"]
        if let failed = counts[.failed], failed > 0 { parts.append("\(failed) failed") }
        if let running = counts[.running], running > 0 { parts.append("\(running) running") }
        let remaining = state.queue.count
        if remaining > 0 { parts.append("\(remaining) to go") }
        if let best = state.best, let metric = settings.metric {
            parts.append("best \(metric) \(DisplayFormat.number(best.value)) (\(best.id))")
        }
        return parts.joined(separator: " · ")
    }
}
