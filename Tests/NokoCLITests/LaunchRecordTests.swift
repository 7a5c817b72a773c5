import Foundation
import NokoCore
import Testing

@testable import NokoCLI

/// `show`, `list` and `compare` on runs launched with overrides by the real test child.
@Suite struct LaunchRecordTests {
    private func launch(_ fixtures: Fixtures, _ name: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        var environment = environment
        environment["NOKO_RUNS_DIR"] = fixtures.url("runs").path
        environment["NOKO_RUN_NAME"] = name
        let child = try NokoRunTests.execute(
            NokoRunTests.builtProduct("noko-test-child"), ["launch"] + arguments, environment: environment, in: fixtures.root)
        #expect(child.status == 0, "\(child.stderr)")
    }

    @Test func showSaysWhatTheRunWasLaunchedWithAndHowItWasBuilt() throws {
        let fixtures = Fixtures()
        try launch(fixtures, "a", ["lr=0.01", "model.layers=4", "hidden[0]=8"], environment: ["NOKO_OVERRIDES": "name='two words'", "NOKO_RUN_LINKS": #"{"sweep": "s1"}"#])
        let text = try fixtures.run(["show", "runs/a"])
        #expect(text.contains("launched with  'name=two words' lr=0.01 model.layers=4 'hidden[0]=8'"), "\(text)")
        #expect(text.contains(#"links          sweep="s1""#), "\(text)")
        #expect(text.contains("build          "), "\(text)")
        #expect(text.contains("(debug, Swift 6."), "\(text)")
        #expect(text.contains(", sha256 "), "\(text)")
        let json = try JSONValue(parsing: try fixtures.run(["show", "runs/a", "--json"]))
        #expect(json["overrides"]?["overrides"]?.arrayValue?.count == 4)
        #expect(json["metadata"]?["build"]?["product"] == "noko-test-child")
        #expect(json["metadata"]?["links"] == ["sweep": "s1"])
    }

    @Test func showOfARunWithoutOverridesHasNoLaunchLine() throws {
        let fixtures = Fixtures()
        try launch(fixtures, "plain", [])
        #expect(!(try fixtures.run(["show", "runs/plain"])).contains("launched with"))
    }

    @Test func listAndCompareShowTheKeysSetAtLaunch() throws {
        let fixtures = Fixtures()
        try launch(fixtures, "a", ["lr=0.01"])
        try launch(fixtures, "b", ["model/layers=4", "hidden[1]=3"])
        try launch(fixtures, "c", [])
        let list = try fixtures.run(["list", "runs", "--overridden"])
        let header = try #require(list.split(separator: "\n").first { $0.hasPrefix("run") })
        #expect(header.contains("hidden") && header.contains("lr") && header.contains("model/layers"), "\(list)")
        #expect(!header.contains("seed") && !header.contains("name"), "\(list)")
        let listJSON = try JSONValue(parsing: try fixtures.run(["list", "runs", "--overridden", "--json"]))
        #expect(listJSON["config_keys"] == ["hidden", "lr", "model/layers"])
        #expect(listJSON["runs"]?.arrayValue?.map { $0["overridden"] } == [["lr"], ["hidden", "model/layers"], []])
        let compare = try JSONValue(parsing: try fixtures.run(["compare", "runs/a", "runs/b", "--overridden", "--json"]))
        #expect(compare["config"]?.arrayValue?.compactMap { $0["key"]?.stringValue } == ["hidden", "lr", "model/layers"])
        #expect(compare["runs"]?.arrayValue?.map { $0["overridden"] } == [["lr"], ["hidden", "model/layers"]])
        let compareText = try fixtures.run(["compare", "runs/a", "runs/b", "--overridden"])
        #expect(compareText.contains("model/layers") && !compareText.contains("optimizer"), "\(compareText)")
        #expect(throws: (any Error).self) { try fixtures.run(["list", "runs", "--overridden", "--config", "lr"]) }
    }
}
