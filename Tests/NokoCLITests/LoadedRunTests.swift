import Foundation
import NokoCore
import Testing

@testable import NokoCLI

@Suite struct LoadedRunTests {
    @Test func notARunDirectory() throws {
        let fixtures = Fixtures()
        let directory = fixtures.url("runs/stuff")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data().write(to: directory.appendingPathComponent("notes.txt"))
        #expect(throws: CLIError("\(directory.path) is not a run directory: expected metadata.json (a noko run) or noko.ndjson / <table>.csv (a Python noko run); found: notes.txt")) {
            try LoadedRun.open(directory)
        }
        #expect(throws: CLIError("\(fixtures.url("runs").path)/nothing: no such run directory")) {
            try LoadedRun.open(fixtures.url("runs/nothing"))
        }
        #expect(throws: CLIError("\(directory.path)/notes.txt: expected a run directory, found a file")) {
            try LoadedRun.open(directory.appendingPathComponent("notes.txt"))
        }
        #expect(throws: CLIError("\(fixtures.url("stuff/x").path): no such run directory")) { _ = try fixtures.run(["show", "stuff/x"]).count }
    }

    @Test func aNewerFormatVersionIsRefused() throws {
        let fixtures = Fixtures()
        let run = try fixtures.finishedRun()
        try fixtures.write(["format_version": 99, "run_name": "train_a", "something_new": true], to: run.appendingPathComponent("metadata.json"))
        #expect(throws: CLIError("\(run.path)/metadata.json: written by a newer noko (format_version 99; this noko reads format_version 1 and older); upgrade noko")) {
            try LoadedRun.open(run)
        }
        try fixtures.write(["format_version": 1, "run_name": "train_a"], to: run.appendingPathComponent("metadata.json"))
        try Data(#"{"format_version": 7, "tables": {}}"#.utf8).write(to: run.appendingPathComponent("summary.json"))
        #expect(throws: CLIError("\(run.path)/summary.json: written by a newer noko (format_version 7; this noko reads format_version 1 and older); upgrade noko")) {
            try fixtures.run(["show", "runs/train_a"])
        }
    }

    @Test func malformedFilesAreNamedAndReadAsAbsent() throws {
        let fixtures = Fixtures()
        let run = try fixtures.finishedRun()
        let metadata = run.appendingPathComponent("metadata.json")
        let unknown = "; read as a run without metadata (status, times and argv unknown)"
        func problems() throws -> [String] {
            let loaded = try LoadedRun.open(run)
            #expect(loaded.source == .noko)
            return loaded.problems
        }
        try Data(#"{"format_version": 1, "run_name": 3}"#.utf8).write(to: metadata)
        #expect(try problems() == ["\(metadata.path): expected \"run_name\" to be String; found another type" + unknown])
        try Data(#"{"format_version": 1}"#.utf8).write(to: metadata)
        #expect(try problems() == ["\(metadata.path): expected \"run_name\"; it is missing" + unknown])
        try Data(#"{"run_name": "x"}"#.utf8).write(to: metadata)
        #expect(try problems() == ["\(metadata.path): expected an integer \"format_version\"; found none" + unknown])
        try Data("[1, 2".utf8).write(to: metadata)
        #expect(try problems() == ["\(metadata.path): expected JSON, found malformed text (expected ',' or ']' in an array at byte 5)" + unknown])
        try Data(#"{"format_version": 99, "run_name": "x"}"#.utf8).write(to: metadata)
        #expect(throws: CLIError("\(metadata.path): written by a newer noko (format_version 99; this noko reads format_version 1 and older); upgrade noko")) {
            try LoadedRun.open(run)
        }
        try fixtures.write(["format_version": 1, "run_name": "train_a"], to: metadata)
        try Data("{\"lr\": ".utf8).write(to: run.appendingPathComponent("config.json"))
        let loaded = try LoadedRun.open(run)
        #expect(loaded.problems == ["\(run.path)/config.json: expected JSON, found malformed text (unexpected end of JSON at byte 7); read as no config"])
        #expect(loaded.config == nil && loaded.metadata?.runName == "train_a")
    }

    @Test func aMalformedJournalLineIsNamedWithItsLine() throws {
        let fixtures = Fixtures()
        let run = try fixtures.pythonRun()
        let journal = run.appendingPathComponent("noko.ndjson")
        var lines = try String(contentsOf: journal, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[4] = "{\"$table\": \"t\", \"loss\": nan}"
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: journal)
        #expect(throws: CLIError("\(journal.path):5: not a noko journal line: invalid literal, expected null at byte 24")) {
            try fixtures.run(["show", "runs/py_run"])
        }
    }

    @Test func aTornLastLineIsSkippedWithAWarning() throws {
        let fixtures = Fixtures()
        let run = try fixtures.pythonRun()
        let journal = run.appendingPathComponent("noko.ndjson")
        let handle = try FileHandle(forWritingTo: journal)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"$table\": \"w1_rows.py:133\", \"lo".utf8))
        try handle.close()
        let context = fixtures.context()
        let output = try fixtures.run(["show", "runs/py_run"], context: context)
        #expect(output.contains("30 rows"))
        #expect(context.capturedError == "warning: \(journal.path): the last line is incomplete (32 bytes: the writer died mid-line or is still writing it); skipped\n")
    }

    @Test func statusInference() throws {
        let fixtures = Fixtures()
        let run = try LoadedRun.open(try fixtures.finishedRun("a", status: "running", exitCode: nil))
        #expect(run.status(now: Fixtures.now) == .running)
        #expect(run.status(now: Fixtures.now + 100) == .stale)
        #expect(try LoadedRun.open(fixtures.crashedRun()).status(now: Fixtures.now) == .failed)
        #expect(try LoadedRun.open(fixtures.pythonRun()).status(now: Fixtures.now) == .unknown)
        #expect(try LoadedRun.open(fixtures.finishedRun("k", status: "killed", exitCode: 143)).status(now: Fixtures.now) == .killed)
    }

    @Test func runDirectoriesAreNokoAndPythonNokoRuns() throws {
        let fixtures = Fixtures()
        try fixtures.finishedRun("b")
        try fixtures.finishedRun("a")
        try fixtures.pythonRun()
        try fixtures.pythonRun("csv_only", journal: false)
        try FileManager.default.createDirectory(at: fixtures.url("runs/notes"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: fixtures.url("runs/notes/readme.txt"))
        try Data("x".utf8).write(to: fixtures.url("runs/stray.csv"))
        #expect(try LoadedRun.runDirectories(in: fixtures.url("runs")).map(\.lastPathComponent) == ["a", "b", "csv_only", "py_run"])
    }
}
