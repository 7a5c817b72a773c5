import Foundation
import NokoPlatform
import NokoTestSupport
import Testing
@testable import NokoCore

@Suite("The atomic writer")
struct AtomicFileTests {
    @Test("a crash between any two steps of rewriting metadata.json leaves the old file or the new one")
    func metadataSurvivesACrashAtEveryStep() throws {
        let directory = temporaryDirectory()
        var old = RunMetadata(runName: "run")
        old.status = "running"
        try old.write(to: directory)
        var new = old
        new.status = "finished"
        new.exitCode = 0
        var sawOld = false
        var sawNew = false
        let steps = try interruptEveryStep(under: directory) {
            try new.write(to: directory)
        } check: { step in
            let read = try RunMetadata.read(from: directory)
            #expect(read == old || read == new, "step \(step): a reader saw neither the old nor the new file")
            if read == old { sawOld = true } else { sawNew = true }
            try old.write(to: directory)  // the next round starts from the old file again
        }
        // open the temporary file, write, fsync, close, rename, open the directory, fsync it.
        #expect(steps == 7)
        #expect(sawOld && sawNew)
        #expect(try RunMetadata.read(from: directory) == new)
    }

    @Test("an I/O error at any step leaves the old file, and no temporary file behind")
    func anIOErrorAtEveryStepKeepsTheOldFile() throws {
        let directory = temporaryDirectory()
        let path = directory.appendingPathComponent("config.json").path
        try AtomicFile.write(Array("old".utf8), to: path)
        let steps = try interruptEveryStep(under: directory, action: .fail(NokoSystemError.ioError)) {
            try AtomicFile.write(Array("new".utf8), to: path)
        } check: { step in
            let content = String(decoding: try FileSystem.read(path) ?? [], as: UTF8.self)
            // After the rename the file is new: a failed directory fsync is returned, not thrown.
            #expect(content == "old" || (content == "new" && step >= 5), "step \(step): \(content)")
            #expect(try FileSystem.contentsOfDirectory(directory.path) == ["config.json"], "step \(step) left a temporary file")
            try AtomicFile.write(Array("old".utf8), to: path)
        }
        #expect(steps == 7)
    }

    @Test("a directory fsync that fails after the rename is returned, not thrown: the file is replaced")
    func aFailedDirectorySyncAfterTheRenameIsReturned() throws {
        let directory = temporaryDirectory()
        let path = directory.appendingPathComponent("summary.json").path
        try AtomicFile.write(Array("old".utf8), to: path)
        let directoryPath = directory.path
        let token = FaultInjection.install { call, target in
            call == .fsync && target == directoryPath ? .fail(NokoSystemError.ioError) : nil
        }
        defer { FaultInjection.remove(token) }
        let notDurable = try AtomicFile.write(Array("new".utf8), to: path)
        #expect(notDurable?.code == NokoSystemError.ioError)
        #expect(String(decoding: try FileSystem.read(path) ?? [], as: UTF8.self) == "new")
    }

    @Test("an error about the temporary file names the file it was to replace")
    func errorsNameTheTargetNotTheTemporaryFile() throws {
        let directory = temporaryDirectory()
        let path = directory.appendingPathComponent("summary.json").path
        let prefix = directory.path + "/.summary.json.tmp-"
        let token = FaultInjection.install { call, target in
            call == .write && target.hasPrefix(prefix) ? .fail(NokoSystemError.noSpace) : nil
        }
        defer { FaultInjection.remove(token) }
        #expect {
            try AtomicFile.write(Array("new".utf8), to: path)
        } throws: { error in
            "\(error)" == "cannot write a new version of \(path): \(NokoSystemError.reason(for: NokoSystemError.noSpace))"
        }
        #expect(try FileSystem.contentsOfDirectory(directory.path) == [], "no temporary file is left")
    }

    @Test("EINTR at any step is retried: the write completes")
    func interruptedCallsAreRetried() throws {
        let directory = temporaryDirectory()
        let path = directory.appendingPathComponent("seeds.json").path
        let steps = try interruptEveryStep(under: directory, action: .fail(NokoSystemError.interrupted)) {
            try AtomicFile.write(Array("value".utf8), to: path)
        } check: { step in
            #expect(String(decoding: try FileSystem.read(path) ?? [], as: UTF8.self) == "value", "step \(step)")
            try FileSystem.remove(path)
        }
        #expect(steps == 7)
    }

    @Test("leftovers of a crashed writer are removed; a live writer's are not")
    func leftoversOfDeadWritersAreRemoved() throws {
        let directory = temporaryDirectory()
        let path = directory.appendingPathComponent("t.csv").path
        try AtomicFile.write(Array("x".utf8), to: path)
        let dead = directory.appendingPathComponent(".t.csv.tmp-2147483646-3").path
        let live = directory.appendingPathComponent(".t.csv.tmp-\(CurrentProcess.id)-9").path
        try AtomicFile.write(Array("half".utf8), to: dead)
        try AtomicFile.write(Array("half".utf8), to: live)
        #expect(AtomicFile.removeLeftovers(beside: path) == 1)
        #expect(!FileSystem.exists(dead))
        #expect(FileSystem.exists(live))
    }

    @Test("leftovers of crashed writers are removed from a directory, whatever file they replaced")
    func leftoversInADirectoryAreRemoved() throws {
        let directory = temporaryDirectory()
        let dead = [".summary.json.tmp-2147483646-3", ".metadata.json.tmp-2147483645-12", ".t.csv.tmp-1.tmp-2147483646-0"]
        let kept = [".t.csv.tmp-\(CurrentProcess.id)-9", ".notes.tmp-draft", ".x.tmp-12", "t.csv.tmp-2147483646-3", "summary.json"]
        for name in dead + kept {
            try AtomicFile.write(Array("half".utf8), to: directory.appendingPathComponent(name).path)
        }
        #expect(AtomicFile.removeLeftovers(in: directory.path) == dead.count)
        #expect(try FileSystem.contentsOfDirectory(directory.path) == kept.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    }
}
