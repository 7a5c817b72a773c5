import Foundation
@testable import NokoWandb
import NokoCore
import NokoWandbTestSupport
import Testing

@Suite struct HistoryTranslatorTests {
    private func record(_ text: String) throws -> JournalRecord {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("j-\(UUID().uuidString)").path
        try (text + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        guard case .record(let record)? = try JournalReader(path: path).next() else { throw CancellationError() }
        return record
    }

    /// The lines as the server sees them: the JSON strings inside the body's array.
    private func lines(_ content: [UInt8]) throws -> [String] {
        try JSONValue(parsing: Array("[".utf8) + content + Array("]".utf8)).arrayValue!.map { $0.stringValue! }
    }

    @Test func turnsARowIntoAHistoryLineOnItsTablesAxis() throws {
        var translator = HistoryTranslator(startTime: 1000, minimumLevel: nil)
        let row = try record(#"{"loss":0.5,"acc":"NaN","big":1e+300,"n":null,"w.mean":-2.0,"$table":"train","$step":4,"$level":20,"$localtime":"2026-01-01T00:00:00","$utc_timestamp":1795769873.25}"#)
        var content: [UInt8] = []
        let outcome = translator.append(row, rank: 0, historyStep: 17, first: true, to: &content)
        guard case .appended(let table, _, _, _, let step) = outcome else { Issue.record("not appended"); return }
        #expect(table == "train")
        #expect(step == 4)
        let line = try lines(content)
        #expect(line == [#"{"train/loss":0.5,"train/acc":NaN,"train/big":1e+300,"train/n":null,"train/w.mean":-2,"train/$step":4,"_step":17,"_runtime":1.79576887325e+09,"_timestamp":1.79576987325e+09}"#])
        var summary: [String: JSONValue] = [:]
        translator.updateSummary(row, outcome: outcome, historyStep: 17, summary: &summary)
        #expect(summary["train/loss"] == 0.5)
        #expect(summary["train/acc"] == "NaN")
        #expect(summary["train/$step"] == 4)
        #expect(summary["_step"] == 17)
        #expect(summary["_timestamp"] == .double(1795769873.25))
        #expect(summary["$table"] == nil && summary["train/$level"] == nil && summary["train/$localtime"] == nil)
    }

    @Test func prefixesOtherRanksAndKeepsTheTablesStep() throws {
        var translator = HistoryTranslator(startTime: 0, minimumLevel: nil)
        let row = try record(#"{"loss":1,"$table":"train","$step":2,"$level":20,"$utc_timestamp":10.5}"#)
        var content: [UInt8] = []
        _ = translator.append(row, rank: 3, historyStep: 0, first: true, to: &content)
        let parsed = try ExtendedJSON.parse(try lines(content)[0])
        #expect(parsed["train/rank3/loss"] == 1)
        #expect(parsed["train/$step"] == 2)
        #expect(parsed["train/loss"] == nil)
        // An unknown start time counts from the first row.
        #expect(parsed["_runtime"] == 0)
    }

    @Test func skipsRowsBelowTheThresholdAndRowsWithoutATable() throws {
        var translator = HistoryTranslator(startTime: 0, minimumLevel: 20)
        var content: [UInt8] = []
        let debugRow = try record(#"{"x":1,"$table":"t","$step":0,"$level":10,"$utc_timestamp":1}"#)
        guard case .skippedByLevel = translator.append(debugRow, rank: 0, historyStep: 0, first: true, to: &content) else {
            Issue.record("a DEBUG row passed an INFO threshold")
            return
        }
        let orphan = try record(#"{"x":1}"#)
        guard case .invalid(let reason) = translator.append(orphan, rank: 0, historyStep: 0, first: true, to: &content) else {
            Issue.record("a row without $table was accepted")
            return
        }
        #expect(reason.contains("$table"))
        #expect(content.isEmpty)
    }

    @Test func keysChangingBetweenRowsOfOneTableAreNotMixedUp() throws {
        var translator = HistoryTranslator(startTime: 0, minimumLevel: nil)
        var content: [UInt8] = []
        let rows = [
            #"{"a":1,"b":2,"$table":"t","$step":0,"$utc_timestamp":1}"#,
            #"{"b":3,"a":4,"$table":"t","$step":1,"$utc_timestamp":2}"#,
            #"{"c":"x\"y","$table":"t","$step":2,"$utc_timestamp":3}"#,
        ]
        var summary: [String: JSONValue] = [:]
        for (i, text) in rows.enumerated() {
            let row = try record(text)
            let outcome = translator.append(row, rank: 0, historyStep: Int64(i), first: i == 0, to: &content)
            translator.updateSummary(row, outcome: outcome, historyStep: Int64(i), summary: &summary)
        }
        let parsed = try lines(content).map { try ExtendedJSON.parse($0) }
        #expect(parsed[0]["t/a"] == 1 && parsed[0]["t/b"] == 2)
        #expect(parsed[1]["t/a"] == 4 && parsed[1]["t/b"] == 3)
        #expect(parsed[2]["t/c"] == "x\"y" && parsed[2]["t/a"] == nil)
        #expect(summary["t/a"] == 4 && summary["t/b"] == 3 && summary["t/c"] == "x\"y" && summary["t/$step"] == 2)
    }

    @Test func buildsFileStreamBodiesLikeTheRecordings() throws {
        let heartbeat = FileStreamBody.make(historyOffset: 0, historyContent: [], historyLineCount: 0, summary: nil, exitCode: nil)
        #expect(String(decoding: heartbeat, as: UTF8.self) == "{}")
        let final = try JSONValue(parsing: FileStreamBody.make(
            historyOffset: 50, historyContent: Array(#""{\"a\":1}""#.utf8), historyLineCount: 1,
            summary: FileStreamBody.summaryObject(derived: ["a": 1, "_runtime": 2.7], user: ["best": 0.5, "a": 9]), exitCode: 3))
        #expect(final["files"]?["wandb-history.jsonl"] == ["offset": 50, "content": [#"{"a":1}"#]])
        #expect(final["files"]?["wandb-summary.json"] == ["offset": 0, "content": [#"{"_runtime":2.7,"_wandb":{"runtime":2},"a":9,"best":0.5}"#]])
        #expect(final["complete"] == true)
        #expect(final["exitcode"] == 3)
        #expect(FileStreamBody.stopRequested(in: Array(#"{"exitcode":null,"stopped":true}"#.utf8)))
        #expect(!FileStreamBody.stopRequested(in: Array(#"{"exitcode":null,"limits":{}}"#.utf8)))
    }
}
