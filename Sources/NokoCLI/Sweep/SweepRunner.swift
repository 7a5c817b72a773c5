import Foundation
import Noko
import NokoCore
import NokoGit
import NokoPlatform
import Synchronization

/// Runs a sweep's trials on this machine, `jobs` at a time, recording every start and end in
/// `sweep.json` before going on, so that an interrupted or killed sweep resumes where it was.
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

    private struct State {
        var sweep: SweepFile
        var queue: [Int]
        var stop = false
        var stoppedEarly = false
        var best: (id: String, value: Double)?
    }

    private let directory: URL
    private let executable: String
    private let environment: [String: String]
    private let settings: Settings
    private let context: CommandContext
    private let interrupts: InterruptHandling
    private let state: Mutex<State>

    /// A runner for `sweep` in `directory`; `environment` is what trials inherit (before the
    /// launch variables), `executable` the resolved path of the sweep's command.
    package init(
        sweep: SweepFile, directory: URL, executable: String, environment: [String: String], settings: Settings,
        context: CommandContext, interrupts: InterruptHandling
    ) {
        self.directory = directory
        self.executable = executable
        self.environment = environment
        self.settings = settings
        self.context = context
        self.interrupts = interrupts
        state = Mutex(State(sweep: sweep, queue: Self.queue(sweep, retryFailed: settings.retryFailed)))
    }

    /// The trials a run of `sweep` runs, in order: those never started, killed or left
    /// running by a sweep that died, and failed ones when retried.
    package static func queue(_ sweep: SweepFile, retryFailed: Bool) -> [Int] {
        sweep.trials.indices.filter { index in
            switch sweep.trials[index].status {
            case .pending, .killed, .running: return true
            case .failed: return retryFailed
            case .finished: return false
            }
        }
    }

    /// Runs the queued trials and returns when they have ended. An interrupt marks the
    /// running trials `killed`, saves `sweep.json` and ends the process (``InterruptHandling``).
    package func run() throws -> Outcome {
        interrupts.onInterrupt { [self] in
            let killed = state.withLock { state -> Int in
                var killed = 0
                let now = Date().timeIntervalSince1970
                for index in state.sweep.trials.indices where state.sweep.trials[index].status == .running {
                    state.sweep.trials[index].attempts[state.sweep.trials[index].attempts.count - 1].status = .killed
                    state.sweep.trials[index].attempts[state.sweep.trials[index].attempts.count - 1].ended = now
                    killed += 1
                }
                return killed
            }
            save()
            context.note(
                "interrupted: \(killed) running trial\(killed == 1 ? "" : "s") stopped and marked killed; run `noko-run sweep \(directory.lastPathComponent)` again to resume")
        }
        if settings.check, let id = state.withLock({ state in state.queue.first.map { state.sweep.trials[$0].id } }) {
            context.note("--check: \(id) runs alone first")
        }
        if settings.check, let first = next() {
            if !runTrial(first) {
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
        return state.withLock { state in
            Outcome(
                sweep: state.sweep, failed: state.sweep.trials.contains { $0.status == .failed }, stoppedEarly: state.stoppedEarly)
        }
    }

    /// A trial taken off the queue, with the name of the run its attempt writes.
    private struct Claim {
        let index: Int
        let trial: SweepFile.Trial
        let run: String
    }

    /// The next trial, taken off the queue and recorded as running, its start announced under
    /// the same lock so starts print in trial order; nil when none is left or the sweep stops.
    private func next() -> Claim? {
        let claim = state.withLock { state -> Claim? in
            guard !state.stop, !interrupts.interrupted, !state.queue.isEmpty else { return nil }
            let index = state.queue.removeFirst()
            let trial = state.sweep.trials[index]
            let run = attemptName(trial)
            state.sweep.trials[index].attempts.append(
                SweepFile.Attempt(run: run, status: .running, started: Date().timeIntervalSince1970))
            context.note("[\(trial.id) started] \(trial.overrides.joined(separator: " "))" + (run == trial.id ? "" : " (as \(run))"))
            return Claim(index: index, trial: trial, run: run)
        }
        if claim != nil { save() }
        return claim
    }

    /// Runs the claimed attempt; true when it finished.
    private func runTrial(_ claim: Claim) -> Bool {
        let (index, trial, run) = (claim.index, claim.trial, claim.run)
        let sweepName = directory.lastPathComponent
        var childEnvironment = environment
        for name in DistributedContext.rankVariables { childEnvironment[name] = nil }
        childEnvironment["NOKO_RUNS_DIR"] = directory.path
        childEnvironment["NOKO_RUN_NAME"] = run
        childEnvironment["NOKO_RUN_LINKS"] = JSONValue.object([
            "sweep": .object([
                "name": .string(sweepName), "trial": .string(trial.id), "path": .string(directory.path),
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
        let line = state.withLock { state -> String in
            let attempt = state.sweep.trials[index].attempts.count - 1
            state.sweep.trials[index].attempts[attempt].status = finished ? .finished : .failed
            state.sweep.trials[index].attempts[attempt].exitCode = exitCode
            state.sweep.trials[index].attempts[attempt].ended = Date().timeIntervalSince1970
            let duration = state.sweep.trials[index].attempts[attempt].duration.map(DisplayFormat.duration) ?? "?"
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
        save()
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

    /// The trial's first attempt is named by its id; a rerun `<id>.retry-N` beside the runs
    /// it leaves in place.
    private func attemptName(_ trial: SweepFile.Trial) -> String {
        func free(_ name: String) -> Bool {
            !FileSystem.exists(directory.appendingPathComponent(name).path) && !trial.attempts.contains { $0.run == name }
        }
        if free(trial.id) { return trial.id }
        var n = max(1, trial.attempts.count)
        while !free("\(trial.id).retry-\(n)") { n += 1 }
        return "\(trial.id).retry-\(n)"
    }

    /// Writes `sweep.json`; a failure is a warning, and the sweep goes on (the next save may work).
    private func save() {
        do {
            try state.withLock { state throws(NokoSystemError) in try state.sweep.write(to: directory) }
        } catch {
            context.note("warning: could not save \(RunLayout(directory).sweep.path): \(error)")
        }
    }
}
