import Foundation
import NokoPlatform

/// `sweep.json`: a sweep as `noko-run sweep` planned and ran it — the command, the axes and
/// the seed its trials came from, the one checkpoint every trial ran, and each trial with
/// its overrides, status and run directory. `noko-run sweep` writes it (atomically, after
/// every change) and reads it to resume and to rank; `noko-run list` and `report` read it.
package struct SweepFile: Sendable, Equatable {
    /// The newest layout this noko reads and writes.
    package static let formatVersion = 1

    /// Where a trial stands.
    package enum Status: String, Sendable, CaseIterable {
        /// Not started yet.
        case pending
        /// Its process is running (or its sweep died without saying how it ended).
        case running
        /// Exited with status 0.
        case finished
        /// Exited with another status, or could not start.
        case failed
        /// Stopped by the sweep being interrupted (Ctrl-C, SIGTERM): rerun when the sweep resumes.
        case killed
    }

    /// One try at a trial: the run it made and how it ended.
    package struct Attempt: Sendable, Equatable {
        /// The run directory's name inside the sweep directory (`t003`, `t003.retry-1`).
        package var run: String
        package var status: Status
        /// The process's exit status (128 + N for signal N); nil while running.
        package var exitCode: Int?
        /// Unix seconds.
        package var started: Double?
        package var ended: Double?
        /// The machine that ran it.
        package var host: String?
        /// The SLURM job that ran it (`4711_3`: array job 4711, task 3); nil when run locally.
        package var job: String?
        /// The number of the submission (``Submission/number``) whose task ran it.
        package var submission: Int?

        package init(
            run: String, status: Status, exitCode: Int? = nil, started: Double? = nil, ended: Double? = nil,
            host: String? = nil, job: String? = nil, submission: Int? = nil
        ) {
            (self.run, self.status, self.exitCode, self.started, self.ended) = (run, status, exitCode, started, ended)
            (self.host, self.job, self.submission) = (host, job, submission)
        }

        package var duration: Double? { started.flatMap { s in ended.map { $0 - s } } }
    }

    /// One point of the sweep.
    package struct Trial: Sendable, Equatable {
        /// `t000`, `t001`…: sorts in trial order; also the first attempt's run name.
        package var id: String
        /// The overrides the trial's command gets (`lr=0.01`, `seed=3`), in axis order.
        package var overrides: [String]
        /// Every attempt, oldest first; empty until the trial first starts.
        package var attempts: [Attempt] = []

        package init(id: String, overrides: [String], attempts: [Attempt] = []) {
            (self.id, self.overrides, self.attempts) = (id, overrides, attempts)
        }

        /// The latest attempt's status; pending before the first.
        package var status: Status { attempts.last?.status ?? .pending }
        /// The latest attempt's run directory name.
        package var run: String? { attempts.last?.run }
    }

    /// One submission of trials to a batch scheduler (`--executor slurm`): the tasks it
    /// queued run the trials it names, each only if no attempt at it ended since.
    package struct Submission: Sendable, Equatable {
        /// 1, 2…: array tasks pass it back (`--submission N`).
        package var number: Int
        /// The scheduler's job id (`4711`); nil if submitting failed.
        package var job: String?
        /// Unix seconds.
        package var submitted: Double
        /// The arguments given to `sbatch` besides the script (`--slurm`).
        package var arguments: [String]
        /// Each submitted trial's id and how many attempts it had when submitted.
        package var trials: [String: Int]

        package init(number: Int, job: String?, submitted: Double, arguments: [String], trials: [String: Int]) {
            (self.number, self.job, self.submitted, self.arguments, self.trials) = (number, job, submitted, arguments, trials)
        }
    }

    package var name: String
    /// The trial command and its arguments, before the overrides.
    package var command: [String]
    /// The axes as given (`lr=0.1,0.01`, `dropout=uniform(0,0.5)`).
    package var axes: [String]
    /// `--trials`: random draws (nil for a plain grid).
    package var draws: Int?
    /// The seed of the random draws.
    package var seed: UInt64
    /// How trials get their overrides: `arguments` (after the command's) or `environment`
    /// (`NOKO_OVERRIDES`).
    package var overridesVia: String
    /// The checkpoint commit every trial ran (nil: none was taken); the trials still to run
    /// get it.
    package var checkpoint: String?
    /// Checkpoints replaced by `--new-checkpoint` when the sweep resumed on changed code,
    /// oldest first (each trial's `metadata.json` says which one it ran).
    package var earlierCheckpoints: [String] = []
    /// The metric `--metric` named (`max:epoch/test_accuracy`) and whether higher is better.
    package var metric: String?
    package var goal: String?
    /// Unix seconds when the sweep was first started.
    package var created: Double
    package var trials: [Trial]
    /// Batch submissions, oldest first (empty for a sweep run only on this machine).
    package var submissions: [Submission] = []

    package init(
        name: String, command: [String], axes: [String], draws: Int?, seed: UInt64, overridesVia: String,
        checkpoint: String?, metric: String?, goal: String?, created: Double, trials: [Trial]
    ) {
        (self.name, self.command, self.axes, self.draws, self.seed) = (name, command, axes, draws, seed)
        (self.overridesVia, self.checkpoint, self.metric, self.goal, self.created, self.trials) =
            (overridesVia, checkpoint, metric, goal, created, trials)
    }

    /// How many trials stand at each status.
    package var counts: [Status: Int] {
        var counts: [Status: Int] = [:]
        for trial in trials { counts[trial.status, default: 0] += 1 }
        return counts
    }

    package var json: JSONValue {
        func number(_ value: Double?) -> JSONValue { value.map(JSONValue.double) ?? .null }
        return .object([
            "format_version": .int(Int64(Self.formatVersion)),
            "name": .string(name),
            "command": .array(command.map(JSONValue.string)),
            "axes": .array(axes.map(JSONValue.string)),
            "draws": draws.map { .int(Int64($0)) } ?? .null,
            // A string: a seed above 2^53 would not survive a reader's doubles.
            "seed": .string(String(seed)),
            "overrides_via": .string(overridesVia),
            "checkpoint": checkpoint.map(JSONValue.string) ?? .null,
            "earlier_checkpoints": .array(earlierCheckpoints.map(JSONValue.string)),
            "metric": metric.map(JSONValue.string) ?? .null,
            "goal": goal.map(JSONValue.string) ?? .null,
            "created": .double(created),
            "trials": .array(trials.map { trial in
                .object([
                    "id": .string(trial.id),
                    "overrides": .array(trial.overrides.map(JSONValue.string)),
                    "status": .string(trial.status.rawValue),
                    "run": trial.run.map(JSONValue.string) ?? .null,
                    "attempts": .array(trial.attempts.map { attempt in
                        .object([
                            "run": .string(attempt.run), "status": .string(attempt.status.rawValue),
                            "exit_code": attempt.exitCode.map { .int(Int64($0)) } ?? .null,
                            "started": number(attempt.started), "ended": number(attempt.ended),
                            "duration": number(attempt.duration),
                            "host": attempt.host.map(JSONValue.string) ?? .null,
                            "job": attempt.job.map(JSONValue.string) ?? .null,
                            "submission": attempt.submission.map { .int(Int64($0)) } ?? .null,
                        ])
                    }),
                ])
            }),
            "submissions": .array(submissions.map { submission in
                .object([
                    "number": .int(Int64(submission.number)),
                    "job": submission.job.map(JSONValue.string) ?? .null,
                    "submitted": .double(submission.submitted),
                    "arguments": .array(submission.arguments.map(JSONValue.string)),
                    "trials": .object(submission.trials.mapValues { .int(Int64($0)) }),
                ])
            }),
        ])
    }

    /// Reads `sweep.json`'s content; `path` names the file in errors.
    package init(json: JSONValue, path: String) throws(LogFileError) {
        try RunFileFormat.checkVersion(json, newest: Self.formatVersion, path: path)
        func fail(_ message: String) -> LogFileError { LogFileError(path: path, message: message) }
        func strings(_ value: JSONValue?, _ key: String) throws(LogFileError) -> [String] {
            guard let array = value?.arrayValue else { throw fail("expected an array of strings \"\(key)\"") }
            var strings: [String] = []
            for element in array {
                guard let string = element.stringValue else { throw fail("expected an array of strings \"\(key)\"") }
                strings.append(string)
            }
            return strings
        }
        func status(_ value: JSONValue?, _ where_: String) throws(LogFileError) -> Status {
            guard let text = value?.stringValue, let status = Status(rawValue: text) else {
                throw fail(
                    "\(where_): expected \"status\" to be one of \(Status.allCases.map(\.rawValue).joined(separator: ", ")), found \(value?.serialized() ?? "none")")
            }
            return status
        }
        guard let name = json["name"]?.stringValue else { throw fail("expected a string \"name\"") }
        guard let seed = json["seed"]?.stringValue.flatMap({ UInt64($0) }) ?? json["seed"]?.intValue.map({ UInt64(bitPattern: $0) }) else {
            throw fail("expected \"seed\": an unsigned integer as a string")
        }
        var trials: [Trial] = []
        for (index, member) in (json["trials"]?.arrayValue ?? []).enumerated() {
            guard let id = member["id"]?.stringValue else { throw fail("trials[\(index)]: expected a string \"id\"") }
            var attempts: [Attempt] = []
            for (n, attempt) in (member["attempts"]?.arrayValue ?? []).enumerated() {
                guard let run = attempt["run"]?.stringValue else {
                    throw fail("trials[\(index)].attempts[\(n)]: expected a string \"run\"")
                }
                attempts.append(
                    Attempt(
                        run: run, status: try status(attempt["status"], "trials[\(index)].attempts[\(n)]"),
                        exitCode: attempt["exit_code"]?.intValue.map { Int($0) }, started: attempt["started"]?.doubleValue,
                        ended: attempt["ended"]?.doubleValue, host: attempt["host"]?.stringValue, job: attempt["job"]?.stringValue,
                        submission: attempt["submission"]?.intValue.map { Int($0) }))
            }
            trials.append(Trial(id: id, overrides: try strings(member["overrides"], "trials[\(index)].overrides"), attempts: attempts))
        }
        self.init(
            name: name, command: try strings(json["command"], "command"), axes: try strings(json["axes"], "axes"),
            draws: json["draws"]?.intValue.map { Int($0) }, seed: seed,
            overridesVia: json["overrides_via"]?.stringValue ?? "arguments", checkpoint: json["checkpoint"]?.stringValue,
            metric: json["metric"]?.stringValue, goal: json["goal"]?.stringValue, created: json["created"]?.doubleValue ?? 0,
            trials: trials)
        earlierCheckpoints = (json["earlier_checkpoints"]?.arrayValue ?? []).compactMap(\.stringValue)
        for (index, member) in (json["submissions"]?.arrayValue ?? []).enumerated() {
            guard let number = member["number"]?.intValue, let submitted = member["submitted"]?.doubleValue,
                case .object(let counts)? = member["trials"]
            else {
                throw fail("submissions[\(index)]: expected \"number\", \"submitted\" and an object \"trials\"")
            }
            var trials: [String: Int] = [:]
            for (id, count) in counts {
                guard let count = count.intValue else { throw fail("submissions[\(index)].trials.\(id): expected an integer") }
                trials[id] = Int(count)
            }
            submissions.append(
                Submission(
                    number: Int(number), job: member["job"]?.stringValue, submitted: submitted,
                    arguments: try strings(member["arguments"] ?? .array([]), "submissions[\(index)].arguments"), trials: trials))
        }
    }

    /// The `sweep.json` of sweep directory `directory`; nil when it has none (not a sweep).
    package static func read(from directory: URL) throws(LogFileError) -> SweepFile? {
        let url = RunLayout(directory).sweep
        guard let json = try RunFileFormat.readJSON(url) else { return nil }
        return try SweepFile(json: json, path: url.path)
    }

    /// Writes `sweep.json` into `directory`, atomically.
    package func write(to directory: URL) throws(NokoSystemError) {
        try RunFileFormat.write(json, to: RunLayout(directory).sweep)
    }
}
