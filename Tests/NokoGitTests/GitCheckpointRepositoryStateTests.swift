import Foundation
import Synchronization
import Testing

@testable import NokoGit

/// Checkpoints of repositories in unusual states, and of many runs at once.
@Suite("GitCheckpoint — repository states")
struct GitCheckpointRepositoryStateTests {
    @Test("unborn HEAD: a root commit, and from_head.diff adds every file")
    func unbornHead() throws {
        let repo = try TestRepository("unborn")
        try repo.write("staged.txt", "staged\n")
        try repo.git("add", "staged.txt")
        try repo.write("untracked.txt", "untracked\n")
        let before = try repo.untouchedState()
        let record = try #require(try repo.checkpoint().record)

        #expect(record.head == nil)
        #expect(record.branch == "main")
        #expect(record.detached == false)
        #expect(record.dirty)
        #expect(record.previousCheckpoint == nil)
        #expect(try repo.git("rev-list", "--parents", "-n", "1", record.checkpoint).split(separator: " ").count == 1)
        #expect(Set(try repo.treeEntries(record.checkpoint).keys) == ["staged.txt", "untracked.txt"])
        #expect(record.fromHead == GitDiffStats(filesChanged: 2, insertions: 2, deletions: 0))
        try repo.expectPatchesReplay("run", record)
        #expect(try repo.untouchedState() == before)
        #expect(try repo.gitStatus("rev-parse", "-q", "--verify", "HEAD").status != 0, "HEAD must stay unborn")
    }

    @Test("unborn HEAD without any index file: none is created")
    func unbornWithoutIndex() throws {
        let repo = try TestRepository("noindex")
        try repo.write("a.txt", "a\n")
        let record = try #require(try repo.checkpoint().record)
        #expect(Set(try repo.treeEntries(record.checkpoint).keys) == ["a.txt"])
        #expect(!FileManager.default.fileExists(atPath: repo.url(".git/index").path))
    }

    @Test("detached HEAD: recorded as detached, parent is the detached commit")
    func detachedHead() throws {
        let repo = try TestRepository("detached")
        try repo.write("a.txt", "one\n")
        try repo.commitAll("one")
        let first = try repo.revParse("HEAD")
        try repo.write("a.txt", "two\n")
        try repo.commitAll("two")
        try repo.git("-c", "advice.detachedHead=false", "checkout", "-q", "--detach", first)
        try repo.write("a.txt", "edited\n")
        let before = try repo.untouchedState()
        let record = try #require(try repo.checkpoint().record)

        #expect(record.detached)
        #expect(record.branch == nil)
        #expect(record.head == first)
        #expect(try repo.revParse("\(record.checkpoint)^") == first)
        try repo.expectPatchesReplay("run", record)
        #expect(try repo.untouchedState() == before)
    }

    @Test("linked worktree: its own HEAD, index and files; the branch is shared")
    func linkedWorktree() throws {
        let repo = try TestRepository("worktree")
        try repo.write("a.txt", "main\n")
        try repo.commitAll()
        let worktree = repo.base.appendingPathComponent("linked")
        try repo.git("worktree", "add", "-q", "-b", "feature", worktree.path)
        try Data("feature edit\n".utf8).write(to: worktree.appendingPathComponent("a.txt"))
        try Data("new\n".utf8).write(to: worktree.appendingPathComponent("b.txt"))
        let mainBefore = try repo.untouchedState()
        let linkedBefore = try repo.untouchedState(in: worktree)

        let record = try #require(try repo.checkpoint("linked", searchPath: worktree).record)
        #expect(record.root == FilePaths.canonical(worktree))
        #expect(record.branch == "feature")
        #expect(try repo.show(record.checkpoint, "a.txt") == "feature edit\n")
        #expect(try repo.show(record.checkpoint, "b.txt") == "new\n")
        #expect(try repo.revParse("noko-checkpoints") == record.checkpoint)
        #expect(try repo.untouchedState() == mainBefore)
        #expect(try repo.untouchedState(in: worktree) == linkedBefore)
        try repo.expectPatchesReplay("linked", record)

        // The main worktree's next checkpoint follows on the same branch.
        let next = try #require(try repo.checkpoint("main").record)
        #expect(next.previousCheckpoint == record.checkpoint)
        #expect(try repo.show(next.checkpoint, "a.txt") == "main\n")
        try repo.expectFsckClean()
    }

    @Test("an index locked by another process is read, and the lock left alone")
    func lockedIndex() throws {
        let repo = try TestRepository("lockedindex")
        try repo.write("a.txt", "a\n")
        try repo.commitAll()
        try repo.write("a.txt", "changed\n")
        try Data("held by someone else".utf8).write(to: repo.url(".git/index.lock"))
        let before = try repo.untouchedState()

        let record = try #require(try repo.checkpoint().record)
        #expect(try repo.show(record.checkpoint, "a.txt") == "changed\n")
        #expect(try Data(contentsOf: repo.url(".git/index.lock")) == Data("held by someone else".utf8))
        #expect(try repo.untouchedState() == before)
    }

    @Test("a checkpoint branch locked by a concurrent writer: waits for the lock, then lands")
    func lockedBranch() throws {
        let repo = try TestRepository("lockedref")
        try repo.write("a.txt", "a\n")
        try repo.commitAll()
        let first = try #require(try repo.checkpoint("first").record)
        let lock = repo.url(".git/refs/heads/noko-checkpoints.lock")
        try Data().write(to: lock)

        let outcome = Mutex<Result<GitCheckpointRecord?, any Error>?>(nil)
        let finished = DispatchSemaphore(value: 0)
        let runner = Thread {
            let result = Result { try repo.checkpoint("second").record }
            outcome.withLock { $0 = result }
            finished.signal()
        }
        runner.start()
        // Failing fast on the lock would have finished by now.
        #expect(finished.wait(timeout: .now() + 0.5) == .timedOut)
        #expect(try repo.revParse("noko-checkpoints") == first.checkpoint)
        try FileManager.default.removeItem(at: lock)
        #expect(finished.wait(timeout: .now() + 15) == .success)

        let second = try #require(try outcome.withLock { $0 }?.get())
        #expect(second.previousCheckpoint == first.checkpoint)
        #expect(try repo.revParse("noko-checkpoints") == second.checkpoint)
    }

    /// scripts/torture found every checkpoint after one kill -9 waiting 60 s and failing: the
    /// killed process had held the branch's lock.
    @Test("a checkpoint branch lock left by a dead process is removed, and the checkpoint lands")
    func staleBranchLock() throws {
        let repo = try TestRepository("stalelock")
        try repo.write("a.txt", "a\n")
        try repo.commitAll()
        let first = try #require(try repo.checkpoint("first").record)
        let lock = repo.url(".git/refs/heads/noko-checkpoints.lock")
        try Data((first.checkpoint + "\n").utf8).write(to: lock)
        let stale = Date().addingTimeInterval(-(GitCheckpoint.staleLockAge + 5))
        try FileManager.default.setAttributes([.modificationDate: stale], ofItemAtPath: lock.path)

        let started = Date()
        let result = try repo.checkpoint("second")
        #expect(Date().timeIntervalSince(started) < 5, "waited on a lock nobody holds")
        let second = try #require(result.record)
        #expect(second.previousCheckpoint == first.checkpoint)
        #expect(try repo.revParse("noko-checkpoints") == second.checkpoint)
        #expect(!FileManager.default.fileExists(atPath: lock.path))
        #expect(result.warnings.contains { $0.contains("noko-checkpoints.lock") && $0.contains("died") }, "\(result.warnings)")
        try repo.expectFsckClean()
    }

    @Test("8 runs checkpointing one repository at once land as one linear chain")
    func concurrentCheckpoints() throws {
        let repo = try TestRepository("concurrent")
        try repo.write("a.txt", "a\n")
        try repo.commitAll()
        try repo.write("b.txt", "untracked\n")
        let head = try repo.revParse("HEAD")
        let runs = 8

        let records = Mutex<[GitCheckpointRecord]>([])
        let failures = Mutex<[String]>([])
        let go = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        for index in 0..<runs {
            Thread {
                go.wait()
                do {
                    if let record = try repo.checkpoint("run-\(index)").record {
                        records.withLock { $0.append(record) }
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
                done.signal()
            }.start()
        }
        for _ in 0..<runs { go.signal() }
        for _ in 0..<runs { #expect(done.wait(timeout: .now() + 120) == .success) }

        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        let landed = records.withLock { $0 }
        #expect(landed.count == runs)
        let chain = try repo.git("rev-list", "--first-parent", "noko-checkpoints", "^\(head)")
            .split(separator: "\n").map(String.init)
        #expect(chain.count == runs)
        #expect(Set(chain) == Set(landed.map(\.checkpoint)))
        // Linear: every checkpoint has exactly one parent, the one before it.
        let parents = try repo.git("rev-list", "--parents", "noko-checkpoints", "^\(head)").split(separator: "\n")
        #expect(parents.allSatisfy { $0.split(separator: " ").count == 2 })
        #expect(try repo.revParse("\(chain.last!)^") == head)
        // Each record names the checkpoint it actually follows.
        let byCommit = Dictionary(uniqueKeysWithValues: landed.map { ($0.checkpoint, $0) })
        for (position, commit) in chain.enumerated() {
            let expected = position + 1 < chain.count ? chain[position + 1] : nil
            #expect(byCommit[commit]?.previousCheckpoint == expected)
        }
        try repo.expectFsckClean()
    }
}
