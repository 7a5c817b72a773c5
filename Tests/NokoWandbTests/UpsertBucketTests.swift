@testable import NokoWandb
import NokoCore
import NokoWandbTestSupport
import Testing

@Suite struct UpsertBucketTests {
    private let spec = SyncState.RunSpec(
        runName: "train_2026", startTime: 0, displayName: "display-name", group: "g", jobType: "train", tags: ["t1"],
        notes: "some notes", host: "vm", program: "/home/user/exp/long.py", commit: "abc", repo: "https://u:p@github.com/x/y",
        config: ["lr": 0.1, "list": [1, 2, 3], "none": .null, "s": "str", "nested": ["a": 1], "api_key": "<redacted>"])

    @Test func sendsTheQueryAndAllNineteenVariablesLikeWandbCore() throws {
        let body = try JSONValue(parsing: UpsertBucket.body(runID: "hjfb7p1x", project: "p", entity: "e", spec: spec, tables: [], withRunParameters: true))
        #expect(body["operationName"] == "UpsertBucket")
        #expect(body["query"]?.stringValue == UpsertBucket.query)
        #expect(body["query"]?.stringValue?.hasPrefix("\nmutation UpsertBucket ($id: String, $name: String,") == true)
        let variables = try #require(body["variables"]?.objectValue)
        #expect(Set(variables.keys) == Set(UpsertBucket.variableNames))
        #expect(variables.count == 19)
        // As in long-run.jsonl#2.
        #expect(variables["id"] == .null)
        #expect(variables["name"] == "hjfb7p1x")
        #expect(variables["project"] == "p")
        #expect(variables["entity"] == "e")
        #expect(variables["groupName"] == "g")
        #expect(variables["displayName"] == "display-name")
        #expect(variables["notes"] == "some notes")
        #expect(variables["jobType"] == "train")
        #expect(variables["tags"] == ["t1"])
        #expect(variables["host"] == "vm")
        #expect(variables["program"] == "/home/user/exp/long.py")
        #expect(variables["commit"] == "abc")
        #expect(variables["repo"] == "https://github.com/x/y")
        for name in ["description", "debug", "state", "sweep", "summaryMetrics"] { #expect(variables[name] == .null) }
    }

    @Test func encodesTheConfigAsTheSDKDoes() throws {
        let config = try JSONValue(parsing: UpsertBucket.configString(spec.config, tables: []))
        #expect(config["lr"] == ["value": 0.1])
        #expect(config["list"] == ["value": [1, 2, 3]])
        #expect(config["none"] == ["value": .null])
        #expect(config["s"] == ["value": "str"])
        #expect(config["nested"] == ["value": ["a": 1]])
        #expect(config["api_key"] == ["value": "<redacted>"])
        #expect(config["_wandb"] == ["value": ["t": [:], "m": []]])
    }

    @Test func declaresAnXAxisPerTable() throws {
        // The 0.31 shape of define-metric.jsonl#4: the axis entry, then the glob pointing at it.
        let config = try JSONValue(parsing: UpsertBucket.configString(["seed": 1], tables: ["train", "eval"]))
        let m = try #require(config["_wandb"]?["value"]?["m"]?.arrayValue)
        #expect(m == [
            ["1": "train/$step", "6": [3], "7": []],
            ["2": "train/*", "5": 1, "6": [1], "7": []],
            ["1": "eval/$step", "6": [3], "7": []],
            ["2": "eval/*", "5": 3, "6": [1], "7": []],
        ])
    }

    @Test func laterUpsertsSendOnlyIdentityAndConfig() throws {
        let body = try JSONValue(parsing: UpsertBucket.body(runID: "r", project: "p", entity: nil, spec: spec, tables: ["t"], withRunParameters: false))
        let variables = try #require(body["variables"]?.objectValue)
        #expect(variables.count == 19)
        #expect(variables["entity"] == .null)
        #expect(variables["host"] == .null)
        #expect(variables["tags"] == .null)
        #expect(variables["displayName"] == .null)
        #expect(variables["config"]?.stringValue?.contains("t/$step") == true)
    }

    @Test func readsTheAnswer() throws {
        // The recorder's answer in online.jsonl#2.
        let answer = #"{"data":{"upsertBucket":{"bucket":{"id":"UnVuOnYxOmtzbWJyZ2tvOnA6ZQ==","name":"ksmbrgko","displayName":"ksmbrgko","description":null,"config":"{}","sweepName":null,"project":{"id":"UHJvamVjdDp2MTpwOmU=","name":"p","entity":{"id":"RW50aXR5OnYxOmU=","name":"e"}},"historyLineCount":7},"inserted":true}}}"#
        let result = try UpsertBucket.parse(Array(answer.utf8)).get()
        #expect(result == UpsertBucket.Result(runID: "ksmbrgko", project: "p", entity: "e", storageID: "UnVuOnYxOmtzbWJyZ2tvOnA6ZQ==", historyLineCount: 7))
        #expect(throws: ProtocolError.graphQL("project name invalid")) {
            try UpsertBucket.parse(Array(#"{"errors":[{"message":"project name invalid"}],"data":null}"#.utf8)).get()
        }
        #expect(throws: ProtocolError.self) { try UpsertBucket.parse(Array("<html>".utf8)).get() }
    }
}
