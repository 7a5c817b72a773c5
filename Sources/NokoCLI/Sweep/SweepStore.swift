import Foundation
import NokoCore
import NokoPlatform
import Synchronization

/// A sweep directory shared by every process that runs its trials — a local `noko-run
/// sweep`, or SLURM array tasks on other nodes of a shared file system.
///
/// Two rules keep them from stepping on each other:
/// - `sweep.json` changes only by read-change-write while holding `.sweep.json.lock`
///   (`flock`), so no process writes back a stale copy over another's change;
/// - a trial runs only in the process holding its claim, `claims/<trial-id>`, created with
///   `O_EXCL` and touched every ``heartbeatInterval`` while the trial runs. A claim whose
///   process is gone (same host), or whose heartbeat is older than ``staleAfter`` (a dead
///   node, a preempted job), is taken over, and its attempt marked killed.
///
/// Across machines this relies on the shared file system honouring `flock` (Linux's NFS
/// client turns it into a byte-range lock the server keeps: NFSv4, or NFSv3 with `lockd`;
/// Lustre needs the `flock` mount option), on `O_EXCL` creation being atomic (NFSv3 and
/// later), and on the nodes' clocks agreeing with the file server's to well within
/// ``staleAfter``.
package struct SweepStore: Sendable {
    /// Who holds a claim: written into the claim file, for the process deciding whether it
    /// is stale and for people reading `claims/`.
    package struct Claimant: Sendable, Equatable {
        package var host: String
        package var pid: Int32
        /// `4711_3` for a SLURM array task.
        package var job: String?
        /// The attempt's run name.
        package var run: String
        /// Unix seconds.
        package var claimed: Double

        var json: JSONValue {
            [
                "host": .string(host), "pid": .int(Int64(pid)), "job": job.map(JSONValue.string) ?? .null,
                "run": .string(run), "claimed": .double(claimed),
            ]
        }

        init(host: String, pid: Int32, job: String?, run: String, claimed: Double) {
            (self.host, self.pid, self.job, self.run, self.claimed) = (host, pid, job, run, claimed)
        }

        init?(json: JSONValue) {
            guard let host = json["host"]?.stringValue, let pid = json["pid"]?.intValue, let run = json["run"]?.stringValue
            else { return nil }
            self.init(
                host: host, pid: Int32(truncatingIfNeeded: pid), job: json["job"]?.stringValue, run: run,
                claimed: json["claimed"]?.doubleValue ?? 0)
        }

        /// `t003 on node7 (pid 812, job 4711_3)`.
        var description: String {
            "\(run) on \(host) (pid \(pid)\(job.map { ", job \($0)" } ?? ""))"
        }
    }

    /// What came of asking to run a trial.
    package enum Claim: Sendable {
        /// This process holds the trial; its new attempt, recorded as running, writes `run`.
        case claimed(run: String)
        /// Another process runs it, or an attempt ended since the caller chose it: it says which.
        case skipped(String)
    }

    package let directory: URL
    /// How often a running trial's claim is touched.
    package var heartbeatInterval: Double = 30
    /// A claim untouched for this long belongs to a process that is gone.
    package var staleAfter: Double = 300

    package init(directory: URL) {
        self.directory = directory
    }

    private var layout: RunLayout { RunLayout(directory) }

    /// The recorded sweep; an error when there is none or it cannot be read.
    package func read() throws -> SweepFile {
        guard let sweep = try LoadedRun.cliError({ () throws(LogFileError) in try SweepFile.read(from: directory) }) else {
            throw CLIError("\(directory.path): no sweep here (no \(RunLayout.sweepName))")
        }
        return sweep
    }

    /// Applies `change` to `sweep.json` as it is now and writes the result, holding the
    /// update lock throughout; returns `change`'s result and the sweep as written.
    @discardableResult
    package func update<T>(_ change: (inout SweepFile) throws -> T) throws -> (result: T, sweep: SweepFile) {
        let lock = try FileDescriptor.open(layout.sweepUpdateLock.path, .append)
        defer { lock.closeIgnoringErrors() }
        _ = try lock.lockExclusively(wait: true)
        var sweep = try read()
        let result = try change(&sweep)
        try sweep.write(to: directory)
        return (result, sweep)
    }

    /// Writes `sweep` as the first `sweep.json`, under the update lock.
    package func create(_ sweep: SweepFile) throws {
        try FileSystem.makeDirectories(directory.path)
        let lock = try FileDescriptor.open(layout.sweepUpdateLock.path, .append)
        defer { lock.closeIgnoringErrors() }
        _ = try lock.lockExclusively(wait: true)
        try sweep.write(to: directory)
    }

    /// Claims trial `index` for a new attempt and records it running, if the trial still
    /// wants one: no live claim on it, and no attempt ended since the caller chose it (it had
    /// `expectedAttempts` attempts then, counting one left running by a process now gone).
    package func claim(_ index: Int, expectedAttempts: Int, job: String?, submission: Int?, now: Double) throws -> Claim {
        try FileSystem.makeDirectories(directory.appendingPathComponent(RunLayout.sweepClaimsName).path)
        return try update { sweep throws -> Claim in
            let trial = sweep.trials[index]
            let path = layout.sweepClaim(trial.id).path
            if let holder = try liveClaimant(of: trial.id, now: now) {
                return .skipped("\(trial.id) is being run by \(holder.description)")
            }
            // The claim (if any) is stale: its attempt, if recorded running, ended unseen.
            try FileSystem.remove(path)
            if trial.status == .running, let last = trial.attempts.indices.last {
                sweep.trials[index].attempts[last].status = .killed
                sweep.trials[index].attempts[last].ended = sweep.trials[index].attempts[last].ended ?? now
            }
            let attempts = sweep.trials[index].attempts
            if attempts.count != expectedAttempts {
                let latest = attempts.last.map { "\($0.run) \($0.status.rawValue)" } ?? "none"
                return .skipped("\(trial.id) was run since (its latest attempt: \(latest))")
            }
            let run = attemptName(sweep.trials[index])
            let claimant = Claimant(host: CurrentProcess.hostName, pid: CurrentProcess.id, job: job, run: run, claimed: now)
            let file: FileDescriptor
            do {
                file = try FileDescriptor.open(path, .createNew)
            } catch let error as NokoSystemError where error.code == NokoSystemError.fileExists {
                // Only a process that ignores the update lock gets here first.
                return .skipped("\(trial.id) was claimed by another process (\(path))")
            }
            defer { file.closeIgnoringErrors() }
            try file.writeAll(Array((claimant.json.serialized() + "\n").utf8))
            sweep.trials[index].attempts.append(
                SweepFile.Attempt(
                    run: run, status: .running, started: now, host: CurrentProcess.hostName, job: job, submission: submission))
            return .claimed(run: run)
        }.result
    }

    /// Records how the running attempt at trial `index` ended and gives up its claim.
    package func finish(_ index: Int, status: SweepFile.Status, exitCode: Int?, now: Double) throws -> SweepFile {
        try update { sweep in
            let last = sweep.trials[index].attempts.count - 1
            guard last >= 0 else { return }
            sweep.trials[index].attempts[last].status = status
            sweep.trials[index].attempts[last].exitCode = exitCode
            sweep.trials[index].attempts[last].ended = now
            try FileSystem.remove(layout.sweepClaim(sweep.trials[index].id).path)
        }.sweep
    }

    /// The holder of trial `id`'s claim while it is alive: its heartbeat is recent and, on
    /// this host, its process exists.
    package func liveClaimant(of id: String, now: Double) throws -> Claimant? {
        let path = layout.sweepClaim(id).path
        guard let info = FileSystem.info(path) else { return nil }
        let holder = try FileSystem.readIfPresent(path).flatMap { bytes in
            (try? JSONValue(parsing: String(decoding: bytes, as: UTF8.self))).flatMap(Claimant.init(json:))
        }
        if now - info.modificationTime > staleAfter { return nil }
        guard let holder else {
            // Being written this instant, or torn by a crash: fresh, so wait for it to go stale.
            return Claimant(host: "?", pid: 0, job: nil, run: id, claimed: info.modificationTime)
        }
        if holder.host == CurrentProcess.hostName && !CurrentProcess.isAlive(holder.pid) { return nil }
        return holder
    }

    /// Touches trial `id`'s claim: its holder is alive.
    package func heartbeat(_ id: String) {
        try? FileSystem.touch(layout.sweepClaim(id).path)
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
}

/// Touches the claims this process holds every ``SweepStore/heartbeatInterval``, from a
/// thread of its own, so a trial that runs for days keeps its claim however busy the rest
/// of the process is.
package final class ClaimHeartbeat: Sendable {
    private let store: SweepStore
    private let held = Mutex<Set<String>>([])
    private let stopped = Atomic<Bool>(false)

    package init(store: SweepStore) {
        self.store = store
        let interval = store.heartbeatInterval
        Thread.detachNewThread { [self] in
            while !stopped.load(ordering: .relaxed) {
                Thread.sleep(forTimeInterval: interval)
                for id in held.withLock({ $0 }) { store.heartbeat(id) }
            }
        }
    }

    /// Ends the thread (at its next beat): the runner is done.
    package func stop() { stopped.store(true, ordering: .relaxed) }

    /// Starts touching trial `id`'s claim.
    package func hold(_ id: String) { _ = held.withLock { $0.insert(id) } }

    /// Stops touching it.
    package func release(_ id: String) { _ = held.withLock { $0.remove(id) } }

    /// The trials held now.
    package var trials: Set<String> { held.withLock { $0 } }
}
