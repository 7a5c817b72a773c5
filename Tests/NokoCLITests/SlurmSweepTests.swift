import Foundation
import NokoCore
import NokoTestSupport
import Synchronization
import Testing

@testable import NokoCLI

/// `noko-run sweep --executor slurm` against a real one-node SLURM cluster
/// (`scripts/slurm-local`): real `sbatch` array jobs whose tasks run the real `noko-run`.
@Suite(.serialized, .enabled(if: SlurmCluster.isAvailable, "SLURM is not installed and this is not root (make test requires it)"))
struct SlurmSweepTests {
    /// Runs the built `noko-run` with `arguments` in the fixtures' root; its exit status,
    /// standard output and error.
    @discardableResult
    static func nokoRun(_ arguments: [String], in fixtures: Fixtures, environment: [String: String]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: NokoRunTests.builtProduct("noko-run"))
        process.arguments = arguments
        process.currentDirectoryURL = fixtures.root
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Both pipes drained at once, so neither fills and blocks the child.
        let messages = Mutex(Data())
        let reader = Thread { messages.withLock { $0 = err.fileHandleForReading.readDataToEndOfFile() } }
        reader.start()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        while !reader.isFinished { Thread.sleep(forTimeInterval: 0.01) }
        return (process.terminationStatus, output, String(decoding: messages.withLock { $0 }, as: UTF8.self))
    }

    static func environment() throws -> [String: String] {
        try SlurmCluster.environment(gitTestEnvironment)
    }

    /// The job id `noko-run sweep --executor slurm` reported.
    static func job(of sweep: SweepFile) throws -> String {
        try #require(sweep.submissions.last?.job)
    }

    static func metadata(_ run: URL) throws -> JSONValue {
        try SweepCommandTests.metadata(run)
    }

    @Test func aGridThroughSlurmRunsEveryTrialOnceAndStatusAgreesWithTheRuns() throws {
        let environment = try Self.environment()
        let fixtures = try SweepCommandTests.repository()
        let submitted = try Self.nokoRun(
            ["sweep", "grid", "lr=0.1,0.01", "seed=range(2)", "--executor", "slurm", "-j", "2", "--", SweepCommandTests.child, "trial", "epochs=2"],
            in: fixtures, environment: environment)
        #expect(submitted.status == 0, "\(submitted.err)")
        #expect(submitted.err.contains("submitted 4 trials"), "\(submitted.err)")
        var sweep = try SweepCommandTests.record(fixtures, "grid")
        let job = try Self.job(of: sweep)
        let script = try String(contentsOf: fixtures.url("runs/grid/slurm.sh"), encoding: .utf8)
        #expect(script.contains("#SBATCH --array=0-3%2"), "\(script)")
        #expect(script.contains("--run-trial \"$SLURM_ARRAY_TASK_ID\" --submission 1"), "\(script)")

        try SlurmCluster.waitUntilDone([job], environment: environment)
        sweep = try SweepCommandTests.record(fixtures, "grid")
        #expect(sweep.trials.map(\.status) == [.finished, .finished, .finished, .finished])
        for (index, trial) in sweep.trials.enumerated() {
            #expect(trial.attempts.count == 1, "\(trial)")
            #expect(trial.attempts.first?.job == "\(job)_\(index)")
            #expect(trial.attempts.first?.submission == 1)
            let metadata = try Self.metadata(fixtures.url("runs/grid/\(trial.id)"))
            #expect(metadata["links"]?["sweep"]?["trial"] == .string(trial.id))
            #expect(metadata["git"]?["checkpoint"] == sweep.checkpoint.map(JSONValue.string))
            // The array task's SLURM_PROCID/SLURM_NTASKS did not reach the trial.
            let log = try String(contentsOf: fixtures.url("runs/grid/logs/\(trial.id).log"), encoding: .utf8)
            #expect(log.contains("rank none procid none"), "\(log)")
        }
        #expect(sweep.checkpoint != nil)
        #expect(!FileManager.default.fileExists(atPath: fixtures.url("runs/grid/claims/t000").path), "a finished trial keeps no claim")

        // --status from another process, from sweep.json and the runs, agrees with the runs' metadata.
        let status = try Self.nokoRun(["sweep", "grid", "--status", "--json"], in: fixtures, environment: environment)
        #expect(status.status == 0, "\(status.err)")
        let json = try JSONValue(parsing: status.out)
        for trial in json["trials"]?.arrayValue ?? [] {
            let run = try #require(trial["run"]?.stringValue)
            let metadata = try Self.metadata(fixtures.url("runs/grid/\(run)"))
            #expect(trial["status"] == metadata["status"], "\(run)")
            #expect(trial["exit_code"] == metadata["exit_code"], "\(run)")
        }
        #expect(json["submissions"]?[0]?["job"] == .string(job))
        #expect(json["submissions"]?[0]?["in_queue"] == .object([:]))
        let text = try Self.nokoRun(["sweep", "grid", "--status"], in: fixtures, environment: environment)
        #expect(text.out.contains("slurm       job \(job) (submission 1, "), "\(text.out)")

        // Submitting again finds nothing to run.
        let again = try Self.nokoRun(["sweep", "grid", "--executor", "slurm"], in: fixtures, environment: environment)
        #expect(again.status == 0 && again.err.contains("nothing to submit"), "\(again.err)")
        #expect(try SweepCommandTests.record(fixtures, "grid").submissions.count == 1)
    }

    @Test func aDuplicatedArrayRunsNothingTwice() throws {
        let environment = try Self.environment()
        let fixtures = try SweepCommandTests.repository()
        let submitted = try Self.nokoRun(
            ["sweep", "dup", "seed=range(3)", "sleepMs=400", "--executor", "slurm", "--no-checkpoint", "--", SweepCommandTests.child, "trial", "epochs=2"],
            in: fixtures, environment: environment)
        #expect(submitted.status == 0, "\(submitted.err)")
        let first = try Self.job(of: try SweepCommandTests.record(fixtures, "dup"))
        // The same script again, by hand: the same submission, so the same claims.
        let second = try SlurmCluster.client(["sbatch", "--parsable", fixtures.url("runs/dup/slurm.sh").path], environment: environment)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try SlurmCluster.waitUntilDone([first, second], environment: environment)
        let sweep = try SweepCommandTests.record(fixtures, "dup")
        #expect(sweep.trials.map(\.status) == [.finished, .finished, .finished])
        #expect(sweep.trials.allSatisfy { $0.attempts.count == 1 }, "\(sweep.trials)")
        let logs = try FileManager.default.contentsOfDirectory(atPath: fixtures.url("runs/dup/logs").path)
        let skipped = try logs.filter { $0.hasPrefix("slurm-") }.filter { name in
            try String(contentsOf: fixtures.url("runs/dup/logs/\(name)"), encoding: .utf8).contains("[skipped]")
        }
        #expect(skipped.count == 3, "\(logs)")
    }

    @Test func aTaskKilledMidTrialLeavesAStaleClaimThatAResubmissionReclaims() throws {
        let environment = try Self.environment()
        let fixtures = try SweepCommandTests.repository()
        let submitted = try Self.nokoRun(
            ["sweep", "kill", "seed=range(2)", "sleepMs=300", "--executor", "slurm", "-j", "1", "--no-checkpoint", "--", SweepCommandTests.child, "trial", "epochs=15"],
            in: fixtures, environment: environment)
        #expect(submitted.status == 0, "\(submitted.err)")
        let job = try Self.job(of: try SweepCommandTests.record(fixtures, "kill"))
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, !FileManager.default.fileExists(atPath: fixtures.url("runs/kill/t000/metadata.json").path) {
            Thread.sleep(forTimeInterval: 0.1)
        }
        // The task's noko-run and its trial die by SIGKILL, as on a node that fails: nothing
        // of noko's gets to clean up. Then the rest of the job is cancelled.
        let claim = try JSONValue(parsing: try String(contentsOf: fixtures.url("runs/kill/claims/t000"), encoding: .utf8))
        let task = try #require(claim["pid"]?.intValue)
        let trialPid = try #require(try Self.metadata(fixtures.url("runs/kill/t000"))["pid"]?.intValue)
        kill(pid_t(task), SIGKILL)
        kill(pid_t(trialPid), SIGKILL)
        try SlurmCluster.client(["scancel", job], environment: environment)
        try SlurmCluster.waitUntilDone([job], environment: environment)
        var sweep = try SweepCommandTests.record(fixtures, "kill")
        #expect(sweep.trials[0].status == .running, "\(sweep.trials[0])")
        #expect(FileManager.default.fileExists(atPath: fixtures.url("runs/kill/claims/t000").path), "the killed task's claim stays")

        let resubmitted = try Self.nokoRun(["sweep", "kill", "--executor", "slurm"], in: fixtures, environment: environment)
        #expect(resubmitted.status == 0, "\(resubmitted.err)")
        sweep = try SweepCommandTests.record(fixtures, "kill")
        let retry = try Self.job(of: sweep)
        #expect(retry != job)
        try SlurmCluster.waitUntilDone([retry], environment: environment, timeout: 240)
        sweep = try SweepCommandTests.record(fixtures, "kill")
        #expect(sweep.trials[0].attempts.map(\.run) == ["t000", "t000.retry-1"])
        #expect(sweep.trials[0].attempts.map(\.status) == [.killed, .finished])
        #expect(sweep.trials[1].status == .finished)
        #expect(sweep.trials.allSatisfy { $0.attempts.last?.submission == 2 })
    }
}
