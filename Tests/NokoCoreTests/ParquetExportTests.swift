import Foundation
import NokoTestSupport
import Testing
@testable import NokoCore
import NokoPlatform

@Suite("ParquetExport")
struct ParquetExportTests {
    @Test func writesTheSameTableAsTheLiveOutput() throws {
        let directory = temporaryDirectory()
        let rows = ParquetTestRows()
        let logged = (0..<50).map { i in
            rows.row(i < 20 ? ["loss": .double(1 / Double(i + 1))] : ["loss": .double(0.01), "acc": .int(Int64(i))], level: .debug)
        }
        let output = ParquetOutput(directory: directory, rowGroupRows: 7, rowGroupInterval: .zero)
        for row in logged { output.write(row) }
        try output.close()
        let exported = directory.appendingPathComponent("export.parquet")
        try ParquetExport.write(rows: logged, table: "t", to: exported, rowGroupRows: 16)
        let live = try ParquetReader.readTable(at: output.fileURL(forTable: "t"))
        let rebuilt = try ParquetReader.readTable(at: exported)
        #expect(rebuilt.columnNames == live.columnNames)
        for name in live.columnNames { #expect(rebuilt[name] == live[name], "\(name)") }
        #expect(try ParquetReader.info(at: exported).rowGroupCount == 4)
        #expect(rebuilt["$level"]?.first == 10)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)
    }

    @Test func widensAcrossRowGroupsWithOneWarning() throws {
        let url = temporaryDirectory().appendingPathComponent("t.parquet")
        let rows = ParquetTestRows()
        let (messages, recorded) = recordingMessages()
        let logged = [rows.row(["v": 1]), rows.row(["v": 2]), rows.row(["v": "three"])]
        try ParquetExport.write(rows: logged, table: "t", to: url, rowGroupRows: 2, messages: messages)
        #expect(try ParquetReader.readTable(at: url)["v"] == ["1", "2", "three"])
        #expect(recorded.messages().count == 1)
    }

    @Test func writesEmptyTablesWithTheBookkeepingColumns() throws {
        let url = temporaryDirectory().appendingPathComponent("t.parquet")
        try ParquetExport.write(rows: [SummarizedRow](), table: "t", to: url)
        let info = try ParquetReader.info(at: url)
        #expect(info.rowCount == 0)
        #expect(info.rowGroupCount == 0)
        #expect(info.columns.map(\.name) == ParquetBatchBuilder.bookkeepingColumns)
        #expect(info.columns.map(\.type) == [.int64, .int64, .double, .string])
        // One footer and nothing else: the magic, the footer, its length, the magic.
        let bytes = [UInt8](try Data(contentsOf: url))
        let footerLength = Int(bytes[bytes.count - 8]) | Int(bytes[bytes.count - 7]) << 8
        #expect(bytes.count == 4 + footerLength + 8)
    }

    @Test func writesALoadedTableWithBookkeepingColumnsFirstAndNoTableColumn() throws {
        let url = temporaryDirectory().appendingPathComponent("t.parquet")
        let table = LogTable(columns: [
            ("loss", [0.5, nil, .double(.infinity)]),
            ("$table", ["t", "t", "t"]),
            ("$step", [0, 1, 2]),
            ("$localtime", ["2024-01-01T00:00:00", "2024-01-01T00:00:01", "2024-01-01T00:00:02"]),
            ("mixed", [1, "two", true]),
        ])
        let (messages, recorded) = recordingMessages()
        try ParquetExport.write(table: table, name: "t", to: url, rowGroupRows: 2, messages: messages)
        let loaded = try ParquetReader.readTable(at: url)
        #expect(loaded.columnNames == ["$step", "$localtime", "loss", "mixed"])
        #expect(loaded["loss"] == [0.5, nil, .double(.infinity)])
        #expect(loaded["mixed"] == ["1", "two", "true"])
        #expect(try ParquetReader.info(at: url).rowGroupCount == 2)
        #expect(recorded.messages().count == 1 && recorded.messages()[0].contains("'mixed'"))
        let empty = url.deletingLastPathComponent().appendingPathComponent("empty.parquet")
        try ParquetExport.write(table: LogTable(columns: [("$step", []), ("x", [])]), name: "e", to: empty)
        #expect(try ParquetReader.info(at: empty).columns.map(\.name) == ["$step", "x"])
    }

    @Test func aFailedExportLeavesNoFileBehind() throws {
        let directory = temporaryDirectory()
        let target = directory.appendingPathComponent("missing/t.parquet")
        #expect(throws: NokoSystemError.self) {
            try ParquetExport.write(rows: [ParquetTestRows().row(["a": 1])], table: "t", to: target)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }
}
