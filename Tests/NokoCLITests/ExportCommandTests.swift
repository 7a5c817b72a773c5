import Foundation
import NokoCore
import Testing

@testable import NokoCLI

@Suite struct ExportCommandTests {
    @Test func csvFromTheJournalEqualsTheCSVOutput() throws {
        let fixtures = Fixtures()
        let run = try fixtures.finishedRun()
        for table in ["epoch", "grad_step"] {
            let exported = try fixtures.run(["export", "runs/train_a", "--table", table, "--format", "csv"])
            #expect(exported == (try String(contentsOf: run.appendingPathComponent("\(table).csv"), encoding: .utf8)))
        }
    }

    @Test func aTrailingCSVIsRegeneratedComplete() throws {
        let fixtures = Fixtures()
        let run = try fixtures.finishedRun()
        let csv = run.appendingPathComponent("grad_step.csv")
        let complete = try Data(contentsOf: csv)
        // After kill -9 the CSV trails the journal: keep its first 40 lines and a torn one.
        let lines = complete.split(separator: 0x0A, omittingEmptySubsequences: false)
        try Data(lines.prefix(40).joined(separator: [0x0A]) + Array("\n1,2,".utf8)).write(to: csv)
        let context = fixtures.context()
        try fixtures.run(["export", "runs/train_a", "--table", "grad_step", "--format", "csv", "-o", "runs/train_a/grad_step.csv"], context: context)
        #expect(try Data(contentsOf: csv) == complete)
        #expect(context.capturedError == "wrote 120 rows of grad_step to runs/train_a/grad_step.csv\n")
        #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent(".grad_step.csv.export").path))
    }

    @Test func ndjsonReadsBackAsTheSameTable() throws {
        let fixtures = Fixtures()
        let run = try fixtures.finishedRun()
        try fixtures.run(["export", "runs/train_a", "--table", "grad_step", "--format", "ndjson", "-o", "grad.ndjson"])
        let exported = try LogFileLoader.load(fixtures.url("grad.ndjson").path)
        let original = try LogFileLoader.loadTable("grad_step", fromJournal: run.appendingPathComponent("noko.ndjson").path)
        #expect(exported.rowCount == 120)
        #expect(Set(exported.columnNames) == Set(original.columnNames.map { $0 == "$table" ? $0 : "grad_step.\($0)" }))
        let text = try String(contentsOf: fixtures.url("grad.ndjson"), encoding: .utf8)
        let first = try JSONValue(parsing: String(text.split(separator: "\n")[0]))
        #expect(first["$table"] == "grad_step")
        #expect(first["$step"] == 0)
        #expect(first["phase"] == "even")
        // NaN stays strict JSON.
        let nanLine = try #require(text.split(separator: "\n").first { $0.contains("\"$step\":35,") })
        #expect(nanLine.contains("\"loss\":\"NaN\""))
        for (name, values) in original.columns {
            let exportedValues = try #require(exported["grad_step.\(name)"] ?? exported[name])
            #expect(exportedValues.map(\.description) == values.map(\.description), "column \(name)")
        }
    }

    @Test func parquetHasEveryRow() throws {
        let fixtures = Fixtures()
        try fixtures.finishedRun()
        try fixtures.run(["export", "runs/train_a", "--table", "grad_step", "--format", "parquet", "-o", "grad.parquet", "--columns", "loss"])
        let table = try ParquetReader.readTable(at: fixtures.url("grad.parquet"))
        #expect(table.rowCount == 120)
        #expect(Set(table.columnNames) == ["$step", "$level", "$localtime", "$utc_timestamp", "loss"])
        #expect(table["loss"]?[35].doubleValue?.isNaN == true)
    }

    @Test func columnsKeepTheBookkeepingColumns() throws {
        let fixtures = Fixtures()
        try fixtures.finishedRun()
        let csv = try fixtures.run(["export", "runs/train_a", "--table", "grad_step", "--format", "csv", "--columns", "weights.m*"])
        #expect(csv.hasPrefix("$level,$localtime,$step,$table,$utc_timestamp,weights.max,weights.mean,weights.min\n"))
    }

    @Test func fromCSVAndFromAPythonJournal() throws {
        let fixtures = Fixtures()
        try fixtures.pythonRun()
        let fromJournal = try fixtures.run(["export", "runs/py_run", "--table", "w1_rows.py:133", "--format", "ndjson"])
        let lines = fromJournal.split(separator: "\n")
        #expect(lines.count == 30)
        #expect(lines[7].contains("\"loss\":\"NaN\""))
        #expect(lines[8].contains("\"loss\":\"Infinity\""))
        let fromCSV = try fixtures.run(["export", "runs/py_run", "--table", "w1_rows.py:133", "--format", "ndjson", "--from", "csv"])
        // The CSV has no sub-second times or local times of its own, so compare the values only.
        let journalLoss = try LogFileLoader.loadTable("w1_rows.py:133", fromJournal: fixtures.url("runs/py_run/noko.ndjson").path, allowsNonFiniteLiterals: true)["loss"]
        let csvTable = try LogFileLoader.load(fixtures.url("runs/py_run/w1_rows.py:133.csv").path)
        #expect(journalLoss?.map(\.description) == csvTable["loss"]?.map(\.description))
        #expect(fromCSV.split(separator: "\n").count == 30)
    }

    @Test func fromParquetReadsTheParquetFile() throws {
        let fixtures = Fixtures()
        let run = try fixtures.finishedRun()
        // The table's Parquet file, written by the Parquet output from the journal's rows.
        let journal = run.appendingPathComponent("noko.ndjson").path
        let original = try LogFileLoader.loadTable("grad_step", fromJournal: journal)
        var rows: [SummarizedRow] = []
        _ = try JournalScanner.forEachRow(in: journal, fileStem: TableFileName.encode) { if $0.table == "grad_step" { rows.append($0) } }
        let output = ParquetOutput(directory: run, rowGroupRows: 16, rowGroupInterval: .zero)
        for row in rows { output.write(row) }
        try output.close()
        let csv = fixtures.url("from-parquet.csv")
        try fixtures.run(["export", "runs/train_a", "--table", "grad_step", "--format", "csv", "--from", "parquet", "-o", csv.path])
        let exported = try LogFileLoader.load(csv.path)
        #expect(exported.rowCount == original.rowCount)
        // Parquet files have no `$table` column (the file is the table).
        #expect(Set(exported.columnNames) == Set(original.columnNames).subtracting(["$table"]))
        for name in original.columnNames where name != "$table" {
            #expect(exported[name]?.map(\.description) == original[name]?.map(\.description), "column \(name)")
        }
        // What it read is the Parquet file: change the file, and the export changes.
        try FileManager.default.removeItem(at: run.appendingPathComponent("grad_step.parquet"))
        let fewer = ParquetOutput(directory: run, rowGroupInterval: .zero)
        for row in rows.prefix(3) { fewer.write(row) }
        try fewer.close()
        let short = try fixtures.run(["export", "runs/train_a", "--table", "grad_step", "--format", "ndjson", "--from", "parquet"])
        #expect(short.split(separator: "\n").count == 3)
    }

    @Test func errorsNameWhatIsMissing() throws {
        let fixtures = Fixtures()
        try fixtures.finishedRun()
        let run = fixtures.url("runs/train_a").path
        #expect(throws: CLIError("\(run): no rows of table \"nope\"; the run has \"epoch\", \"grad_step\", \"results\"")) {
            try fixtures.run(["export", "runs/train_a", "--table", "nope", "--format", "csv"])
        }
        #expect(throws: CLIError("\(run)/nope.parquet: missing")) {
            try fixtures.run(["export", "runs/train_a", "--table", "nope", "--format", "csv", "--from", "parquet"])
        }
        do {
            _ = try NokoRun.parseCommand(["export", "runs/train_a", "--table", "epoch", "--format", "parquet"])
            Issue.record("parquet to standard output was accepted")
        } catch {
            #expect(NokoRun.exitStatus(for: error) == 64)
        }
    }

    @Test func aMalformedJournalLineIsNamed() throws {
        let fixtures = Fixtures()
        let run = try fixtures.finishedRun()
        let journal = run.appendingPathComponent("noko.ndjson")
        var text = try String(contentsOf: journal, encoding: .utf8)
        text += "{\"$table\": \"epoch\", oops}\n"
        try Data(text.utf8).write(to: journal)
        let lines = text.split(separator: "\n").count
        #expect(throws: CLIError("\(journal.path):\(lines): not a noko journal line: expected a string at byte 20")) {
            try fixtures.run(["export", "runs/train_a", "--table", "epoch", "--format", "csv"])
        }
    }
}
