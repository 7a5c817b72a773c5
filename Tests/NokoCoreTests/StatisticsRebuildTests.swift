import Foundation
import NokoTestSupport
import Logging
import Testing

@testable import NokoCore

@Suite struct StatisticsRebuildTests {
    /// Rows through the logger into a journal and a live summary; the rebuilt summary must
    /// be the live one.
    @Test func aRebuiltSummaryEqualsTheLiveOne() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let journal = directory.appendingPathComponent("noko.ndjson")
        let summary = StatisticsOutput(url: directory.appendingPathComponent("summary.json"))
        let (messages, _) = recordingMessages()
        let logger = NokoLogger(
            outputs: [try NDJSONOutput(url: journal), summary, CSVOutput(directory: directory, messages: messages)], flushInterval: nil,
            messages: messages, summarizers: SummarizerRegistry(), clock: .stepping(from: 1_700_000_000, by: 0.001))
        for i in 0..<3000 {
            var row: [String: Any] = [
                "loss": i == 17 ? Double.nan : 1 / Double(i + 1), "big": Double(i) * 1e300, "tiny": Double(i) * 1e-300,
                "n": i, "flag": i % 3 == 0, "word": i % 2 == 0 ? "even" : "é\"odd\"", "weights": [0.1, Double(i), -2.5e-7],
            ]
            if i % 5 == 0 { row["sometimes"] = Double(i).squareRoot() }
            if i == 100 { row["inf"] = Double.infinity }
            logger.logRow(i % 7 == 0 ? "eval/µ" : "train", row, level: i % 7 == 0 ? .results : .trace)
        }
        logger.close()
        let rebuilt = try StatisticsRebuild.fromJournal(journal.path, messages: messages)
        #expect(try JSONValue(parsing: rebuilt.encoded()) == (try JSONValue(parsing: summary.currentStatistics.encoded())))

        // The CSV files give the same summary, except what CSV cannot say: a table's file
        // stem is what it is on disk (the same here), and times come from `$utc_timestamp`.
        let csv = try StatisticsRebuild.fromCSV(
            [("train", directory.appendingPathComponent("train.csv").path), ("eval/µ", directory.appendingPathComponent(TableFileName.encode("eval/µ") + ".csv").path)],
            messages: messages)
        #expect(try JSONValue(parsing: csv.encoded()) == (try JSONValue(parsing: summary.currentStatistics.encoded())))
    }

    /// Lines the fast path hands to the general parser: escaped keys, repeated keys, odd
    /// spacing, nesting; the result is what the general parser makes of them.
    @Test func unusualLinesGiveTheSameRowsAsTheGeneralParser() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let journal = directory.appendingPathComponent("noko.ndjson")
        let lines = [
            #"{"$table":"t","$step":0,"a":1,"b":"x"}"#,
            #"  { "$table" : "t" , "$step" : 1 , "a" : 2.5e3 , "b" : "y" }  "#,
            #"{"$table":"t","$step":2,"a\u0062":3,"b":"z"}"#,
            #"{"$table":"t","$step":3,"a":4,"a":5}"#,
            #"{"$table":"t","$step":4,"a":-0.0,"b":"Infinity"}"#,
            #"{"$table":"t","$step":5,"a":12345678901234567890,"b":"\u00e9"}"#,
            #"{"$table":"t","$step":6,"a":0.1234567890123456789012,"b":null}"#,
            #"{"b":true,"$step":7,"$table":"t","a":1e-400}"#,
            #"{}"#.replacingOccurrences(of: "{}", with: #"{"$table":"u"}"#),
        ]
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: journal)
        let rebuilt = try JSONValue(parsing: StatisticsRebuild.fromJournal(journal.path).encoded())
        // The reference: rows read by JournalScan (the general parser) into a summary.
        let reference = StatisticsOutput(url: directory.appendingPathComponent("reference.json"))
        var builder = RowBuilder()
        try JournalScanner.forEachRecord(journal.path) { record in
            try reference.write(builder.row(table: record.table, fileStem: TableFileName.encode(record.table), members: record.members, fallbackStep: nil))
            return true
        }
        #expect(rebuilt == (try JSONValue(parsing: reference.currentStatistics.encoded())))
        let a = try #require(rebuilt["tables"]?["t"]?["columns"]?["a"])
        #expect(a["count"] == 7)
        #expect(a["max"]?.doubleValue == 12345678901234567168)
        #expect(rebuilt["tables"]?["t"]?["columns"]?["ab"]?["last"] == 3)
    }

    @Test func pythonJournalsNeedTheLenientMode() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let journal = directory.appendingPathComponent("noko.ndjson")
        try Data("{\"$table\": \"t\", \"$step\": 0, \"x\": NaN}\n{\"$table\": \"t\", \"$step\": 1, \"x\": -Infinity}\n{\"$table\": \"t\", \"$step\": 2, \"x\": Infinity}\n".utf8).write(to: journal)
        expectError("\(journal.path):1: not a noko journal line: unexpected character 'N' at byte 33") {
            try StatisticsRebuild.fromJournal(journal.path)
        }
        let summary = try JSONValue(parsing: StatisticsRebuild.fromJournal(journal.path, allowsNonFiniteLiterals: true).encoded())
        let x = try #require(summary["tables"]?["t"]?["columns"]?["x"])
        #expect(x["nan_count"] == 1)
        #expect(x["min"] == "-Infinity")
        #expect(x["max"] == "Infinity")
        // JournalScan and the JSON parser accept them in the same mode.
        var values: [Scalar] = []
        try JournalScanner.forEachRecord(journal.path, allowsNonFiniteLiterals: true) { record in
            values.append(record["x"]!)
            return true
        }
        #expect(values.map(\.description) == ["NaN", "-Infinity", "Infinity"])
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: "[NaN]") }
        let parsed = try Array("[NaN, -Infinity, Infinity, -1, -0.5]".utf8).withUnsafeBytes { raw -> JSONValue in
            var parser = JSONParser(raw, allowsNonFiniteLiterals: true)
            return try parser.parseDocument()
        }
        #expect(parsed.arrayValue?.map { Scalar.format($0.doubleValue!) } == ["NaN", "-Infinity", "Infinity", "-1.0", "-0.5"])
    }

    @Test func aTornLastLineIsSkippedAndAMalformedLineNamed() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let journal = directory.appendingPathComponent("noko.ndjson")
        try Data("{\"$table\":\"t\",\"x\":1}\n{\"$table\":\"t\",\"x\":2}\n{\"$table\":\"t\",\"x".utf8).write(to: journal)
        let (messages, handler) = recordingMessages()
        let summary = try JSONValue(parsing: StatisticsRebuild.fromJournal(journal.path, messages: messages).encoded())
        #expect(summary["tables"]?["t"]?["rows"] == 2)
        #expect(handler.messages(atLeast: .warning) == ["\(journal.path): the last line is incomplete (16 bytes: the writer died mid-line or is still writing it); skipped"])
        try Data("{\"$table\":\"t\",\"x\":1}\n{\"x\":2}\n".utf8).write(to: journal)
        expectError("\(journal.path):2: not a noko journal line: no \"$table\" string") {
            try StatisticsRebuild.fromJournal(journal.path)
        }
    }
}

/// Expects `body` to throw an error whose description is `description`.
private func expectError(_ description: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Any) {
    do {
        _ = try body()
        Issue.record("no error thrown; expected \(description)", sourceLocation: sourceLocation)
    } catch {
        #expect("\(error)" == description, sourceLocation: sourceLocation)
    }
}
