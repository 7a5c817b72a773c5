import Foundation
@testable import NokoWandb
import NokoCore
import NokoWandbTestSupport
import Testing

@Suite struct HistoryTranslatorTests {
    /// Translates `rows` (journal lines) as one batch; returns the wire lines and summary.
    private func translate(
        _ rows: [String], rank: Int = 0, startTime: Double = 0, minimumLevel: Int? = nil, skippedTables: Set<String> = [],
        accept: Bool = true
    ) -> (lines: [String], outcomes: [HistoryTranslator.Outcome], summary: [String: JSONValue]) {
        var translator = HistoryTranslator(startTime: startTime, minimumLevel: minimumLevel, skippedTables: skippedTables)
        var content: [UInt8] = []
        var outcomes: [HistoryTranslator.Outcome] = []
        var count = 0
        for row in rows {
            var bytes = Array(row.utf8)
            bytes.withUnsafeMutableBytes { line in
                let outcome = translator.append(UnsafeRawBufferPointer(line), rank: rank, historyStep: Int64(count), first: count == 0, to: &content)
                outcomes.append(outcome)
                if case .appended = outcome {
                    count += 1
                    if accept { translator.accept(UnsafeRawBufferPointer(line)) }
                }
            }
        }
        var summary: [String: JSONValue] = [:]
        translator.drainSummary(into: &summary)
        let array = (try? JSONValue(parsing: Array("[".utf8) + content + Array("]".utf8)))?.arrayValue ?? []
        return (array.compactMap(\.stringValue), outcomes, summary)
    }

    @Test func theConfigTableStaysLocalAndOutOfTheSummary() {
        let rows = [
            #"{"$table":"config","$step":0,"lr":0.1}"#,
            #"{"$table":"train","$step":0,"loss":1.5}"#,
        ]
        let skipped = translate(rows, skippedTables: ["config"])
        #expect(skipped.outcomes.first == .skipped)
        #expect(skipped.lines.count == 1 && skipped.lines[0].contains("train/loss"))
        #expect(skipped.summary["config/lr"] == nil && skipped.summary["train/loss"] == 1.5)
        let sent = translate(rows)
        #expect(sent.lines.count == 2 && sent.summary["config/lr"] == 0.1)
    }

    @Test func turnsARowIntoAHistoryLineOnItsTablesAxis() throws {
        let row = #"{"loss":0.5,"acc":"NaN","big":1e+300,"n":null,"w.mean":-2.0,"s":"a\"b","i":7,"t":true,"$table":"train","$step":4,"$level":20,"$localtime":"2026-01-01T00:00:00","$utc_timestamp":1795769873.25}"#
        let result = translate([row], startTime: 1000)
        #expect(result.outcomes == [.appended(table: "train")])
        #expect(result.lines == [#"{"train/loss":0.5,"train/acc":NaN,"train/big":1e+300,"train/n":null,"train/w.mean":-2,"train/s":"a\"b","train/i":7,"train/t":true,"train/$step":4,"_step":0,"_runtime":1.79576887325e+09,"_timestamp":1.79576987325e+09}"#])
        #expect(result.summary["train/loss"] == 0.5)
        #expect(result.summary["train/acc"] == "NaN")
        #expect(result.summary["train/s"] == "a\"b")
        #expect(result.summary["train/w.mean"] == -2.0)
        #expect(result.summary["train/$step"] == 4)
        #expect(result.summary["_step"] == 0)
        #expect(result.summary["_timestamp"] == .double(1795769873.25))
        #expect(result.summary["$table"] == nil && result.summary["train/$level"] == nil && result.summary["train/$localtime"] == nil)
    }

    @Test func relaysNumbersOutAsGoPrintsThem() {
        // noko writes doubles with Swift's shortest digits; the wire wants Go's layout.
        let values: [Double] = [1e6, 999999.5, 123456.0, 0.0001, 1.5e-5, 1e21, 2.0, 0.1, 12345678.9, -0.0, 0, 1.1500000000000001, .leastNonzeroMagnitude]
        for value in values {
            var journal = JSONWriter()
            journal.writeDouble(value)
            var relaid: [UInt8] = []
            journal.bytes.withUnsafeBytes { GoFloatFormat.relayout($0, to: &relaid) }
            #expect(String(decoding: relaid, as: UTF8.self) == GoFloatFormat.string(value), "\(value)")
        }
        for (text, expected) in [("1.50", "1.5"), ("0.000123e5", "12.3"), ("12.5e-3", "0.0125"), ("100e4", "1e+06"), ("-0.0", "-0"), ("0e7", "0")] {
            var relaid: [UInt8] = []
            Array(text.utf8).withUnsafeBytes { GoFloatFormat.relayout($0, to: &relaid) }
            #expect(String(decoding: relaid, as: UTF8.self) == expected, "\(text)")
        }
    }

    @Test func prefixesOtherRanksAndKeepsTheTablesStep() throws {
        let result = translate([#"{"loss":1,"$table":"train","$step":2,"$level":20,"$utc_timestamp":10.5}"#], rank: 3)
        let parsed = try ExtendedJSON.parse(result.lines[0])
        #expect(parsed["train/rank3/loss"] == 1)
        #expect(parsed["train/$step"] == 2)
        #expect(parsed["train/loss"] == nil)
        // An unknown start time counts from the first row.
        #expect(parsed["_runtime"] == 0)
    }

    @Test func skipsRowsBelowTheThresholdAndRejectsWhatIsNotARow() {
        let result = translate([
            #"{"x":1,"$table":"t","$step":0,"$level":10,"$utc_timestamp":1}"#,
            #"{"x":1}"#,
            #"{"x":1,"$table":"t",}"#,
            #"{"x":01,"$table":"t"}"#,
            #"{"x":"\q","$table":"t"}"#,
            #"{"x":[1,2,"#,
            "{\"x\":\"\u{1}\",\"$table\":\"t\"}",
            #"["x"]"#,
            #"{"x":1,"$table":"t"} x"#,
            #"{"x":tru,"$table":"t"}"#,
        ], minimumLevel: 20)
        #expect(result.outcomes.first == .skipped)
        guard case .invalid(let reason) = result.outcomes[1] else {
            Issue.record("a row without $table was accepted")
            return
        }
        #expect(reason.contains("$table"))
        for (i, outcome) in result.outcomes.enumerated().dropFirst(2) {
            guard case .malformed = outcome else {
                Issue.record("line \(i) is not strict JSON but gave \(outcome)")
                continue
            }
        }
        #expect(result.lines.isEmpty)
    }

    @Test func acceptsWhatStrictJSONAllows() throws {
        let result = translate([
            " { \"a\" : [1, {\"b\": \"NaN\"}] , \"k\\u00e9y\\n\": \"\\u00e9\\\"\", \"é\": -1.5E+2, \"$table\" : \"t\\/x\" } ",
        ])
        #expect(result.outcomes == [.appended(table: "t/x")])
        let parsed = try ExtendedJSON.parse(result.lines[0])
        #expect(parsed["t/x/a"] == [1, ["b": "NaN"]])
        #expect(result.lines[0].contains(#"{"b":NaN}"#))
        #expect(parsed["t/x/kéy\n"] == "é\"")
        #expect(parsed["t/x/é"] == -150)
        #expect(result.summary["t/x/kéy\n"] == "é\"")
    }

    @Test func keysChangingBetweenRowsOfOneTableAreNotMixedUp() throws {
        let result = translate([
            #"{"a":1,"b":2,"$table":"t","$step":0,"$utc_timestamp":1}"#,
            #"{"b":3,"a":4,"$table":"t","$step":1,"$utc_timestamp":2}"#,
            #"{"c":"x","$table":"t","$step":2,"$utc_timestamp":3}"#,
            #"{"q":0,"b":5,"$table":"t","$step":3,"$utc_timestamp":4}"#,
            #"{"b":6,"$table":"u","$step":0,"$utc_timestamp":5}"#,
        ])
        let parsed = try result.lines.map { try ExtendedJSON.parse($0) }
        #expect(parsed[0]["t/a"] == 1 && parsed[0]["t/b"] == 2)
        #expect(parsed[1]["t/a"] == 4 && parsed[1]["t/b"] == 3)
        #expect(parsed[2]["t/c"] == "x" && parsed[2]["t/a"] == nil)
        #expect(parsed[3]["t/b"] == 5)
        // The last value of every key, wherever in the row it last stood.
        #expect(result.summary["t/a"] == 4)
        #expect(result.summary["t/b"] == 5)
        #expect(result.summary["t/c"] == "x")
        #expect(result.summary["t/q"] == 0)
        #expect(result.summary["u/b"] == 6)
        #expect(result.summary["t/$step"] == 3 && result.summary["u/$step"] == 0)
        #expect(result.summary["_step"] == 4)
    }

    @Test func rowsNotAcceptedStayOutOfTheSummary() {
        let result = translate([#"{"a":1,"$table":"t","$step":0,"$utc_timestamp":1}"#], accept: false)
        #expect(result.summary.isEmpty)
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
