import Foundation
import NokoTestSupport
import Logging
import Testing

@testable import NokoCore

/// A logger writing the standard file outputs into a fresh directory.
private func fileLogger(_ label: String = #function) throws -> (NokoLogger, URL, InMemoryLogHandlerBox) {
    let dir = temporaryDirectory(label)
    let (messages, handler) = recordingMessages()
    var options = OutputOptions()
    options.prettyPrintLevel = .results
    let outputs = try DefaultOutputs.make(directory: dir, options: options, messages: messages)
    let logger = NokoLogger(
        directory: dir, outputs: outputs, flushInterval: nil, messages: messages, summarizers: SummarizerRegistry(),
        clock: .stepping(from: 1_700_000_000.25, by: 0.5))
    return (logger, dir, InMemoryLogHandlerBox(handler: handler))
}

struct InMemoryLogHandlerBox {
    let handler: InMemoryLogHandlerType
    func messages(atLeast level: Logging.Logger.Level = .trace) -> [String] { handler.messages(atLeast: level) }
}

import InMemoryLogging
typealias InMemoryLogHandlerType = InMemoryLogHandler

private func lines(_ url: URL) -> [String] {
    readText(url).split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
}

@Suite struct OutputFileTests {
    @Test func theJournalHasOneStrictJSONLinePerRowBeforeLogRowReturns() throws {
        let (logger, dir, _) = try fileLogger()
        defer { logger.close() }
        logger.logRow("t", ["x": 1.5, "nan": Double.nan, "inf": Double.infinity, "s": "a\"b\nc"])
        let journal = lines(dir.appendingPathComponent("noko.ndjson"))
        #expect(journal.count == 1, "written without any flush")
        let row = try JSONValue(parsing: journal[0])
        #expect(row["$table"] == "t")
        #expect(row["$step"] == 0)
        #expect(row["$level"] == 20)
        #expect(row["$utc_timestamp"] == .double(1_700_000_000.25))
        #expect(row["$localtime"]?.stringValue?.count == 19)
        #expect(row["nan"] == "NaN")
        #expect(row["inf"] == "Infinity")
        #expect(row["s"] == "a\"b\nc")
        #expect(row["x"] == 1.5)
    }

    @Test func csvQuotesWhatNeedsQuotingAndRoundTrips() throws {
        let (logger, dir, _) = try fileLogger()
        let tricky: [String: Any] = [
            "comma": "a,b", "quote": "say \"hi\"", "newline": "line1\nline2", "crlf": "x\r\ny", "unicode": "温度 é 🎉",
            "empty": "", "numberish": "1.5", "boolish": "True", "nanish": "nan", "spaces": " padded ",
            "key,with,commas": 1, "key \"quoted\"": 2, "key\nnewline": 3, "ключ": 4, "int": -7, "bool": false,
            "none": Optional<Int>.none as Any, "big": 1e300, "tiny": Double.leastNonzeroMagnitude,
        ]
        logger.logRow("q", tricky)
        logger.close()
        let table = try LogFileLoader.load(dir.appendingPathComponent("q.csv").path)
        #expect(table.rowCount == 1)
        let back = Dictionary(table.row(0), uniquingKeysWith: { a, _ in a })
        #expect(back["comma"] == "a,b")
        #expect(back["quote"] == "say \"hi\"")
        #expect(back["newline"] == "line1\nline2")
        #expect(back["crlf"] == "x\r\ny")
        #expect(back["unicode"] == "温度 é 🎉")
        #expect(table["empty"]?[0] == .string(""), "an empty string is not a missing cell")
        #expect(back["numberish"] == "1.5", "a string that looks like a number stays a string")
        #expect(back["boolish"] == "True")
        #expect(back["nanish"] == "nan")
        #expect(back["spaces"] == " padded ")
        #expect(back["key,with,commas"] == 1)
        #expect(back["key \"quoted\""] == 2)
        #expect(back["key\nnewline"] == 3)
        #expect(back["ключ"] == 4)
        #expect(back["int"] == -7)
        #expect(back["bool"] == false)
        #expect(table["none"]?[0] == .null)
        #expect(back["big"] == 1e300)
        #expect(back["tiny"] == .double(.leastNonzeroMagnitude))
        #expect(back["$step"] == 0)
        #expect(back["$table"] == "q")
    }

    @Test func concurrentWritersNeverInterleaveBytesAndEveryFileHasOneOrder() async throws {
        let (logger, dir, _) = try fileLogger()
        let threads = 8, rows = 2000
        await withTaskGroup(of: Void.self) { group in
            for t in 0..<threads {
                group.addTask {
                    for i in 0..<rows { logger.logRow("c", ["thread": t, "i": i, "text": "row, \"\(i)\"\nof \(t)"]) }
                }
            }
        }
        logger.close()
        let journal = try LogFileLoader.loadTable("c", fromJournal: dir.appendingPathComponent("noko.ndjson").path)
        #expect(journal.rowCount == threads * rows, "every line parses: no two rows' bytes interleave")
        #expect(journal["$step"] == (0..<(threads * rows)).map { .int(Int64($0)) })
        let csv = try LogFileLoader.load(dir.appendingPathComponent("c.csv").path)
        #expect(csv["thread"] == journal["thread"], "the CSV has the journal's order")
        #expect(csv["i"] == journal["i"])
        #expect(csv["text"] == journal["text"])
    }

    @Test func aTornLastLineIsCutOffBeforeNewRowsAreAppended() throws {
        let dir = temporaryDirectory()
        let journal = dir.appendingPathComponent("noko.ndjson")
        try "{\"$table\":\"t\",\"$step\":0,\"x\":1}\n{\"$table\":\"t\",\"x\":".write(to: journal, atomically: true, encoding: .utf8)
        let csv = dir.appendingPathComponent("t.csv")
        try "$step,x\n0,1\n1,".write(to: csv, atomically: true, encoding: .utf8)
        let outputs: [any LogOutput] = [try NDJSONOutput(url: journal), CSVOutput(directory: dir)]
        let logger = NokoLogger(outputs: outputs, flushInterval: nil, summarizers: SummarizerRegistry())
        logger.continueSteps([("t", 1)])
        logger.logRow("t", ["x": 2])
        logger.close()
        let rows = try LogFileLoader.loadTable("t", fromJournal: journal.path)
        #expect(rows["x"] == [1, 2], "the half line is gone and the new row is a line of its own")
        let table = try LogFileLoader.load(csv.path)
        #expect(table["x"] == [1, 2])
        #expect(table["$step"] == [0, 1])
    }

    @Test func aResumedRunKeepsTheFilesOfTablesDifferingOnlyInCase() throws {
        let (first, dir, _) = try fileLogger()
        first.logRow("Loss", ["x": 1])
        first.logRow("loss", ["y": 2])
        first.logRow("Loss", ["x": 3], level: .trace)
        first.close()

        // The resumed process logs "loss" first; each table must still reach its own files.
        var options = OutputOptions()
        options.prettyPrintLevel = .results
        options.statisticsLevel = .info
        let outputs = try DefaultOutputs.make(directory: dir, options: options, messages: recordingMessages().0)
        let summary = try #require(outputs.lazy.compactMap { $0 as? StatisticsOutput }.first)
        let journal = dir.appendingPathComponent("noko.ndjson").path
        let tables = try summary.replay(journal: journal)
        #expect(tables.map { $0.table } == ["Loss", "loss"])
        #expect(tables.map { $0.nextStep } == [2, 1], "a TRACE row below the summary's level still counts")
        #expect(try JournalTableSteps.scan(journal).map { $0.table } == ["Loss", "loss"])
        let resumed = NokoLogger(directory: dir, outputs: outputs, flushInterval: nil, summarizers: SummarizerRegistry())
        resumed.continueSteps(tables)
        resumed.logRow("loss", ["y": 4])
        resumed.logRow("Loss", ["x": 5])
        resumed.close()
        #expect(try LogFileLoader.load(dir.appendingPathComponent("Loss.csv").path)["x"] == [1, 3, 5])
        #expect(try LogFileLoader.load(dir.appendingPathComponent("loss~2.csv").path)["y"] == [2, 4])
        #expect(try LogFileLoader.load(dir.appendingPathComponent("loss~2.csv").path)["$step"] == [0, 1])
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("loss.csv").path))
        // The sidecar, rebuilt from the journal on resume, names the same files.
        let sidecar = try JSONValue(parsing: [UInt8](try Data(contentsOf: dir.appendingPathComponent("summary.json"))))
        #expect(sidecar["tables"]?["Loss"]?["file"] == "Loss")
        #expect(sidecar["tables"]?["loss"]?["file"] == "loss~2")
        #expect(sidecar["tables"]?["loss"]?["rows"] == 2)
    }

    @Test func csvIsBufferedUntilFlush() throws {
        let (logger, dir, _) = try fileLogger()
        defer { logger.close() }
        logger.logRow("t", ["x": 1])
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("t.csv").path))
        logger.flush()
        #expect(lines(dir.appendingPathComponent("t.csv")).count == 2)
    }

    @Test func newKeysRewriteTheCSVOncePerFlushKeepingEveryRow() throws {
        let (logger, dir, messages) = try fileLogger()
        for i in 0..<10 { logger.logRow("g", ["a": i]) }
        logger.flush()
        for i in 10..<20 { logger.logRow("g", ["a": i, "b\(i % 3)": Double(i)]) }
        logger.flush()
        logger.logRow("g", ["c": "late, with comma"])
        logger.close()
        let table = try LogFileLoader.load(dir.appendingPathComponent("g.csv").path)
        #expect(table.rowCount == 21)
        #expect(table["a"]?.prefix(20).map { $0 } == (0..<20).map { .int(Int64($0)) })
        #expect(table["b0"]?[12] == .double(12))
        #expect(table["b0"]?[0] == .null, "earlier rows get empty cells for new columns")
        #expect(table["b1"]?[13] == .double(13))
        #expect(table["c"]?[20] == "late, with comma")
        #expect(table["$step"]?.last == 20)
        let header = lines(dir.appendingPathComponent("g.csv"))[0]
        #expect(header == "$level,$localtime,$step,$table,$utc_timestamp,a,b0,b1,b2,c")
        #expect(messages.messages(atLeast: .info).filter { $0.contains("new column") }.count == 2)
        #expect(messages.messages(atLeast: .warning).isEmpty)
    }

    /// Rows held back while rewrites are spaced are formatted as they come, against the header
    /// of their time, and gain the later columns when they are written: the file ends up byte
    /// for byte what one write of every row would be, however the rewrites fell.
    @Test func heldBackRowsEndUpAsIfWrittenAtOnce() throws {
        func rows(_ i: Int) -> [String: Any] {
            var row: [String: Any] = ["a": i, "s": i % 3 == 0 ? "with, \"quotes\"" : "plain", "n": i % 4 == 0 ? Double.nan : Double(i) / 3]
            for k in 0..<(i / 7) { row["x_\(k)"] = k % 2 == 0 ? Double(k) : i % 2 == 0 }
            if i % 5 == 0 { row["maybe"] = nil as Int? }
            return row
        }
        var files: [String] = []
        var last = URL(fileURLWithPath: "/")
        for spacing in [1e12, 0, -1] {
            let dir = temporaryDirectory()
            let csv = CSVOutput(directory: dir, rewriteSpacing: max(spacing, 0))
            let logger = NokoLogger(
                outputs: [csv], flushInterval: nil, summarizers: SummarizerRegistry(), clock: .stepping(from: 1_780_000_000.5, by: 0.25))
            for i in 0..<120 {
                logger.logRow("g", rows(i))
                logger.logRow("other", ["i": i])
                // spacing -1: one write at close; else a flush every few rows.
                if spacing >= 0, i % 9 == 4 { logger.flush() }
            }
            logger.close()
            files.append(readText(dir.appendingPathComponent("g.csv")))
            last = dir.appendingPathComponent("g.csv")
            #expect(try LogFileLoader.load(dir.appendingPathComponent("other.csv").path)["i"]?.count == 120)
        }
        #expect(files[0] == files[2], "every rewrite after the first held back until close")
        #expect(files[1] == files[2], "a rewrite at every flush")
        let table = try LogFileLoader.load(last.path)
        #expect(table.rowCount == 120)
        #expect(table["x_15"]?.last == .bool(false))
        #expect(table["x_0"]?[6] == .null)
        #expect(table["s"]?[3] == "with, \"quotes\"")
    }

    /// Beside a journal, the CSV copies the journal's text of each finite double instead of
    /// formatting it again: the file is the same as without a journal.
    @Test func csvNumbersCopiedFromTheJournalAreTheSameText() throws {
        var rng = SeededRandom()
        let doubles: [Double] = [0, -0.0, 1, 0.1, 1e-7, 1e300, -2.5, .nan, .infinity, -.infinity, 9_007_199_254_740_994, 123_456.789]
            + (0..<200).map { _ in Double(bitPattern: rng.next()) }
        var files: [String] = []
        for withJournal in [true, false] {
            let dir = temporaryDirectory()
            let csv = CSVOutput(directory: dir)
            var outputs: [any LogOutput] = [csv]
            if withJournal { outputs.insert(try NDJSONOutput(url: dir.appendingPathComponent("noko.ndjson")), at: 0) }
            let logger = NokoLogger(
                outputs: outputs, flushInterval: nil, summarizers: SummarizerRegistry(), clock: .stepping(from: 1_780_000_000.5, by: 0.125))
            for (i, d) in doubles.enumerated() {
                logger.logRow("t", ["d": d, "i": i, "s": "v\(i)", "b": i % 2 == 0, "f": Float(d)])
                if i % 50 == 0 { logger.flush() }
            }
            logger.close()
            files.append(readText(dir.appendingPathComponent("t.csv")))
        }
        #expect(files[0] == files[1])
        #expect(files[0].split(separator: "\n").count == doubles.count + 1)
    }

    @Test func aReopenedCSVContinuesWithItsHeader() throws {
        let dir = temporaryDirectory()
        for round in 0..<2 {
            let csv = CSVOutput(directory: dir)
            let logger = NokoLogger(outputs: [csv], flushInterval: nil, summarizers: SummarizerRegistry())
            logger.logRow("r", round == 0 ? ["a": 1] : ["a": 2, "b": 3])
            logger.close()
        }
        let table = try LogFileLoader.load(dir.appendingPathComponent("r.csv").path)
        #expect(table.rowCount == 2)
        #expect(table["a"] == [1, 2])
        #expect(table["b"] == [.null, 3])
    }

    @Test func hostileTableNamesStayInsideTheRunDirectory() throws {
        let (logger, dir, _) = try fileLogger()
        for name in ["../escape", "a/b", "c:d", "/abs", ".hidden", "tab\tname"] { logger.logRow(name, ["x": 1]) }
        logger.close()
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(files.contains("%2E.%2Fescape.csv"))
        #expect(files.contains("a%2Fb.csv"))
        #expect(files.contains("c%3Ad.csv"))
        #expect(files.contains("%2Fabs.csv"))
        #expect(files.contains("%2Ehidden.csv"))
        #expect(!FileManager.default.fileExists(atPath: dir.deletingLastPathComponent().appendingPathComponent("escape.csv").path))
        let summary = try JSONValue(parsing: readText(dir.appendingPathComponent("summary.json")))
        #expect(summary["tables"]?["../escape"]?["file"] == "%2E.%2Fescape")
    }

    @Test func prettyPrintShowsResultsRows() throws {
        let (logger, dir, _) = try fileLogger()
        logger.logRow("train", ["loss": 0.5], level: .info)
        logger.logRow("epoch", ["accuracy": 0.93, "loss": 0.25], step: 3, level: .results)
        logger.close()
        let text = readText(dir.appendingPathComponent("noko_pprint.log"))
        #expect(!text.contains("train"))
        #expect(text.hasPrefix("epoch · step 3 · RESULTS · "))
        #expect(text.contains("\n  accuracy  0.93\n  loss      0.25\n"))
    }

    @Test func theSummarySidecarTracksEveryColumn() throws {
        let (logger, dir, _) = try fileLogger()
        for i in 0..<3000 {
            logger.logRow("t", ["x": Double(i), "spike": i == 1234 ? 1e9 : 0.0, "n": i % 100 == 0 ? Double.nan : 1.0, "s": "v\(i)"])
        }
        logger.logRow("t", ["late": 1])
        logger.close()
        let summary = try JSONValue(parsing: readText(dir.appendingPathComponent("summary.json")))
        let t = try #require(summary["tables"]?["t"])
        #expect(t["rows"] == 3001)
        #expect(t["first_step"] == 0)
        #expect(t["last_step"] == 3000)
        let width = try #require(t["series_width"]?.intValue)
        let steps = try #require(t["series_step"]?.arrayValue)
        #expect(steps.count <= StatisticsOutput.maxBuckets)
        #expect(width == 4, "3001 rows in at most 1024 buckets of a power-of-two width")
        let x = try #require(t["columns"]?["x"])
        #expect(x["min"]?.doubleValue == 0)
        #expect(x["max"]?.doubleValue == 2999)
        #expect(x["last"]?.doubleValue == 2999)
        #expect(x["count"] == 3000)
        #expect(x["series"]?["max"]?.arrayValue?.compactMap(\.doubleValue).last == 2999)
        let spike = try #require(t["columns"]?["spike"])
        #expect(spike["series"]?["max"]?.arrayValue?.compactMap(\.doubleValue).max() == 1e9, "spikes survive downsampling")
        let n = try #require(t["columns"]?["n"])
        #expect(n["nan_count"] == 30)
        #expect(n["min"]?.doubleValue == 1)
        #expect(t["columns"]?["s"]?["type"] == "string")
        #expect(t["columns"]?["s"]?["last"] == "v2999")
        let late = try #require(t["columns"]?["late"]?["series"]?["last"]?.arrayValue)
        #expect(late.count == steps.count)
        #expect(late.dropLast().allSatisfy { $0 == .null })
    }

    /// A run directory written through the file outputs, its expectations for
    /// `check_files.py`, and python3 with pandas; nil (and an issue) when pandas is missing.
    private func pythonReadableRun() throws -> (python: String, dir: URL, spec: JSONValue)? {
        guard let python = python(with: ["pandas"]) else {
            Issue.record("python3 with pandas is required for this interop test (make test installs it)")
            return nil
        }
        let (logger, dir, _) = try fileLogger()
        var expected: [JSONValue] = []
        for i in 0..<50 {
            let x = i == 7 ? Double.nan : i == 8 ? Double.infinity : Double(i) / 3
            logger.logRow("train", ["x": x, "i": i, "flag": i % 2 == 0, "phase": i < 25 ? "train, warm" : "eval \"q\"", "w": [1.0, Double(i)]])
            expected.append([
                "x": .double(x), "i": .int(Int64(i)), "flag": .bool(i % 2 == 0),
                "phase": .string(i < 25 ? "train, warm" : "eval \"q\""), "w.max": .double(max(1, Double(i))),
            ])
        }
        logger.close()
        return (python, dir, ["tables": ["train": .array(expected)], "files": ["train": "train"]])
    }

    private func checkFiles(_ python: String, _ dir: URL, _ spec: JSONValue, environment: [String: String]? = nil) throws -> ProcessResult {
        let specURL = dir.appendingPathComponent("expected-\(UUID().uuidString.prefix(8)).json")
        try spec.serialized().write(to: specURL, atomically: true, encoding: .utf8)
        return try run(python, [pythonScript("check_files.py"), dir.path, specURL.path], environment: environment)
    }

    @Test func filesAreReadableByPythonJSONCSVAndPandas() throws {
        guard let (python, dir, spec) = try pythonReadableRun() else { return }
        let result = try checkFiles(python, dir, spec)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("OK"))
    }

    /// The checker is only worth something if it fails on wrong values, also under
    /// `python -O` (which removes `assert`).
    @Test func checkFilesRejectsWrongValues() throws {
        guard let (python, dir, spec) = try pythonReadableRun() else { return }
        func changing(row: Int, _ key: String, to value: JSONValue) -> JSONValue {
            guard case .object(var top) = spec, case .object(var tables) = top["tables"]!, case .array(var rows) = tables["train"]!,
                case .object(var fields) = rows[row]
            else { return spec }
            fields[key] = value
            rows[row] = .object(fields)
            tables["train"] = .array(rows)
            top["tables"] = .object(tables)
            return .object(top)
        }
        let wrong: [(String, JSONValue, String)] = [
            ("a wrong number", changing(row: 3, "x", to: 1.5), "'journal' 'train' 3 'x'"),
            ("a number where NaN was logged", changing(row: 7, "x", to: 2.0), "'journal' 'train' 7 'x'"),
            ("a bool where an int was logged", changing(row: 1, "i", to: true), "'journal' 'train' 1 'i'"),
            ("a wrong string", changing(row: 30, "phase", to: "eval"), "'journal' 'train' 30 'phase'"),
            ("a key never logged", changing(row: 0, "absent", to: 1), "'absent'"),
            ("a missing table", ["tables": ["other": [["x": 1]]], "files": ["other": "train"]], "'journal rows' 'other' 0 1"),
        ]
        // Every change plainly; the first two also under `python -O`, where `assert` is gone.
        for environment in [nil, ["PYTHONOPTIMIZE": "1"]] {
            for (name, spec, message) in environment == nil ? wrong : Array(wrong.prefix(2)) {
                let result = try checkFiles(python, dir, spec, environment: environment.map { ProcessInfo.processInfo.environment.merging($0) { $1 } })
                #expect(result.status == 1, "\(name) (\(environment ?? [:])): \(result.stdout)\(result.stderr)")
                #expect(result.stdout.contains(message), "\(name): \(result.stdout)")
            }
        }
        // And a damaged CSV cell, with the journal intact.
        let csv = dir.appendingPathComponent("train.csv")
        let text = try String(contentsOf: csv, encoding: .utf8)
        let damaged = text.replacingOccurrences(of: ",\"eval \"\"q\"\"\",", with: ",eval q,")
        #expect(damaged != text)
        try damaged.write(to: csv, atomically: true, encoding: .utf8)
        let result = try checkFiles(python, dir, spec)
        #expect(result.status == 1)
        #expect(result.stdout.contains("'csv' 25 'phase'"), "\(result.stdout)")
    }
}
