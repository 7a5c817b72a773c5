import Foundation
import NokoCore
import NokoPlatform

/// Hands a sweep's trials to SLURM: one `sbatch --array` job whose task N runs trial N
/// through `noko-run sweep NAME --run-trial N --submission K`, which claims the trial as a
/// local sweep does (``SweepStore``), so a task run twice, or a trial a local sweep runs
/// meanwhile, never runs twice. noko schedules nothing itself: the job waits in SLURM's
/// queue, and `sweep.json` says what ran.
package struct SlurmExecutor: Sendable {
    /// What to submit.
    package struct Submission: Sendable {
        /// The trials, by index, with the attempts each has now.
        package var queue: [SweepRunner.Queued]
        /// `-j`: at most this many tasks at once (`--array=…%N`).
        package var throttle: Int?
        /// `--slurm`'s words, given to `sbatch` (partition, time, GPUs, account…).
        package var arguments: [String]
    }

    let store: SweepStore
    /// `noko-run`'s own executable, which the tasks run.
    let noko: String
    /// The runs directory (`--runs-dir`), absolute.
    let runsDirectory: URL
    let context: CommandContext

    /// Writes `slurm.sh`, submits it with `sbatch` and records the job in `sweep.json`;
    /// returns the submission as recorded. The submission is recorded before `sbatch` runs,
    /// so a task that starts at once finds it, and dropped again if `sbatch` fails.
    package func submit(_ submission: Submission) throws -> SweepFile.Submission {
        let now = context.now
        let trials = submission.queue.map(\.index)
        let recorded = try store.update { sweep -> SweepFile.Submission in
            let record = SweepFile.Submission(
                number: (sweep.submissions.map(\.number).max() ?? 0) + 1, job: nil, submitted: now, arguments: submission.arguments,
                trials: Dictionary(uniqueKeysWithValues: submission.queue.map { (sweep.trials[$0.index].id, $0.expectedAttempts) }))
            sweep.submissions.append(record)
            return record
        }.result
        let script = RunLayout(store.directory).slurmScript
        let end: ChildProcess.Termination
        do {
            // SLURM opens each task's --output file in this folder, and fails the task if it is missing.
            try FileSystem.makeDirectories(store.directory.appendingPathComponent(RunLayout.sweepLogsName).path)
            try AtomicFile.write(Array(self.script(number: recorded.number, trials: trials, submission: submission).utf8), to: script.path)
            end = try ChildProcess.run(
                "/usr/bin/env", ["sbatch", "--parsable"] + submission.arguments + [script.path], in: context.workingDirectory,
                environment: context.environment, output: .tail(echo: false))
        } catch {
            try? dropSubmission(recorded.number)
            throw CLIError("could not submit \(script.path) with sbatch: \(error)")
        }
        // `--parsable` prints `4711` or `4711;cluster`; warnings may come first.
        guard end.status == 0, let line = end.tail.last(where: { $0.first?.isNumber == true }),
            let job = line.split(separator: ";").first.map(String.init), job.allSatisfy(\.isNumber)
        else {
            try? dropSubmission(recorded.number)
            let output = end.tail.suffix(10).joined(separator: "\n")
            let missing = end.status == 127 ? " (is SLURM installed? sbatch is not on PATH)" : ""
            throw CLIError(
                "sbatch \(script.path) failed (\(end.description))\(missing)" + (output.isEmpty ? "" : ":\n\(output)"))
        }
        return try store.update { sweep -> SweepFile.Submission in
            guard let index = sweep.submissions.firstIndex(where: { $0.number == recorded.number }) else { return recorded }
            sweep.submissions[index].job = job
            return sweep.submissions[index]
        }.result
    }

    private func dropSubmission(_ number: Int) throws {
        try store.update { $0.submissions.removeAll { $0.number == number } }
    }

    /// `slurm.sh`: an array job, one task per trial (its index), each running
    /// `noko-run sweep --run-trial`. `--slurm`'s arguments are on `sbatch`'s command line.
    func script(number: Int, trials: [Int], submission: Submission) -> String {
        let name = store.directory.lastPathComponent
        let logs = store.directory.appendingPathComponent(RunLayout.sweepLogsName, isDirectory: true).path
        let array = Self.arraySpec(trials) + (submission.throttle.map { "%\($0)" } ?? "")
        let task = [noko, "sweep", name, "--runs-dir", runsDirectory.path]
            .map { ShellQuote.word($0).rendered }.joined(separator: " ")
        let arguments = submission.arguments.map { ShellQuote.word($0).rendered }.joined(separator: " ")
        return """
            #!/bin/bash
            # Sweep \(name), submission \(number), written by noko-run sweep --executor slurm: task N
            # runs trial N (see sweep.json). Submit again with `noko-run sweep \(name) --executor slurm`,
            # which submits only what has not run; submitting this file again runs nothing twice.
            # sbatch arguments (--slurm): \(arguments.isEmpty ? "none" : arguments)
            #SBATCH --job-name=\(ShellQuote.word("noko-" + name).rendered)
            #SBATCH --array=\(array)
            #SBATCH --output=\(ShellQuote.word(logs + "/slurm-%A_%a.out").rendered)
            #SBATCH --chdir=\(ShellQuote.word(context.workingDirectory.path).rendered)
            exec \(task) --run-trial "$SLURM_ARRAY_TASK_ID" --submission \(number)

            """
    }

    /// `0-3,7,9-10`: SLURM's array ranges for sorted indices.
    static func arraySpec(_ indices: [Int]) -> String {
        var ranges: [(first: Int, last: Int)] = []
        for index in indices.sorted() {
            if let range = ranges.last, index == range.last + 1 {
                ranges[ranges.count - 1].last = index
            } else {
                ranges.append((index, index))
            }
        }
        return ranges.map { $0.first == $0.last ? "\($0.first)" : "\($0.first)-\($0.last)" }.joined(separator: ",")
    }

    /// The array tasks of `jobs` SLURM still has, `4711_3` → state (`PENDING`, `RUNNING`…),
    /// from `squeue`; nil when `squeue` is not here or fails (another machine, no cluster).
    static func queued(jobs: [String], context: CommandContext) -> [String: String]? {
        guard !jobs.isEmpty else { return [:] }
        guard
            let end = try? ChildProcess.run(
                "/usr/bin/env", ["squeue", "--noheader", "--array", "--jobs", jobs.joined(separator: ","), "--format", "%i %T"],
                in: context.workingDirectory, environment: context.environment, output: .lines),
            end.status == 0
        else { return nil }
        var tasks: [String: String] = [:]
        for line in end.tail {
            let fields = line.split(separator: " ")
            if fields.count == 2 { tasks[String(fields[0])] = String(fields[1]) }
        }
        return tasks
    }
}
