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
}
