import Foundation
import NokoCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import NokoGit

/// Which files a checkpoint takes: ignore rules, size caps, secrets, run directories,
/// awkward names, submodules.
@Suite("GitCheckpoint — file selection")
struct GitCheckpointSelectionTests {
    @Test("nested .gitignore files and .git/info/exclude are honoured")
    func nestedIgnores() throws {
        let repo = try TestRepository("ignores")
        try repo.write(".gitignore", "*.cache\n")
        try repo.write("sub/.gitignore", "*.tmp\n!keep.tmp\n")
        try repo.write(".git/info/exclude", "private/\n")
        try repo.commitAll()
        try repo.write("top.tmp", "kept: only sub/ ignores *.tmp\n")
        try repo.write("sub/x.tmp", "ignored\n")
        try repo.write("sub/keep.tmp", "re-included\n")
        try repo.write("sub/deeper/y.tmp", "ignored too\n")
        try repo.write("a.cache", "ignored\n")
        try repo.write("private/notes.txt", "excluded\n")
        let record = try #require(try repo.checkpoint().record)
        let paths = Set(try repo.treeEntries(record.checkpoint).keys)
        #expect(paths == [".gitignore", "sub/.gitignore", "top.tmp", "sub/keep.tmp"])
    }

    #if os(Linux)
    @Test("an ignored directory of 10,000 files is skipped whole, never opened")
    func ignoredDirectoryNotWalked() throws {
        let repo = try TestRepository("bigignored")
        try repo.write(".gitignore", "venv/\n")
        try repo.write("main.py", "print()\n")
        try repo.commitAll()
        let ignored = repo.url("venv/lib")
        try FileManager.default.createDirectory(at: ignored, withIntermediateDirectories: true)
        for index in 0..<10_000 {
            let descriptor = open(ignored.appendingPathComponent("f\(index).py").path, O_CREAT | O_WRONLY, 0o644)
            #expect(descriptor >= 0)
            close(descriptor)
        }
        try repo.write("visible/new.py", "print(1)\n")

        // inotify reports every opendir() of a watched directory: the ignored one must see
        // none, the untracked one (a positive control) at least one.
        let watcher = inotify_init1(Int32(IN_NONBLOCK))
        #expect(watcher >= 0)
        defer { close(watcher) }
        let ignoredWatch = inotify_add_watch(watcher, repo.url("venv").path, UInt32(IN_OPEN))
        let ignoredInnerWatch = inotify_add_watch(watcher, ignored.path, UInt32(IN_OPEN))
        let visibleWatch = inotify_add_watch(watcher, repo.url("visible").path, UInt32(IN_OPEN))
        #expect(ignoredWatch >= 0 && ignoredInnerWatch >= 0 && visibleWatch >= 0)

        let record = try #require(try repo.checkpoint().record)

        var opened: Set<Int32> = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(watcher, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            var offset = 0
            while offset < count {
                let event = buffer.withUnsafeBytes { $0.load(fromByteOffset: offset, as: inotify_event.self) }
                opened.insert(event.wd)
                offset += MemoryLayout<inotify_event>.size + Int(event.len)
            }
        }
        #expect(opened.contains(visibleWatch), "control: the untracked directory is read")
        #expect(!opened.contains(ignoredWatch), "the ignored directory was opened")
        #expect(!opened.contains(ignoredInnerWatch), "a directory inside the ignored one was opened")
        #expect(Set(try repo.treeEntries(record.checkpoint).keys) == [".gitignore", "main.py", "visible/new.py"])
    }
    #endif

    @Test("file names with spaces, quotes, tabs and unicode")
    func awkwardNames() throws {
        let repo = try TestRepository("names")
        let names = [
            "with space.txt", "dir with space/inner file.txt", "quote\"d.txt", "single'quote.txt", "tab\there.txt",
            "unicodé/ñandú 🦤.txt", "back\\slash.txt", "-leading-dash.txt",
        ]
        try repo.write(names[0], "committed\n")
        try repo.write(names[5], "committed\n")
        try repo.commitAll()
        for (index, name) in names.enumerated() {
            try repo.write(name, "content \(index)\n")
        }
        let record = try #require(try repo.checkpoint().record)
        #expect(Set(try repo.treeEntries(record.checkpoint).keys) == Set(names))
        for (index, name) in names.enumerated() {
            #expect(try repo.show(record.checkpoint, name) == "content \(index)\n")
        }
        try repo.expectPatchesReplay("run", record)
    }

    @Test("size caps: a tracked file over the cap keeps its committed version; the total cap drops the largest")
    func sizeCaps() throws {
        let repo = try TestRepository("caps")
        try repo.write("big-tracked.txt", "small at commit time\n")
        try repo.write("kept.txt", "kept\n")
        try repo.commitAll()
        try repo.write("big-tracked.txt", TestRepository.filler(5000))
        try repo.write("big-untracked.txt", TestRepository.filler(4000))
        try repo.write("u100.txt", TestRepository.filler(100))
        try repo.write("u200.txt", TestRepository.filler(200))
        try repo.write("u300.txt", TestRepository.filler(300))
        var options = CheckpointOptions(searchPath: repo.root)
        options.maxFileSize = 1000
        options.maxTotalSize = 350
        let (record, warnings) = try repo.checkpoint(options: options)
        let checkpoint = try #require(record)

        let paths = Set(try repo.treeEntries(checkpoint.checkpoint).keys)
        #expect(paths == ["big-tracked.txt", "kept.txt", "u100.txt", "u200.txt"])
        #expect(try repo.show(checkpoint.checkpoint, "big-tracked.txt") == "small at commit time\n")
        #expect(checkpoint.skipped == [
            GitSkippedFile(path: "big-tracked.txt", reason: .tooLarge, size: 5000),
            GitSkippedFile(path: "big-untracked.txt", reason: .tooLarge, size: 4000),
            GitSkippedFile(path: "u300.txt", reason: .overTotal, size: 300),
        ])
        #expect(checkpoint.dirty)
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("size caps") == true)
        // The diff does not present the big tracked file as deleted.
        let patch = String(decoding: try repo.patch("run", RunLayout.fromHeadDiffName), as: UTF8.self)
        #expect(!patch.contains("big-tracked.txt"))
        try repo.expectPatchesReplay("run", checkpoint)
    }

    @Test("untracked secrets are skipped with a warning each, unless opted in; tracked ones are kept")
    func secrets() throws {
        let repo = try TestRepository("secrets")
        try repo.write(".env.example", "TOKEN=\n")
        try repo.commitAll()
        let secrets = [
            ".env", ".env.local", "certs/server.pem", "tls.key", "id_rsa", "id_ed25519.pub", "store.p12",
            "config/credentials-prod.json", ".netrc", ".pgpass",
        ]
        for name in secrets { try repo.write(name, "hunter2-value\n") }
        try repo.write("environment.txt", "not a secret\n")
        try repo.write(".env.example", "TOKEN=changed\n")

        let (record, warnings) = try repo.checkpoint("guarded")
        let guarded = try #require(record)
        #expect(Set(try repo.treeEntries(guarded.checkpoint).keys) == [".env.example", "environment.txt"])
        #expect(guarded.skipped.map(\.path) == secrets.sorted())
        #expect(guarded.skipped.allSatisfy { $0.reason == .secret && $0.size == 14 })
        #expect(warnings.count == secrets.count)
        #expect(warnings.allSatisfy { $0.contains(".gitignore") })
        let patch = String(decoding: try repo.patch("guarded", RunLayout.fromHeadDiffName), as: UTF8.self)
        #expect(!patch.contains("hunter2"))

        var options = CheckpointOptions(searchPath: repo.root)
        options.includeSecrets = true
        let (opted, optedWarnings) = try repo.checkpoint("opted", options: options)
        let included = try #require(opted)
        #expect(Set(try repo.treeEntries(included.checkpoint).keys) == Set(secrets + [".env.example", "environment.txt"]))
        #expect(included.skipped.isEmpty)
        #expect(optedWarnings.isEmpty)
    }

    @Test("secret file names")
    func secretNames() {
        for name in [".env", ".env.prod", "a/b/.env", "x.pem", "k.key", "id_rsa", "id_rsa.pub", "id_ed25519", "c.p12",
            "credentials.json", "credentials-gcp.json", ".netrc", "dir/.pgpass"]
        {
            #expect(SecretFileNames.matches(name), "\(name)")
        }
        for name in ["env", "my.env", "environment", "pem.txt", "keys.txt", "credentials.yaml", "netrc", "a/.env/notes.txt"] {
            #expect(!SecretFileNames.matches(name), "\(name)")
        }
    }

    @Test("the runs directory and every noko run directory stay out; one warning suggests ignoring them")
    func runDirectoriesExcluded() throws {
        let repo = try TestRepository("runsdir")
        try repo.write("train.py", "print()\n")
        try repo.commitAll()
        let metadata = "{\"format_version\": 1, \"run_name\": \"old\"}\n"
        try repo.write("runs/old_run/metadata.json", metadata)
        try repo.write("runs/old_run/noko.ndjson", "{}\n")
        try repo.write("runs/loose.txt", "in the runs directory\n")
        try repo.write("experiments/elsewhere/metadata.json", metadata)
        try repo.write("experiments/elsewhere/deep/log.csv", "a\n")
        try repo.write("data/metadata.json", "{\"kind\": \"dataset\"}\n")

        var options = CheckpointOptions(searchPath: repo.root)
        options.runsDirectory = repo.url("runs")
        let log = CapturedLog()
        let record = try #require(
            try GitCheckpoint.checkpoint(
                runDirectory: repo.url("runs/new_run"), runName: "new_run", options: options, messages: log.logger))
        #expect(Set(try repo.treeEntries(record.checkpoint).keys) == ["train.py", "data/metadata.json"])
        #expect(log.messages.count == 1)
        #expect(log.messages.first?.contains("runs/") == true)
        #expect(log.messages.first?.contains(".gitignore") == true)
        #expect(FileManager.default.fileExists(atPath: repo.url("runs/new_run/from_head.diff").path))

        // Ignored runs directory: no warning; a run directory found elsewhere still warns.
        try repo.write(".gitignore", "runs/\n")
        let second = CapturedLog()
        let again = try #require(
            try GitCheckpoint.checkpoint(
                runDirectory: repo.url("runs/next_run"), runName: "next_run", options: options, messages: second.logger))
        #expect(Set(try repo.treeEntries(again.checkpoint).keys) == ["train.py", "data/metadata.json", ".gitignore"])
        #expect(second.messages.count == 1)
        #expect(second.messages.first?.contains("experiments/elsewhere/") == true)
    }

    @Test("a committed run directory keeps its committed files; its new files stay out")
    func trackedRunDirectory() throws {
        let repo = try TestRepository("trackedrun")
        try repo.write("results/baseline/metadata.json", "{\"format_version\": 1}\n")
        try repo.write("results/baseline/summary.json", "{}\n")
        try repo.commitAll()
        try repo.write("results/baseline/summary.json", "{\"changed\": true}\n")
        try repo.write("results/baseline/new.log", "new\n")
        let record = try #require(try repo.checkpoint().record)
        #expect(Set(try repo.treeEntries(record.checkpoint).keys) == ["results/baseline/metadata.json", "results/baseline/summary.json"])
        #expect(try repo.show(record.checkpoint, "results/baseline/summary.json") == "{}\n")
    }

    @Test("a submodule is recorded as its checked-out commit, not recursed")
    func submodule() throws {
        let library = try TestRepository("library")
        try library.write("lib.txt", "v1\n")
        try library.commitAll("v1")
        let v1 = try library.revParse("HEAD")
        try library.write("lib.txt", "v2\n")
        try library.commitAll("v2")
        let v2 = try library.revParse("HEAD")

        let repo = try TestRepository("super")
        try repo.write("main.txt", "main\n")
        try repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", library.root.path, "lib")
        try repo.git("-C", "lib", "-c", "advice.detachedHead=false", "checkout", "-q", v1)
        try repo.commitAll("with submodule at v1")
        try repo.git("-C", "lib", "-c", "advice.detachedHead=false", "checkout", "-q", v2)
        try repo.write("lib/untracked-inside.txt", "not ours\n")

        let record = try #require(try repo.checkpoint().record)
        let entries = try repo.treeEntries(record.checkpoint)
        #expect(entries["lib"]?.mode == "160000")
        #expect(entries["lib"]?.id == v2)
        #expect(entries.keys.allSatisfy { !$0.hasPrefix("lib/") })
        #expect(record.dirty)
    }

    @Test("an embedded repository that is not a submodule becomes a gitlink, as with git add")
    func embeddedRepository() throws {
        let repo = try TestRepository("embedding")
        try repo.write("a.txt", "a\n")
        try repo.commitAll()
        let inner = repo.url("vendor/inner")
        try FileManager.default.createDirectory(at: inner, withIntermediateDirectories: true)
        try repo.git("init", "-q", in: inner)
        try Data("inner\n".utf8).write(to: inner.appendingPathComponent("x.txt"))
        try repo.git("add", "x.txt", in: inner)
        try repo.git("commit", "-q", "-m", "inner", in: inner)
        let innerHead = try repo.git("rev-parse", "HEAD", in: inner).trimmingCharacters(in: .whitespacesAndNewlines)

        let record = try #require(try repo.checkpoint().record)
        let entries = try repo.treeEntries(record.checkpoint)
        #expect(entries["vendor/inner"]?.mode == "160000")
        #expect(entries["vendor/inner"]?.id == innerHead)
    }

    @Test("type changes: a file becomes a symbolic link, another a directory, a directory a file")
    func typeChanges() throws {
        let repo = try TestRepository("typechange")
        try repo.write("target.txt", "target\n")
        try repo.write("becomes-link", "file\n")
        try repo.write("becomes-dir", "file\n")
        try repo.write("was-dir/inner.txt", "inner\n")
        try repo.commitAll()
        try FileManager.default.removeItem(at: repo.url("becomes-link"))
        try FileManager.default.createSymbolicLink(atPath: repo.url("becomes-link").path, withDestinationPath: "target.txt")
        try FileManager.default.removeItem(at: repo.url("becomes-dir"))
        try repo.write("becomes-dir/child.txt", "child\n")
        try FileManager.default.removeItem(at: repo.url("was-dir"))
        try repo.write("was-dir", "now a file\n")

        let record = try #require(try repo.checkpoint().record)
        let entries = try repo.treeEntries(record.checkpoint)
        #expect(Set(entries.keys) == ["target.txt", "becomes-link", "becomes-dir/child.txt", "was-dir"])
        #expect(entries["becomes-link"]?.mode == "120000")
        #expect(try repo.show(record.checkpoint, "was-dir") == "now a file\n")
        try repo.expectPatchesReplay("run", record)
    }

    @Test("a bare repository: nil and one warning")
    func bareRepository() throws {
        let holder = try TestRepository("bare", initialize: false)
        try holder.git("init", "-q", "--bare", holder.root.path)
        let (record, warnings) = try holder.checkpoint("run", searchPath: holder.root)
        #expect(record == nil)
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("bare") == true)
    }
}
