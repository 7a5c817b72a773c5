import Foundation
import NokoCore
import NokoPlatform
import Synchronization
import Testing

@testable import NokoCLI

/// Claims and read-change-write of `sweep.json`: what keeps processes sharing a sweep (a
/// local sweep, SLURM tasks on other nodes) from running a trial twice.
struct SweepStoreTests {
    static func store(trials: Int = 2) throws -> (Fixtures, SweepStore) {
        let fixtures = Fixtures()
        let store = SweepStore(directory: fixtures.url("runs/s"))
        let sweep = SweepFile(
            name: "s", command: ["train"], axes: ["seed=range(\(trials))"], draws: nil, seed: 0, overridesVia: "arguments",
            checkpoint: nil, metric: nil, goal: nil, created: 0,
            trials: (0..<trials).map { SweepFile.Trial(id: "t00\($0)", overrides: ["seed=\($0)"]) })
        try store.create(sweep)
        return (fixtures, store)
    }

    static var now: Double { Date().timeIntervalSince1970 }

    static func writeClaim(_ store: SweepStore, _ id: String, host: String, pid: Int32, age: Double) throws {
        let path = RunLayout(store.directory).sweepClaim(id).path
        try FileSystem.makeDirectories(FileSystem.parentDirectory(of: path))
        try Data(#"{"host":"\#(host)","pid":\#(pid),"job":null,"run":"\#(id)","claimed":0}"#.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-age)], ofItemAtPath: path)
    }

    @Test func aLiveClaimKeepsOthersOutAndFinishingGivesItUp() throws {
        let (fixtures, store) = try Self.store()
        defer { withExtendedLifetime(fixtures) {} }
        guard case .claimed(let run) = try store.claim(0, expectedAttempts: 0, job: "7_0", submission: 1, now: Self.now) else {
            Issue.record("the first claim was refused")
            return
        }
        #expect(run == "t000")
        var sweep = try store.read()
        #expect(sweep.trials[0].attempts == [sweep.trials[0].attempts[0]])
        #expect(sweep.trials[0].status == .running && sweep.trials[0].attempts[0].job == "7_0" && sweep.trials[0].attempts[0].submission == 1)
        let claim = try JSONValue(parsing: try String(contentsOf: RunLayout(store.directory).sweepClaim("t000"), encoding: .utf8))
        #expect(claim["pid"]?.intValue == Int64(getpid()) && claim["host"]?.stringValue == CurrentProcess.hostName)

        guard case .skipped(let reason) = try store.claim(0, expectedAttempts: 1, job: nil, submission: nil, now: Self.now) else {
            Issue.record("a live claim was taken over")
            return
        }
        #expect(reason.contains("t000 is being run by t000 on \(CurrentProcess.hostName) (pid \(getpid()), job 7_0)"), "\(reason)")

        sweep = try store.finish(0, status: .finished, exitCode: 0, now: Self.now)
        #expect(sweep.trials[0].status == .finished && sweep.trials[0].attempts[0].exitCode == 0)
        #expect(!FileManager.default.fileExists(atPath: RunLayout(store.directory).sweepClaim("t000").path))
        // Whoever chose it before it ran (it had no attempt then) leaves it alone.
        guard case .skipped(let since) = try store.claim(0, expectedAttempts: 0, job: nil, submission: nil, now: Self.now) else {
            Issue.record("a finished trial was claimed again")
            return
        }
        #expect(since == "t000 was run since (its latest attempt: t000 finished)")
    }

    @Test(arguments: [
        ("a process gone from this host", CurrentProcess.hostName, Int32.max - 1, 1.0),
        ("a heartbeat older than staleAfter", "another-node", Int32(1), 301.0),
    ])
    func aStaleClaimIsTakenOverAndItsAttemptMarkedKilled(_ label: String, host: String, pid: Int32, age: Double) throws {
        let (fixtures, store) = try Self.store()
        defer { withExtendedLifetime(fixtures) {} }
        try store.update { sweep in
            sweep.trials[1].attempts = [SweepFile.Attempt(run: "t001", status: .running, started: 10, host: host, job: "7_1", submission: 1)]
        }
        try Self.writeClaim(store, "t001", host: host, pid: pid, age: age)
        #expect(try store.liveClaimant(of: "t001", now: Self.now) == nil, "\(label)")
        guard case .claimed(let run) = try store.claim(1, expectedAttempts: 1, job: "8_1", submission: 2, now: Self.now) else {
            Issue.record("\(label): the stale claim was not taken over")
            return
        }
        #expect(run == "t001.retry-1")
        let sweep = try store.read()
        #expect(sweep.trials[1].attempts.map(\.status) == [.killed, .running])
        #expect(sweep.trials[1].attempts[0].ended != nil)
    }

    @Test func aFreshClaimOfAnotherNodeIsRespected() throws {
        let (fixtures, store) = try Self.store()
        defer { withExtendedLifetime(fixtures) {} }
        try Self.writeClaim(store, "t000", host: "another-node", pid: 1, age: 10)
        guard case .skipped(let reason) = try store.claim(0, expectedAttempts: 0, job: nil, submission: nil, now: Self.now) else {
            Issue.record("another node's live claim was taken over")
            return
        }
        #expect(reason.contains("t000 is being run by t000 on another-node (pid 1)"), "\(reason)")
    }

    @Test func claimsRacedByManyThreadsGoToExactlyOne() throws {
        let (fixtures, store) = try Self.store(trials: 1)
        defer { withExtendedLifetime(fixtures) {} }
        let winners = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            if case .claimed? = try? store.claim(0, expectedAttempts: 0, job: nil, submission: nil, now: Self.now) {
                winners.withLock { $0 += 1 }
            }
        }
        #expect(winners.withLock { $0 } == 1)
        #expect(try store.read().trials[0].attempts.count == 1)
    }

    @Test func updatesFromManyThreadsAreNotLost() throws {
        let (fixtures, store) = try Self.store(trials: 1)
        defer { withExtendedLifetime(fixtures) {} }
        DispatchQueue.concurrentPerform(iterations: 20) { n in
            _ = try? store.update { sweep in sweep.earlierCheckpoints.append("c\(n)") }
        }
        #expect(Set(try store.read().earlierCheckpoints) == Set((0..<20).map { "c\($0)" }))
    }

    @Test func theHeartbeatKeepsAHeldClaimFresh() throws {
        let (fixtures, shared) = try Self.store(trials: 1)
        defer { withExtendedLifetime(fixtures) {} }
        var store = shared
        store.heartbeatInterval = 0.05
        guard case .claimed = try store.claim(0, expectedAttempts: 0, job: nil, submission: nil, now: Self.now) else {
            Issue.record("the claim was refused")
            return
        }
        let path = RunLayout(store.directory).sweepClaim("t000").path
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-1000)], ofItemAtPath: path)
        #expect(try store.liveClaimant(of: "t000", now: Self.now) == nil, "an untouched claim goes stale")
        let heartbeat = ClaimHeartbeat(store: store)
        defer { heartbeat.stop() }
        heartbeat.hold("t000")
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, try store.liveClaimant(of: "t000", now: Self.now) == nil { Thread.sleep(forTimeInterval: 0.01) }
        #expect(try store.liveClaimant(of: "t000", now: Self.now)?.pid == getpid())
    }

    @Test func arraySpecsAreRanges() {
        #expect(SlurmExecutor.arraySpec([3, 0, 1, 2, 7, 9, 10]) == "0-3,7,9-10")
        #expect(SlurmExecutor.arraySpec([5]) == "5")
        #expect(SlurmExecutor.arraySpec([]) == "")
    }
}
