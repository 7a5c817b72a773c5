import Foundation
import NokoCore
import Testing

@testable import NokoGit

/// The checkpoint of an ordinary repository, checked against the git CLI.
@Suite("GitCheckpoint")
struct GitCheckpointTests {
    /// A committed project, then edits of every kind: modified, deleted, staged, renamed,
    /// untracked, ignored, executable, symbolic link, binary.
    private func dirtyRepository() throws -> TestRepository {
        let repo = try TestRepository("dirty")
        try repo.write("README.md", "# project\n")
        try repo.write("src/main.swift", "print(1)\n")
        try repo.write("src/old.swift", "let old = 1\n")
        try repo.write("src/moved.swift", String(repeating: "let moved = 42 // a line long enough\n", count: 20))
        try repo.write("tool.sh", "#!/bin/sh\necho hi\n")
        try repo.write(".gitignore", "*.log\nbuild/\n")
        try repo.commitAll("initial")

        try repo.write("src/main.swift", "print(2)\n")
        try FileManager.default.removeItem(at: repo.url("src/old.swift"))
        try repo.write("src/staged.swift", "let staged = true\n")
        try repo.git("add", "src/staged.swift")
        try repo.git("mv", "src/moved.swift", "src/renamed.swift")
        try repo.write("notes/idea.txt", "untracked idea\n")
        try repo.write("debug.log", "ignored\n")
        try repo.write("build/output.o", "ignored too\n")
        try repo.write("tool.sh", "#!/bin/sh\necho hi\n", executable: true)
        try repo.write("run.sh", "#!/bin/sh\nexit 0\n", executable: true)
        try FileManager.default.createSymbolicLink(atPath: repo.url("link").path, withDestinationPath: "README.md")
        try repo.write("data.bin", Data([0, 1, 2, 255, 0, 7, 9]))
        return repo
    }

    @Test("captures tracked files as on disk and untracked, non-ignored files")
    func snapshotContent() throws {
        let repo = try dirtyRepository()
        let record = try #require(try repo.checkpoint("first").record)
        let entries = try repo.treeEntries(record.checkpoint)

        #expect(Set(entries.keys) == [
            ".gitignore", "README.md", "data.bin", "link", "notes/idea.txt", "run.sh", "src/main.swift",
            "src/renamed.swift", "src/staged.swift", "tool.sh",
        ])
        #expect(try repo.show(record.checkpoint, "src/main.swift") == "print(2)\n")
        #expect(entries["tool.sh"]?.mode == "100755")
        #expect(entries["run.sh"]?.mode == "100755")
        #expect(entries["README.md"]?.mode == "100644")
        #expect(entries["link"]?.mode == "120000")
        #expect(try repo.show(record.checkpoint, "link") == "README.md")
        #expect(entries["data.bin"]?.id == (try repo.git("hash-object", "data.bin").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(record.files == entries.count)
        #expect(record.dirty)
        #expect(record.skipped.isEmpty)
    }

    @Test("never touches HEAD, the index, the working tree or hooks")
    func leavesRepositoryUntouched() throws {
        let repo = try dirtyRepository()
        let before = try repo.untouchedState()
        let indexModified = try FileManager.default.attributesOfItem(atPath: repo.url(".git/index").path)[.modificationDate] as? Date
        _ = try repo.checkpoint("first")
        try repo.write("src/main.swift", "print(3)\n")
        let beforeSecond = try repo.untouchedState()
        _ = try repo.checkpoint("second")

        #expect(try repo.untouchedState() == beforeSecond)
        #expect(beforeSecond.indexBytes == before.indexBytes)
        #expect(beforeSecond.head == before.head)
        #expect(beforeSecond.symbolicHead == before.symbolicHead)
        #expect(beforeSecond.hooks == before.hooks)
        #expect(
            try FileManager.default.attributesOfItem(atPath: repo.url(".git/index").path)[.modificationDate] as? Date
                == indexModified)
    }

    @Test("records HEAD, branch, dirty flag, counts and the remote without credentials")
    func record() throws {
        let repo = try dirtyRepository()
        try repo.git("remote", "add", "origin", "https://user:s3cret@example.com/team/project.git")
        let record = try #require(try repo.checkpoint("first").record)
        let head = try repo.revParse("HEAD")

        #expect(record.root == FilePaths.canonical(repo.root))
        #expect(record.branch == "main")
        #expect(record.detached == false)
        #expect(record.head == head)
        #expect(record.checkpoint == (try repo.revParse("noko-checkpoints")))
        #expect(record.checkpointBranch == "noko-checkpoints")
        #expect(record.previousCheckpoint == nil)
        #expect(record.remoteURL == "https://example.com/team/project.git")
        let sizes = try repo.git("ls-tree", "-r", "-l", record.checkpoint).split(separator: "\n").map {
            Int64($0.split(separator: " ", omittingEmptySubsequences: true)[3].split(separator: "\t")[0])!
        }
        #expect(record.bytes == sizes.reduce(0, +))
    }

    @Test("a clean working tree gives a checkpoint equal to HEAD's tree, not dirty")
    func cleanTree() throws {
        let repo = try TestRepository("clean")
        try repo.write("a.txt", "a\n")
        try repo.commitAll()
        let record = try #require(try repo.checkpoint().record)
        #expect(record.dirty == false)
        #expect(try repo.revParse("\(record.checkpoint)^{tree}") == (try repo.revParse("HEAD^{tree}")))
        #expect(try repo.patch("run", RunLayout.fromHeadDiffName).isEmpty)
        #expect(record.fromHead == GitDiffStats())
    }

    @Test("commit: on noko-checkpoints, parent HEAD at first, author from the repository's config")
    func commitShape() throws {
        let repo = try dirtyRepository()
        let record = try #require(try repo.checkpoint("first").record)
        let head = try repo.revParse("HEAD")

        #expect(try repo.revParse("\(record.checkpoint)^") == head)
        #expect(try repo.gitStatus("rev-parse", "-q", "--verify", "\(record.checkpoint)^2").status != 0)
        let format = try repo.git("log", "-1", "--format=%an <%ae>%n%cn <%ce>%n%B", record.checkpoint)
        let runDirectory = FilePaths.canonical(repo.runDirectory("first"))
        #expect(format == "Test Author <author@example.com>\nTest Author <author@example.com>\nnoko checkpoint of \(runDirectory)\n\nRun: first\n\n")
        try repo.expectFsckClean()
    }

    @Test("both patches replay the checkpoint with git apply, and match git diff's counts")
    func patchesReplay() throws {
        let repo = try dirtyRepository()
        let first = try #require(try repo.checkpoint("first").record)
        try repo.expectPatchesReplay("first", first)

        let shortstat = try repo.git("diff", "--shortstat", "HEAD", first.checkpoint)
        #expect(shortstat.contains("\(first.fromHead.filesChanged) files changed"))
        #expect(shortstat.contains("\(first.fromHead.insertions) insertion"))
        #expect(shortstat.contains("\(first.fromHead.deletions) deletion"))
        #expect(try repo.git("diff", "--name-status", "-M", "HEAD", first.checkpoint).contains("R100\tsrc/moved.swift\tsrc/renamed.swift"))

        // With no previous checkpoint, the second patch holds the whole tree.
        let fullTree = try repo.git("ls-tree", "-r", "--name-only", first.checkpoint).split(separator: "\n").count
        #expect(first.fromLastCheckpoint.filesChanged == fullTree)
        try repo.expectFsckClean()
    }

    @Test("a file modified between two runs: chain, previous checkpoint and the patch between them")
    func modifiedBetweenRuns() throws {
        let repo = try dirtyRepository()
        let first = try #require(try repo.checkpoint("first").record)
        try repo.write("src/main.swift", "print(\"second\")\n")
        let second = try #require(try repo.checkpoint("second").record)

        #expect(second.previousCheckpoint == first.checkpoint)
        #expect(second.head == first.head)
        #expect(try repo.revParse("\(second.checkpoint)^") == first.checkpoint)
        #expect(second.fromLastCheckpoint == GitDiffStats(filesChanged: 1, insertions: 1, deletions: 1))
        let patch = String(decoding: try repo.patch("second", RunLayout.fromLastCheckpointDiffName), as: UTF8.self)
        #expect(patch.contains("-print(2)\n+print(\"second\")\n"))
        try repo.expectPatchesReplay("second", second)

        let log = try repo.git("log", "--format=%H", "noko-checkpoints").split(separator: "\n").map(String.init)
        #expect(Array(log.prefix(3)) == [second.checkpoint, first.checkpoint, try repo.revParse("HEAD")])

        // Nothing changed: the third patch is empty and the tree is the same.
        let third = try #require(try repo.checkpoint("third").record)
        #expect(try repo.patch("third", RunLayout.fromLastCheckpointDiffName).isEmpty)
        #expect(third.fromLastCheckpoint == GitDiffStats())
        #expect(try repo.revParse("\(third.checkpoint)^{tree}") == (try repo.revParse("\(second.checkpoint)^{tree}")))
        try repo.expectFsckClean()
    }

    @Test("a file whose size changes but stat data lies is still re-read (racy-git safety)")
    func sameSizeEditWithinTheSameSecond() throws {
        let repo = try TestRepository("racy")
        try repo.write("a.txt", "aaaa\n")
        try repo.commitAll()
        // Same size, written right after the index: only the content tells them apart.
        try repo.write("a.txt", "bbbb\n")
        let record = try #require(try repo.checkpoint().record)
        #expect(try repo.show(record.checkpoint, "a.txt") == "bbbb\n")
        // Again, same size: the second run reuses the stored blob, and must not be fooled
        // into reusing a stale one either.
        try repo.write("a.txt", "cccc\n")
        let second = try #require(try repo.checkpoint("second").record)
        #expect(try repo.show(second.checkpoint, "a.txt") == "cccc\n")
        try repo.write("a.txt", "bbbb\n")
        let third = try #require(try repo.checkpoint("third").record)
        #expect(try repo.revParse("\(third.checkpoint)^{tree}") == (try repo.revParse("\(record.checkpoint)^{tree}")))
        try repo.expectFsckClean()
    }

    @Test("a search path inside no repository: nil and exactly one warning")
    func outsideAnyRepository() throws {
        let outside = try TestRepository("outside", initialize: false)
        let result = try outside.checkpoint("run", searchPath: outside.root)
        #expect(result.record == nil)
        #expect(result.warnings.count == 1)
        #expect(result.warnings.first?.contains("not in a git repository") == true)
        #expect(!FileManager.default.fileExists(atPath: outside.runDirectory("run").appendingPathComponent("from_head.diff").path))

        let missing = outside.base.appendingPathComponent("does/not/exist")
        #expect(try outside.checkpoint("run", searchPath: missing).record == nil)
    }

    @Test("works from a subdirectory of the working tree")
    func fromSubdirectory() throws {
        let repo = try dirtyRepository()
        let record = try #require(try repo.checkpoint("sub", searchPath: repo.url("src")).record)
        #expect(record.root == FilePaths.canonical(repo.root))
        #expect(try repo.treeEntries(record.checkpoint)["notes/idea.txt"] != nil)
    }

    @Test("an invalid branch name is a clear error")
    func invalidBranch() throws {
        let repo = try TestRepository("badbranch")
        var options = CheckpointOptions(searchPath: repo.root)
        options.branch = "bad..name"
        #expect(throws: GitError.self) { try repo.checkpoint(options: options) }
        do {
            _ = try repo.checkpoint(options: options)
        } catch let error as GitError {
            #expect(error.description.contains("'bad..name' is not a valid branch name"))
        }
    }

    @Test("NOKO_NO_CHECKPOINT turns checkpoints off")
    func environmentOverride() {
        #expect(GitCheckpoint.isDisabled(environment: ["NOKO_NO_CHECKPOINT": "1"]))
        #expect(GitCheckpoint.isDisabled(environment: ["NOKO_NO_CHECKPOINT": "true"]))
        #expect(!GitCheckpoint.isDisabled(environment: ["NOKO_NO_CHECKPOINT": "0"]))
        #expect(!GitCheckpoint.isDisabled(environment: ["NOKO_NO_CHECKPOINT": ""]))
        #expect(!GitCheckpoint.isDisabled(environment: [:]))
    }
}
