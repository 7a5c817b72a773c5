import Foundation
import NokoCore
import Testing

@testable import NokoCLI

@Suite struct ShowCommandTests {
    @Test func finishedRunGolden() throws {
        let fixtures = Fixtures()
        try fixtures.finishedRun()
        Golden.check(try fixtures.run(["show", "runs/train_a"]), "show-finished.txt")
    }

    @Test func aNameUnderRunsIsFound() throws {
        let fixtures = Fixtures()
        try fixtures.finishedRun()
        #expect(try fixtures.run(["show", "train_a"]) == (try fixtures.run(["show", "runs/train_a"])))
    }

    @Test func oneTableInFullGolden() throws {
        let fixtures = Fixtures()
        try fixtures.finishedRun()
        Golden.check(try fixtures.run(["show", "runs/train_a", "--table", "grad_step"]), "show-table.txt")
    }

    @Test func columnsFilterGolden() throws {
        let fixtures = Fixtures()
        try fixtures.finishedRun()
        Golden.check(try fixtures.run(["show", "runs/train_a", "--columns", "loss,weights.m*,phase"]), "show-columns.txt")
    }

    @Test func crashedRunIsFailedGolden() throws {
        let fixtures = Fixtures()
        try fixtures.crashedRun()
        let output = try fixtures.run(["show", "runs/train_crashed"])
        #expect(output.hasPrefix("train_crashed  failed  (crashed: SIGSEGV)"))
        Golden.check(output, "show-crashed.txt")
    }

    @Test func runningAndStaleRuns() throws {
        let fixtures = Fixtures()
        let running = try fixtures.finishedRun("live", status: "running", exitCode: nil, git: false, wandb: false)
        var output = try fixtures.run(["show", "runs/live"])
        #expect(output.hasPrefix("live  running  (heartbeat 4.0s ago)"))
        #expect(output.contains("duration  1h 00m so far"))
        // The heartbeat stops: three intervals later the run reads as stale.
        var metadata = try JSONValue(parsing: [UInt8](Data(contentsOf: running.appendingPathComponent("metadata.json"))))
        metadata = metadata.replacing("heartbeat", with: .double(Fixtures.now - 45))
        try fixtures.write(metadata, to: running.appendingPathComponent("metadata.json"))
        output = try fixtures.run(["show", "runs/live"])
        #expect(output.hasPrefix("live  stale  (no heartbeat for 45s: the process died without a word)"))
        Golden.check(output, "show-stale.txt")
    }

    @Test func pythonNokoRunGolden() throws {
        let fixtures = Fixtures()
        try fixtures.pythonRun()
        let context = fixtures.context()
        let output = try fixtures.run(["show", "runs/py_run"], context: context)
        Golden.check(output, "show-python.txt")
        #expect(context.capturedError.isEmpty)
    }

    @Test func pythonNokoRunWithCSVOnly() throws {
        let fixtures = Fixtures()
        try fixtures.pythonRun(journal: false)
        let output = try fixtures.run(["show", "runs/py_run"])
        Golden.check(output, "show-python-csv.txt")
        // The journal and the CSV give the same table.
        let other = Fixtures()
        try other.pythonRun()
        let fromJournal = try other.run(["show", "runs/py_run", "--json"])
        let fromCSV = try fixtures.run(["show", "runs/py_run", "--json"])
        #expect(try JSONValue(parsing: fromJournal)["tables"] == (try JSONValue(parsing: fromCSV)["tables"]))
    }

    @Test func aRunWithoutSummaryIsReadFromItsJournal() throws {
        let fixtures = Fixtures()
        let directory = try fixtures.finishedRun()
        let withSidecar = try JSONValue(parsing: fixtures.run(["show", "runs/train_a", "--json"]))
        try FileManager.default.removeItem(at: directory.appendingPathComponent("summary.json"))
        let rebuilt = try JSONValue(parsing: fixtures.run(["show", "runs/train_a", "--json"]))
        #expect(rebuilt["summary_source"] == "noko.ndjson")
        #expect(rebuilt["tables"] == withSidecar["tables"])
        #expect(try fixtures.run(["show", "runs/train_a"]).contains("note  no summary.json: tables rebuilt by reading noko.ndjson"))
    }

    @Test func rowsLostToAFullDiskAreShownAndInTheJSON() throws {
        let fixtures = Fixtures()
        let directory = try fixtures.finishedRun()
        var metadata = try RunMetadata.read(from: directory)
        metadata.rowsLost = ["noko.ndjson": 12, "train.csv": 3]
        metadata.writeErrors = ["cannot write to \(directory.path)/noko.ndjson: No space left on device"]
        try metadata.write(to: directory)
        let text = try fixtures.run(["show", "runs/train_a"])
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("  rows lost ") && $0.hasSuffix(" noko.ndjson lacks 12 rows; train.csv lacks 3 rows that noko.ndjson has") }, "\(text)")
        #expect(lines.contains { $0.hasPrefix("  write error ") && $0.hasSuffix("noko.ndjson: No space left on device") }, "\(text)")
        let json = try JSONValue(parsing: fixtures.run(["show", "runs/train_a", "--json"]))
        #expect(json["rows_lost"] == ["noko.ndjson": 12, "train.csv": 3])
        #expect(json["metadata"]?["write_errors"]?.arrayValue?.count == 1)
    }

    @Test func jsonShape() throws {
        let fixtures = Fixtures()
        try fixtures.finishedRun()
        let json = try JSONValue(parsing: fixtures.run(["show", "runs/train_a", "--json"]))
        #expect(Set(json.objectValue!.keys) == [
            "name", "path", "source", "status", "start_time", "end_time", "duration", "metadata", "config", "seeds", "git",
            "remote", "summary_source", "tables", "overrides", "last_output", "resources", "reproductions", "rows_lost",
        ])
        #expect(json["rows_lost"] == .null, "nothing was lost")
        #expect(json["overrides"] == .null)  // a run from before launch-time config
        #expect(json["name"] == "train_a")
        #expect(json["status"] == "finished")
        #expect(json["source"] == "noko")
        #expect(json["duration"] == 3723.5)
        #expect(json["config"]?["optimizer/name"] == "sgd")
        #expect(json["config"]?["tags"] == ["a", "b"])
        #expect(json["git"]?["checkpoint"] == "2222222222222222222222222222222222222222")
        #expect(json["remote"]?["wandb"]?["run_id"] == "id-train_a")
        #expect(json["remote"]?["wandb"]?["sync"] == .null)
        let tables = try #require(json["tables"]?.arrayValue)
        #expect(tables.map { $0["name"] } == ["epoch", "grad_step", "results"])
        let grad = tables[1]
        #expect(grad["rows"] == 120)
        #expect(grad["first_step"] == 0)
        #expect(grad["last_step"] == 119)
        #expect(grad["column_count"] == 8)
        let loss = try #require(grad["columns"]?.arrayValue?.first { $0["name"] == "loss" })
        #expect(Set(loss.objectValue!.keys) == ["name", "type", "count", "null_count", "nan_count", "last", "min", "max"])
        #expect(loss["nan_count"] == 1)
        #expect(loss["type"] == "double")
        // The output is canonical: sorted keys, two-space indent, a final newline.
        let text = try fixtures.run(["show", "runs/train_a", "--json"])
        #expect(text.hasPrefix("{\n  \"config\": {"))
        #expect(text.hasSuffix("}\n"))
    }

    @Test func jsonWithTableAndColumnsFilters() throws {
        let fixtures = Fixtures()
        try fixtures.finishedRun()
        let json = try JSONValue(parsing: fixtures.run(["show", "runs/train_a", "--json", "--table", "grad_step", "--columns", "weights.*"]))
        let tables = try #require(json["tables"]?.arrayValue)
        #expect(tables.count == 1)
        #expect(tables[0]["column_count"] == 8)
        #expect(tables[0]["columns"]?.arrayValue?.map { $0["name"] } == ["weights.max", "weights.mean", "weights.min", "weights.std"])
    }

    @Test func unknownTableSaysWhichExist() throws {
        let fixtures = Fixtures()
        try fixtures.finishedRun()
        #expect(throws: CLIError("\(fixtures.url("runs/train_a").path): no table \"nope\"; the run has \"epoch\", \"grad_step\", \"results\"")) {
            try fixtures.run(["show", "runs/train_a", "--table", "nope"])
        }
    }

    @Test func colourOnlyWhenTheTerminalTakesIt() throws {
        let fixtures = Fixtures()
        try fixtures.finishedRun()
        let plain = try fixtures.run(["show", "runs/train_a"])
        #expect(!plain.contains("\u{1B}["))
        let coloured = try fixtures.run(["show", "runs/train_a"], context: fixtures.context(terminal: Terminal(colour: true)))
        #expect(coloured.contains("\u{1B}[32mfinished\u{1B}[0m"))
        #expect(coloured.contains("\u{1B}[1mconfig\u{1B}[0m"))
        // Same text once the escape codes are taken out.
        #expect(coloured.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression) == plain)
        let json = try fixtures.run(["show", "runs/train_a", "--json"], context: fixtures.context(terminal: Terminal(colour: true)))
        #expect(!json.contains("\u{1B}["))
    }

    @Test func aUserTemplateRendersTheSameContext() throws {
        let fixtures = Fixtures()
        try fixtures.finishedRun()
        let template = fixtures.url("mine.mustache")
        try Data("{{name}} is {{status}}{{#tables}}; {{name}}: {{rows}} rows{{/tables}}\n".utf8).write(to: template)
        #expect(try fixtures.run(["show", "runs/train_a", "--template", "mine.mustache"]) == "train_a is finished; epoch: 12 rows; grad_step: 120 rows; results: 1 rows\n")
    }
}
