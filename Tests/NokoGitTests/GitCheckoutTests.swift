import Foundation
import Testing

@testable import NokoGit

/// Materializing a checkpoint as a worktree or a plain copy.
@Suite("GitCheckout")
struct GitCheckoutTests {
    /// A repository with a checkpoint holding an edit, an untracked file, an executable and
    /// a symbolic link.
    private func checkpointed() throws -> (TestRepository, GitCheckpointRecord) {
        let repo = try TestRepository("checkout")
        try repo.write("a.txt", "committed\n")
        try repo.commitAll()
        try repo.write("a.txt", "edited\n")
        try repo.write("new dir/b.txt", "untracked\n")
        try repo.write("run.sh", "#!/bin/sh\n", executable: true)
        try FileManager.default.createSymbolicLink(atPath: repo.url("link").path, withDestinationPath: "a.txt")
        let record = try #require(try repo.checkpoint().record)
        return (repo, record)
    }

    @Test("worktree: detached at the checkpoint, clean, registered, no branch left behind")
    func worktree() throws {
        let (repo, record) = try checkpointed()
        let before = try repo.untouchedState()
        let branchesBefore = try repo.git("for-each-ref", "--format=%(refname)", "refs/heads")
        let directory = repo.base.appendingPathComponent("restored")

        try GitCheckout.worktree(repository: repo.root, commit: record.checkpoint, at: directory)

        #expect(try repo.git("rev-parse", "HEAD", in: directory).trimmingCharacters(in: .whitespacesAndNewlines) == record.checkpoint)
        #expect(try repo.gitStatus("symbolic-ref", "-q", "HEAD", in: directory).status != 0, "HEAD is detached")
        #expect(try repo.git("status", "--porcelain", "--untracked-files=all", in: directory).isEmpty)
        #expect(try String(contentsOf: directory.appendingPathComponent("a.txt"), encoding: .utf8) == "edited\n")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: directory.appendingPathComponent("link").path) == "a.txt")
        #expect(FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("run.sh").path))
        #expect(try repo.git("worktree", "list", "--porcelain").contains("worktree \(FilePaths.canonical(directory))\n"))
        #expect(try repo.git("for-each-ref", "--format=%(refname)", "refs/heads") == branchesBefore)
        #expect(try repo.untouchedState() == before)
        try repo.expectFsckClean()
    }

    @Test("worktree: an existing empty directory is fine, and two worktrees with one name both work")
    func worktreeNames() throws {
        let (repo, record) = try checkpointed()
        let first = repo.base.appendingPathComponent("one/restored")
        let second = repo.base.appendingPathComponent("two/restored")
        try FileManager.default.createDirectory(at: first, withIntermediateDirectories: true)
        try GitCheckout.worktree(repository: repo.root, commit: record.checkpoint, at: first)
        try GitCheckout.worktree(repository: repo.root, commit: record.checkpoint, at: second)
        #expect(try repo.git("rev-parse", "HEAD", in: second).trimmingCharacters(in: .whitespacesAndNewlines) == record.checkpoint)
    }

    @Test("export: a plain copy equal to git archive of the checkpoint")
    func export() throws {
        let (repo, record) = try checkpointed()
        let before = try repo.untouchedState()
        let directory = repo.base.appendingPathComponent("exported")
        try GitCheckout.export(repository: repo.root, commit: record.checkpoint, to: directory)

        let archived = repo.base.appendingPathComponent("archived")
        try FileManager.default.createDirectory(at: archived, withIntermediateDirectories: true)
        let tarball = repo.base.appendingPathComponent("checkpoint.tar")
        try repo.git("archive", "-o", tarball.path, record.checkpoint)
        try TestRepository.run(["tar", "-xf", tarball.path, "-C", archived.path], in: repo.base)
        try TestRepository.run(["diff", "-r", "--no-dereference", archived.path, directory.path], in: repo.base)
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent(".git").path))
        #expect(FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("run.sh").path))
        #expect(try repo.untouchedState() == before)
    }

    @Test("refuses a non-empty directory, for both modes, and leaves it alone")
    func refusesNonEmpty() throws {
        let (repo, record) = try checkpointed()
        let directory = repo.base.appendingPathComponent("occupied")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data("mine\n".utf8).write(to: directory.appendingPathComponent("keep.txt"))

        let worktreeError = #expect(throws: GitError.self) {
            try GitCheckout.worktree(repository: repo.root, commit: record.checkpoint, at: directory)
        }
        #expect(worktreeError?.description.contains("not empty") == true)
        let exportError = #expect(throws: GitError.self) {
            try GitCheckout.export(repository: repo.root, commit: record.checkpoint, to: directory)
        }
        #expect(exportError?.description.contains("not empty") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["keep.txt"])
        #expect(!(try repo.git("worktree", "list")).contains("occupied"))
    }

    @Test("an unknown or malformed commit is a clear error")
    func badCommit() throws {
        let (repo, _) = try checkpointed()
        let directory = repo.base.appendingPathComponent("never")
        let missing = #expect(throws: GitError.self) {
            try GitCheckout.export(repository: repo.root, commit: String(repeating: "ab", count: 20), to: directory)
        }
        #expect(missing?.isNotFound == true)
        let malformed = #expect(throws: GitError.self) {
            try GitCheckout.worktree(repository: repo.root, commit: "HEAD~1", at: directory)
        }
        #expect(malformed?.description.contains("40-digit") == true)
        #expect(!FileManager.default.fileExists(atPath: directory.path))
    }

    @Test("the default worktree sits next to the repository")
    func defaultDirectory() {
        let url = GitCheckout.defaultWorktreeDirectory(
            repositoryRoot: URL(fileURLWithPath: "/work/project"), runName: "train 2024-01-02T03:04:05")
        #expect(url.path == "/work/project-train-2024-01-02T03-04-05")
    }
}
