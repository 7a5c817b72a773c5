import Foundation
import NokoCore
import Testing

@testable import NokoCLI

/// Run directories someone touched by hand or another program wrote: each command gives a
/// clear message naming the file and reads what it can.
@Suite struct HandEditedRunTests {
    struct Outcome {
        var output = ""
        var error = ""
        var thrown: String?
    }

    func attempt(_ fixtures: Fixtures, _ arguments: [String]) -> Outcome {
        let context = fixtures.context()
        do {
            try fixtures.run(arguments, context: context)
            return Outcome(output: context.capturedOutput, error: context.capturedError)
        } catch {
            return Outcome(output: context.capturedOutput, error: context.capturedError, thrown: "\(error)")
        }
    }

    func append(_ text: String, to url: URL) throws {
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    @Test func aTruncatedMetadataFileIsNamedAndTheRowsAreStillShown() throws {
        let fixtures = Fixtures()
        let run = try fixtures.finishedRun("cut")
        let metadata = run.appendingPathComponent("metadata.json")
        let bytes = try Data(contentsOf: metadata)
        try bytes.prefix(bytes.count / 2).write(to: metadata)
        let warning = "warning: \(metadata.path): expected JSON, found malformed text"
        for arguments in [["show", "runs/cut"], ["show", "runs/cut", "--table", "epoch"], ["compare", "runs/cut", "runs/cut"]] {
            let outcome = attempt(fixtures, arguments)
            #expect(outcome.thrown == nil, "\(arguments)")
            #expect(outcome.error.hasPrefix(warning), "\(arguments): \(outcome.error)")
            #expect(outcome.output.contains("test_accuracy"), "\(arguments)")
        }
        let list = attempt(fixtures, ["list"])
        #expect(list.thrown == nil && list.output.contains("cut"))
        #expect(list.error.hasPrefix("warning: cut: \(metadata.path): expected JSON"))
    }

    @Test func aJournalLineFromANewerFormatIsRead() throws {
        let fixtures = Fixtures()
        let run = try fixtures.finishedRun("newer")
        // A key this version does not know (`$format`) is a column like any other.
        try append(#"{"$format": 7, "$level": 35, "$step": 99, "$table": "epoch", "test_accuracy": 0.5}"# + "\n", to: run.appendingPathComponent("noko.ndjson"))
        try FileManager.default.removeItem(at: run.appendingPathComponent("epoch.csv"))
        let outcome = attempt(fixtures, ["export", "runs/newer", "--table", "epoch", "--format", "ndjson"])
        #expect(outcome.thrown == nil)
        let lines = outcome.output.split(separator: "\n")
        #expect(lines.count == 13)
        #expect(lines.last?.contains(#""$step":99"#) == true)
    }

    @Test func aLineThatIsNotJSONNamesTheFileAndLine() throws {
        let fixtures = Fixtures()
        let run = try fixtures.finishedRun("garbage")
        let journal = run.appendingPathComponent("noko.ndjson")
        let lines = try String(contentsOf: journal, encoding: .utf8).split(separator: "\n").count
        try append("edited by hand\n", to: journal)
        try FileManager.default.removeItem(at: run.appendingPathComponent("epoch.csv"))
        let outcome = attempt(fixtures, ["export", "runs/garbage", "--table", "epoch", "--format", "ndjson"])
        #expect(outcome.thrown == "\(journal.path):\(lines + 1): not a noko journal line: expected '{' to start a row object at byte 0")
        // The summary, which noko keeps beside the journal, still shows the run.
        let show = attempt(fixtures, ["show", "runs/garbage"])
        #expect(show.thrown == nil && show.output.contains("epoch  12 rows"))
    }

    @Test func aSummaryTheJournalOutgrewIsNamedAndTheJournalIsRead() throws {
        let fixtures = Fixtures()
        let run = try fixtures.finishedRun("outgrown")
        let summary = try JSONValue(parsing: Array(try Data(contentsOf: run.appendingPathComponent("summary.json"))))
        let journal = run.appendingPathComponent("noko.ndjson")
        #expect(summary["journal_bytes"]?.intValue == Int64(try Data(contentsOf: journal).count), "summary.json records the journal it describes")
        #expect(attempt(fixtures, ["show", "runs/outgrown"]).error.isEmpty, "an untouched run is read from summary.json, silently")
        try append(#"{"$level": 35, "$step": 12, "$table": "epoch", "test_accuracy": 0.99}"# + "\n", to: journal)
        let show = attempt(fixtures, ["show", "runs/outgrown", "--json"])
        #expect(show.thrown == nil)
        #expect(show.error.contains("summary.json was written when noko.ndjson had"), "\(show.error)")
        #expect(show.error.contains("the tables are read from noko.ndjson instead"), "\(show.error)")
        let shown = try JSONValue(parsing: Array(show.output.utf8))
        #expect(shown["summary_source"] == "noko.ndjson")
        let epoch = shown["tables"]?.arrayValue?.first { $0["name"] == "epoch" }
        #expect(epoch?["rows"] == 13, "the appended row counts")
    }

    @Test func anEmptyCSVFileFallsBackToTheJournal() throws {
        let fixtures = Fixtures()
        let run = try fixtures.finishedRun("emptycsv")
        try Data().write(to: run.appendingPathComponent("epoch.csv"))
        let export = attempt(fixtures, ["export", "runs/emptycsv", "--table", "epoch", "--format", "ndjson"])
        #expect(export.thrown == nil)
        #expect(export.output.split(separator: "\n").count == 12)
        let show = attempt(fixtures, ["show", "runs/emptycsv", "--table", "epoch"])
        #expect(show.thrown == nil && show.output.contains("12 rows"))
    }

    @Test func aCrashFileWithoutASignalStillMarksTheRunCrashed() throws {
        let fixtures = Fixtures()
        let run = try fixtures.finishedRun("crashed", status: "running", exitCode: nil, wandb: false)
        try Data().write(to: run.appendingPathComponent("crash"))
        let show = attempt(fixtures, ["show", "runs/crashed"])
        #expect(show.thrown == nil)
        #expect(show.output.hasPrefix("crashed  failed  (crashed)"), "\(show.output.prefix(80))")
    }

    @Test func malformedConfigSeedsAndOverridesAreNamed() throws {
        let fixtures = Fixtures()
        let run = try fixtures.finishedRun("small")
        try Data("{\"lr\": 0.".utf8).write(to: run.appendingPathComponent("config.json"))
        try Data("[".utf8).write(to: run.appendingPathComponent("seeds.json"))
        let show = attempt(fixtures, ["show", "runs/small"])
        #expect(show.thrown == nil)
        #expect(show.error.contains("\(run.path)/config.json: expected JSON") && show.error.contains("read as no config"))
        #expect(show.error.contains("\(run.path)/seeds.json: expected JSON") && show.error.contains("read as no seeds"))
        #expect(show.output.contains("test_accuracy"))
    }
}
