import Foundation
import NokoCore
import Testing

@testable import NokoCLI

@Suite struct CompareCommandTests {
    func twoRuns() throws -> Fixtures {
        let fixtures = Fixtures()
        try fixtures.finishedRun("train_a", lr: 0.1)
        try fixtures.finishedRun("train_b", lr: 0.05, batch: 128, optimizer: "adam", epochs: 8)
        return fixtures
    }

    @Test func compareGolden() throws {
        let fixtures = try twoRuns()
        Golden.check(try fixtures.run(["compare", "runs/train_a", "runs/train_b"]), "compare.txt")
    }

    @Test func differencesOnlyAndColumnsGolden() throws {
        let fixtures = try twoRuns()
        try fixtures.pythonRun()
        let output = try fixtures.run(["compare", "train_a", "train_b", "py_run", "--differences", "--columns", "test_*,loss"])
        Golden.check(output, "compare-differences.txt")
    }

    @Test func differingConfigIsColouredOnATerminal() throws {
        let fixtures = try twoRuns()
        let output = try fixtures.run(
            ["compare", "train_a", "train_b"], context: fixtures.context(terminal: Terminal(colour: true)))
        #expect(output.contains("\u{1B}[33madam\u{1B}[0m"))
        #expect(output.contains("  seed"))
    }

    @Test func jsonShape() throws {
        let fixtures = try twoRuns()
        let json = try JSONValue(parsing: fixtures.run(["compare", "train_a", "train_b", "--json"]))
        #expect(Set(json.objectValue!.keys) == ["runs", "config", "metrics"])
        let runs = try #require(json["runs"]?.arrayValue)
        #expect(runs.map { $0["name"] } == ["train_a", "train_b"])
        #expect(Set(runs[0].objectValue!.keys) == ["name", "path", "status", "start_time", "duration", "overridden"])
        let config = try #require(json["config"]?.arrayValue)
        let lr = try #require(config.first { $0["key"] == "lr" })
        #expect(lr == ["key": "lr", "values": [0.1, 0.05], "differs": true])
        #expect(config.first { $0["key"] == "seed" }?["differs"] == false)
        let metrics = try #require(json["metrics"]?.arrayValue)
        let accuracy = try #require(metrics.first { $0["table"] == "epoch" && $0["column"] == "test_accuracy" })
        #expect(Set(accuracy.objectValue!.keys) == ["table", "column", "values", "differs"])
        #expect(accuracy["values"]?.arrayValue?.count == 2)
    }

    @Test func needsTwoRuns() throws {
        do {
            _ = try NokoRun.parseCommand(["compare", "runs/train_a"])
            Issue.record("one run was accepted")
        } catch {
            #expect(NokoRun.exitStatus(for: error) == 64)
        }
    }

    // MARK: - --rows

    @Test func rowsOfTwoRunsOfTheSameCodeAreIdentical() throws {
        let fixtures = Fixtures()
        try fixtures.finishedRun("a")
        try fixtures.finishedRun("b")
        let output = try fixtures.run(["compare", "--rows", "a", "b"])
        #expect(output.hasPrefix("reproduced: 3 tables, 133 rows,"))
        #expect(output.contains("  grad_step  120 rows,") && output.contains(" identical"))
    }

    @Test func rowsThatDifferExitWithStatusOneAndSayWhere() throws {
        let fixtures = try twoRuns()
        let context = fixtures.context()
        #expect {
            try fixtures.run(["compare", "--rows", "train_a", "train_b"], context: context)
        } throws: { error in
            NokoRun.exitStatus(for: error) == 1
        }
        let output = context.capturedOutput
        #expect(output.hasPrefix("not reproduced: 3 of 3 tables differ; config.json differs"))
        #expect(output.contains("first difference at row 1 (step 0), column weights.mean: 0.6229721049233613 (original) vs 0.5479721049233615 (rerun), difference 0.075"))
        #expect(output.contains("  results  1 row, 4 values\n"))
        #expect(output.contains("the rerun stopped early: compared its 8 rows with the original's first 8 of 12"))
        #expect(output.contains("lr: 0.1 (original) vs 0.05 (rerun)"))
    }

    @Test func oneDifferingValueIsFoundInItsTable() throws {
        let fixtures = Fixtures()
        try fixtures.finishedRun("a")
        try fixtures.finishedRun("b")
        let journal = fixtures.url("runs/b/noko.ndjson")
        var lines = try String(contentsOf: journal, encoding: .utf8).split(separator: "\n").map(String.init)
        let index = try #require(lines.firstIndex { $0.contains("\"$table\":\"epoch\"") && $0.contains("\"$step\":4,") })
        lines[index] = lines[index].replacingOccurrences(of: "\"constant\":1", with: "\"constant\":2")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: journal)
        let context = fixtures.context()
        #expect(throws: (any Error).self) { try fixtures.run(["compare", "--rows", "a", "b"], context: context) }
        let output = context.capturedOutput
        #expect(output.hasPrefix("not reproduced: 1 of 3 tables differs\n"), "\(output)")
        #expect(output.contains("first difference at row 5 (step 4), column constant: 1 (original) vs 2 (rerun), difference 1 (relative 1)"), "\(output)")
        #expect(output.contains("1 of 60 values differ; largest difference 1 (relative 1)"), "\(output)")
    }

    @Test func rowsJSONShape() throws {
        let fixtures = try twoRuns()
        let context = fixtures.context()
        #expect(throws: (any Error).self) { try fixtures.run(["compare", "--rows", "train_a", "train_b", "--json", "--ignore", "weights*"], context: context) }
        let json = try JSONValue(parsing: context.capturedOutput)
        #expect(
            Set(json.objectValue!.keys) == [
                "reproduced", "headline", "original", "rerun", "tolerance", "ignored", "rows", "values", "differing", "tables",
                "skipped_tables", "config", "seeds_identical",
            ])
        #expect(json["reproduced"] == false && json["ignored"] == ["weights*"] && json["seeds_identical"] == true)
        let grad = try #require(json["tables"]?.arrayValue?.first { $0["name"] == "epoch" })
        let first = try #require(grad["first_difference"]?.objectValue)
        #expect(Set(first.keys) == ["row", "step", "column", "original", "rerun", "absolute", "relative"])
        #expect(first["column"] == "test_accuracy" && first["row"] == 1)
        #expect(json["config"]?["differences"]?.arrayValue?.map { $0["key"] } == ["batch_size", "lr", "optimizer/name"])
    }

    @Test func redactedConfigKeysAreNotCompared() throws {
        let fixtures = Fixtures()
        try fixtures.finishedRun("a")
        try fixtures.finishedRun("b")
        try fixtures.write(["lr": 0.1, "api_key": "<redacted>"], to: fixtures.url("runs/a/config.json"))
        try fixtures.write(["lr": 0.1, "api_key": "sk-somethingelse"], to: fixtures.url("runs/b/config.json"))
        let output = try fixtures.run(["compare", "--rows", "a", "b"])
        #expect(output.hasPrefix("reproduced:"))
        #expect(output.contains("config keys recorded as <redacted>, not compared: api_key"))
        try fixtures.write(["lr": 0.2], to: fixtures.url("runs/b/config.json"))
        #expect(throws: (any Error).self) { try fixtures.run(["compare", "--rows", "a", "b"]) }
    }

    @Test func rowsOptionsAreChecked() throws {
        for arguments in [
            ["compare", "--rows", "a", "b", "c"], ["compare", "a", "b", "--rtol", "0.1"], ["compare", "--rows", "a", "b", "--atol", "-1"],
            ["compare", "--rows", "a", "b", "--differences"], ["compare", "--rows", "a", "b", "--rtol", "nan"],
        ] {
            #expect(throws: (any Error).self, "\(arguments)") { _ = try NokoRun.parseCommand(arguments) }
            do { _ = try NokoRun.parseCommand(arguments) } catch { #expect(NokoRun.exitStatus(for: error) == 64, "\(arguments)") }
        }
    }
}
