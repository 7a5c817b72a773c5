import Foundation
import NokoTestSupport
import Testing

@testable import NokoCore

#if canImport(Glibc)
import Glibc
#endif

@Suite struct InitializeTests {
    @Test func runDirectoriesAreUniqueAndAtomic() throws {
        let runs = temporaryDirectory()
        let names = (0..<20).map { _ in try? RunDirectory.create(in: runs, name: "same", collision: .uniquify).name }
        #expect(Set(names.compactMap { $0 }).count == 20)
        #expect(names.first == "same")
        #expect(names.contains("same_20"))
        #expect(throws: RunDirectoryError.exists(runs.appendingPathComponent("same").path)) {
            try RunDirectory.create(in: runs, name: "same", collision: .fail)
        }
        #expect(try RunDirectory.create(in: runs, name: "same", collision: .reuse).name == "same")
        #expect(throws: RunDirectoryError.self) { try RunDirectory.create(in: runs, name: "../up", collision: .fail) }
    }

    @Test func defaultNamesAreProgramAndLocalTimeWithoutColons() {
        let name = RunDirectory.defaultName(program: "train", date: 0)
        #expect(name.hasPrefix("train_19"))
        #expect(!name.contains(":"))
        #expect(name.count == "train_".count + 17)
    }

    @Test func aRunsDirectoryThatCannotBeCreatedGivesAClearError() throws {
        let blocker = temporaryDirectory().appendingPathComponent("file")
        try "x".write(to: blocker, atomically: true, encoding: .utf8)
        #expect {
            try RunDirectory.create(in: blocker.appendingPathComponent("runs"), name: "r", collision: .fail)
        } throws: { error in
            "\(error)".contains(blocker.path) && "\(error)".contains("it is a file")
        }
        #expect {
            try RunDirectory.create(in: URL(fileURLWithPath: "/proc/noko-runs"), name: "r", collision: .fail)
        } throws: { error in
            "\(error)".contains("/proc/noko-runs")
        }
    }

    @Test func aChildKilledWithSIGKILLLosesNoLoggedRow() throws {
        let runs = temporaryDirectory()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: builtProduct("noko-test-child"))
        child.arguments = ["log", runs.path, "victim"]
        let out = Pipe()
        child.standardOutput = out
        try child.run()
        // Let it log for more than one flush interval, then kill it mid-flight.
        var seen = Data()
        let start = Date()
        while seen.count < 100_000 || Date().timeIntervalSince(start) < 2.5 {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen.append(chunk)
        }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        seen.append(out.fileHandleForReading.readDataToEndOfFile())
        #expect(child.terminationReason == .uncaughtSignal)
        let reported = String(decoding: seen, as: UTF8.self).split(separator: "\n").compactMap { line -> Int? in
            line.hasPrefix("logged ") ? Int(line.dropFirst(7)) : nil
        }
        let lastLogged = try #require(reported.last)
        let journal = runs.appendingPathComponent("victim/noko.ndjson")
        let table = try LogFileLoader.loadTable("t", fromJournal: journal.path)
        #expect(table.rowCount >= lastLogged + 1, "every row whose logRow returned is in the journal")
        #expect(table["i"]?.prefix(lastLogged + 1).map { $0 } == (0...lastLogged).map { .int(Int64($0)) })
        // Views may trail the journal by a flush interval, but parse.
        let csv = try LogFileLoader.load(runs.appendingPathComponent("victim/t.csv").path)
        #expect(csv.rowCount <= table.rowCount)
        let metadata = try JSONValue(parsing: readText(runs.appendingPathComponent("victim/metadata.json")))
        #expect(metadata["format_version"] == .int(Int64(Noko.formatVersion)))
    }

    @Test func aChildThatFinishesWritesEveryFile() throws {
        let runs = temporaryDirectory()
        let result = try run(builtProduct("noko-test-child"), ["log", runs.path, "done", "100"])
        #expect(result.status == 0, "\(result.stderr)")
        let dir = runs.appendingPathComponent("done")
        for file in ["noko.ndjson", "t.csv", "summary.json", "metadata.json", "debug.log", "noko_pprint.log"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(file).path), "\(file)")
        }
        #expect(try LogFileLoader.load(dir.appendingPathComponent("t.csv").path).rowCount == 100)
        let explicit = try run(builtProduct("noko-test-child"), ["log", runs.path, "done", "1"])
        #expect(explicit.status != 0, "an explicit run name that exists is an error")
        #expect(explicit.stderr.contains("already exists"))
    }
}
