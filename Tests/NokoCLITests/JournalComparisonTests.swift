import Foundation
import NokoCore
import Testing

@testable import NokoCLI

/// The row-by-row comparison of two journals (`compare --rows`, `reproduce`'s verdict).
@Suite struct JournalComparisonTests {
    let fixtures = Fixtures()

    /// A journal line as noko writes it: `$` keys first, then the values (JSON text).
    static func line(_ table: String, step: Int, time: Double = 1_795_777_200, _ values: [(String, String)]) -> String {
        var text = "{\"$table\":\"\(table)\",\"$step\":\(step),\"$level\":20,\"$localtime\":\"2026-11-27T11:00:0\(step % 10)\",\"$utc_timestamp\":\(time + Double(step))"
        for (key, value) in values { text += ",\"\(key)\":\(value)" }
        return text + "}"
    }

    /// `rows` train rows and one eval row every 4th, loss `1/(step+1)`.
    static func lines(rows: Int = 10, time: Double = 1_795_777_200, loss: (Int) -> String = { "\(1.0 / Double($0 + 1))" }) -> [String] {
        var lines: [String] = []
        for step in 0..<rows {
            lines.append(line("train", step: step, time: time, [("loss", loss(step)), ("lr", "0.1"), ("note", "\"ok\"")]))
            if step % 4 == 3 { lines.append(line("eval", step: step, time: time, [("accuracy", "\(Double(step) / 10)")])) }
        }
        return lines
    }

    func journal(_ name: String, _ lines: [String]) throws -> JournalComparison.Source {
        let url = fixtures.url("\(name).ndjson")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        return .init(path: url.path)
    }

    func compare(_ a: [String], _ b: [String], _ options: JournalComparison.Options = .init()) throws -> JournalComparison.Result {
        try JournalComparison.compare(original: journal("a", a), rerun: journal("b", b), options: options)
    }

    @Test func theSameRowsAtOtherTimesAreIdentical() throws {
        var rerun = Self.lines(time: 1_800_000_000)
        rerun.insert("{\"$table\":\"system\",\"$step\":0,\"cpu/percent\":12.5}", at: 3)
        let result = try compare(Self.lines(), rerun)
        #expect(result.identical)
        #expect(result.tables.map(\.name) == ["eval", "train"])
        #expect(result.skippedTables == ["system"])
        let train = try #require(result.tables.last)
        // $step, $level and the three columns; the clock columns are left out.
        #expect(train.comparedRows == 10 && train.values == 50 && train.differing == 0)
        #expect(result.comparedRows == 12)
    }

    @Test func clockValuesOfAnotherLengthAreStillLeftOut() throws {
        let rerun = Self.lines().map {
            $0.replacingOccurrences(of: "\"$utc_timestamp\":", with: "\"$utc_timestamp\":1").replacingOccurrences(of: "\"$localtime\":\"2026", with: "\"$localtime\":\"Thu 2026")
        }
        #expect(try compare(Self.lines(), rerun).identical)
        // A clock value that is not well-formed is not waved through.
        var broken = rerun
        broken[2] = broken[2].replacingOccurrences(of: "\"$localtime\":\"Thu", with: "\"$localtime\":\"Th\u{01}u")
        #expect(throws: (any Error).self) { try compare(Self.lines(), broken) }
    }

    @Test func theFirstDifferenceNamesRowStepColumnAndBothValues() throws {
        let rerun = Self.lines(loss: { $0 >= 6 ? "\(1.0 / Double($0 + 1) + 0.001)" : "\(1.0 / Double($0 + 1))" })
        let result = try compare(Self.lines(), rerun)
        #expect(!result.identical)
        let train = try #require(result.tables.first { $0.name == "train" })
        let first = try #require(train.first)
        #expect(first.row == 7 && first.step == 6 && first.column == "loss")
        #expect(first.original == "\(1.0 / 7)" && first.rerun == "\(1.0 / 7 + 0.001)")
        #expect(abs(first.absolute! - 0.001) < 1e-12)
        #expect(abs(first.relative! - 0.007) < 1e-9)
        #expect(train.differing == 4)
        #expect(abs(train.largestAbsolute! - 0.001) < 1e-12)
        #expect(abs(train.largestRelative! - 0.01) < 1e-9)
        #expect(result.tables.first { $0.name == "eval" }?.identical == true)
    }

    @Test func aToleranceAcceptsSmallDifferencesOnly() throws {
        let rerun = Self.lines(loss: { "\(1.0 / Double($0 + 1) * (1 + 1e-9))" })
        #expect(try !compare(Self.lines(), rerun).identical)
        #expect(try compare(Self.lines(), rerun, .init(relativeTolerance: 1e-8)).identical)
        #expect(try compare(Self.lines(), rerun, .init(absoluteTolerance: 1e-8)).identical)
        #expect(try !compare(Self.lines(), rerun, .init(relativeTolerance: 1e-10)).identical)
    }

    @Test func exactMeansTheTextOfTheNumber() throws {
        // 1 and 1.0 are the same number but not the same journal text (an Int became a Double).
        let result = try compare(Self.lines(loss: { _ in "1" }), Self.lines(loss: { _ in "1.0" }))
        #expect(result.tables.first { $0.name == "train" }?.first?.absolute == 0)
        #expect(!result.identical)
        #expect(try compare(Self.lines(loss: { _ in "1" }), Self.lines(loss: { _ in "1.0" }), .init(absoluteTolerance: 1e-300)).identical)
    }

    @Test func ignoredColumnsByNameOrTableAndName() throws {
        let rerun = Self.lines(loss: { "\(Double($0))" }).map { $0.replacingOccurrences(of: "\"accuracy\":", with: "\"accuracy\":1") }
        #expect(try !compare(Self.lines(), rerun).identical)
        #expect(try !compare(Self.lines(), rerun, .init(ignored: Glob("loss"))).identical)
        #expect(try compare(Self.lines(), rerun, .init(ignored: Glob("loss,eval/acc*"))).identical)
        #expect(try !compare(Self.lines(), rerun, .init(ignored: Glob("loss,train/accuracy"))).identical)
    }

    @Test func aRerunThatStoppedEarlyComparesItsPrefix() throws {
        let result = try compare(Self.lines(), Array(Self.lines().prefix(7)))
        #expect(!result.identical)
        let train = try #require(result.tables.first { $0.name == "train" })
        #expect(train.originalRows == 10 && train.rerunRows == 6 && train.comparedRows == 6 && train.differing == 0)
        let note = try #require(RunComparison.rowCountNote(train, maximumLag: 100))
        #expect(note.contains("stopped early") && note.contains("first 6 of 10"))
    }

    @Test func rowsOfTablesInAnotherOrderAreMatchedByPositionInTheirTable() throws {
        let original = Self.lines()
        // All eval rows first, then every train row: each table's rows in the same order.
        let rerun = original.filter { $0.contains("\"eval\"") } + original.filter { $0.contains("\"train\"") }
        let result = try compare(original, rerun)
        #expect(result.identical)
        #expect(result.comparedRows == 12)
    }

    @Test func stepsThatRepeatDoNotMatchRows() throws {
        // Same steps, other values: position decides, so a repeated step is no excuse.
        let original = (0..<4).map { Self.line("t", step: 0, [("x", "\($0)")]) }
        let rerun = (0..<4).map { Self.line("t", step: 0, [("x", "\(3 - $0)")]) }
        let result = try compare(original, rerun)
        #expect(result.tables[0].differing == 4)
        #expect(result.tables[0].first?.row == 1)
    }

    @Test func columnsInAnotherOrderAreMatchedByKey() throws {
        // Two processes may write a dictionary row's keys in different orders.
        let rerun = (0..<10).map { Self.line("train", step: $0, [("note", "\"ok\""), ("lr", "0.1"), ("loss", "\(1.0 / Double($0 + 1))")]) }
        let original = Self.lines().filter { $0.contains("\"train\"") }
        #expect(try compare(original, rerun).identical)
        let changed = rerun.enumerated().map { $0.offset == 4 ? $0.element.replacingOccurrences(of: "\"lr\":0.1", with: "\"lr\":0.2") : $0.element }
        let train = try compare(original, changed).tables[0]
        #expect(train.differing == 1 && train.first?.row == 5 && train.first?.column == "lr" && train.first?.rerun == "0.2")
    }

    @Test func aColumnOnlyOneSideHasIsADifference() throws {
        let rerun = Self.lines().map { $0.replacingOccurrences(of: "\"lr\":0.1,", with: "\"lr\":0.1,\"momentum\":0.9,") }
        let train = try #require(try compare(Self.lines(), rerun).tables.first { $0.name == "train" })
        #expect(train.differing == 10)
        #expect(train.first?.column == "momentum" && train.first?.original == nil && train.first?.rerun == "0.9")
        let dropped = Self.lines().map { $0.replacingOccurrences(of: ",\"lr\":0.1", with: "") }
        let other = try #require(try compare(Self.lines(), dropped).tables.first { $0.name == "train" })
        #expect(other.first?.column == "lr" && other.first?.original == "0.1" && other.first?.rerun == nil)
    }

    @Test func stringsAndNonFiniteValues() throws {
        let original = [Self.line("t", step: 0, [("x", "\"NaN\""), ("s", "\"a\"")]), Self.line("t", step: 1, [("x", "\"Infinity\""), ("s", "\"a\"")])]
        #expect(try compare(original, original).identical)
        let rerun = [Self.line("t", step: 0, [("x", "\"NaN\""), ("s", "\"b\"")]), Self.line("t", step: 1, [("x", "2.5"), ("s", "\"a\"")])]
        let table = try compare(original, rerun, .init(absoluteTolerance: 1)).tables[0]
        #expect(table.differing == 2)
        #expect(table.first?.column == "s" && table.first?.original == "\"a\"" && table.first?.absolute == nil)
    }

    @Test func aTableOnlyOneJournalHas() throws {
        let original = Self.lines().filter { $0.contains("\"train\"") }
        let result = try compare(original, Self.lines())
        let eval = try #require(result.tables.first { $0.name == "eval" })
        #expect(eval.originalRows == 0 && eval.rerunRows == 2 && !eval.identical)
        #expect(RunComparison.rowCountNote(eval, maximumLag: 100)?.contains("only the rerun") == true)
        #expect(result.tables.first { $0.name == "train" }?.identical == true)
    }

    @Test func aJournalSteadilyARowBehindIsComparedInFull() throws {
        // The original's `a` rows run three ahead of the rerun's for thousands of rows, so
        // three of them are always waiting.
        func a(_ i: Int) -> String { Self.line("a", step: i, [("x", "\(i)")]) }
        func b(_ i: Int) -> String { Self.line("b", step: i, [("y", "\(i)")]) }
        let original = [a(0), a(1), a(2)] + (0..<3000).flatMap { $0 + 3 < 3000 ? [b($0), a($0 + 3)] : [b($0)] }
        let rerun = (0..<3000).flatMap { [b($0), a($0)] }
        let result = try compare(original, rerun)
        #expect(result.identical && result.comparedRows == 6000)
        var changed = rerun
        changed[4001] = Self.line("a", step: 2000, [("x", "-1")])
        let a = try #require(try compare(original, changed).tables.first { $0.name == "a" })
        #expect(a.differing == 1 && a.first?.row == 2001 && a.first?.rerun == "-1")
    }

    @Test func aTableFarBehindIsComparedUpToTheLagLimit() throws {
        var options = JournalComparison.Options()
        options.maximumLag = 3
        let original = (0..<10).map { Self.line("a", step: $0, [("x", "1")]) } + (0..<10).map { Self.line("b", step: $0, [("x", "1")]) }
        let rerun = (0..<10).map { Self.line("b", step: $0, [("x", "1")]) } + (0..<10).map { Self.line("a", step: $0, [("x", "1")]) }
        let result = try compare(original, rerun, options)
        #expect(!result.identical)
        #expect(result.tables.allSatisfy { $0.originalRows == 10 && $0.rerunRows == 10 })
        #expect(result.tables.contains { $0.lagExceeded })
        // With room, the same journals compare equal.
        #expect(try compare(original, rerun).identical)
    }

    @Test func aMissingRerunJournalIsAnEmptyOne() throws {
        let result = try JournalComparison.compare(
            original: journal("a", Self.lines()), rerun: .init(path: fixtures.url("absent.ndjson").path))
        #expect(result.tables.allSatisfy { $0.rerunRows == 0 && $0.comparedRows == 0 })
        #expect(!result.identical)
    }

    @Test func aMalformedLineNamesTheFileAndLine() throws {
        var rerun = Self.lines()
        rerun[4] = "{\"$table\":\"train\",\"loss\":0.5"
        #expect {
            _ = try compare(Self.lines(), rerun)
        } throws: { error in
            "\(error)".contains("b.ndjson:5:")
        }
        // A torn last line is not a row.
        let torn = try journal("torn", Self.lines())
        try FileHandleWriter.append("{\"$table\":\"train\",\"lo", to: torn.path)
        #expect(try JournalComparison.compare(original: journal("a", Self.lines()), rerun: torn).identical)
    }
}

/// Appends text to a file.
enum FileHandleWriter {
    static func append(_ text: String, to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }
}
