import Foundation
import NokoTestSupport
import Testing
@testable import NokoCore

/// Files written by noko, checked with the real readers (pyarrow, DuckDB), and files written
/// by pyarrow, read by noko. Skipped when python3 cannot import pyarrow and duckdb.
@Suite(
    "ParquetInterop",
    .enabled(if: ParquetPython.isAvailable, "python3 with pyarrow and duckdb is not installed (pip install pyarrow duckdb)"))
struct ParquetInteropTests {
    /// Rows with every kind of value, nulls and missing keys.
    private static func variedRows(_ rows: ParquetTestRows, count: Int) -> [SummarizedRow] {
        let doubles: [Double] = [.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 0.1, -2.5e-300]
        let strings = ["plain", "", "β-bêta", "日本語テキスト", "emoji 🎉👩‍🔬", "tab\tquote\"newline\n", "NaN", "plain"]
        let ints: [Int64] = [0, -1, .max, .min, 42, 1 << 53 + 1]
        return (0..<count).map { i in
            if i % 9 == 8 {
                return rows.row(["int": .int(Int64(i)), "text": nil], level: .trace)
            }
            return rows.row(
                [
                    "int": i % 5 == 4 ? nil : .int(ints[i % ints.count]),
                    "double": .double(doubles[i % doubles.count]),
                    "flag": i % 4 == 3 ? nil : .bool(i % 3 == 0),
                    "text": .string(strings[i % strings.count]),
                ], level: i % 2 == 0 ? .info : .results)
        }
    }

    /// The columns the output writes for `rows`, for pyarrow to compare with.
    private static func expectedColumns(_ rows: [SummarizedRow]) -> [(name: String, type: ParquetColumnType, values: [Scalar])] {
        var table = LogTable()
        for row in rows {
            table.append(
                [("$step", .int(Int64(row.step))), ("$level", .int(Int64(row.level.value))),
                 ("$utc_timestamp", .double(row.time.utcTimestamp)), ("$localtime", .string(row.time.localTime))]
                    + row.pairs.map { ($0, $1) })
        }
        return table.columnNames.map { name in
            let values = table[name]!
            let type = values.compactMap(ParquetColumnType.init(of:)).max() ?? .double
            return (name, type, values.map { $0.isNull ? .null : $0.converted(to: type) })
        }
    }

    @Test(arguments: [ParquetCompression.none, .snappy])
    func pyarrowReadsEveryValue(compression: ParquetCompression) throws {
        let directory = temporaryDirectory()
        let rows = Self.variedRows(ParquetTestRows(), count: 300)
        let output = ParquetOutput(directory: directory, rowGroupRows: 64, rowGroupInterval: .zero, compression: compression)
        for row in rows { output.write(row) }
        try output.close()
        let url = output.fileURL(forTable: "t")
        let result = try ParquetPython.expect(url, columns: Self.expectedColumns(rows))
        #expect(result["rows"] == 300)
        let ints = rows.compactMap { row -> Int64? in if case .int(let v) = row["int"] { return v } else { return nil } }
        let duck = try ParquetPython.check(["duckdb", url.path, "flag"])
        #expect(duck.arrayValue?.first == .int(300))
        let flags = rows.filter { $0["flag"] == true }.count
        #expect(duck.arrayValue?.last == .int(Int64(flags)))
        #expect(ints.count > 100)
        // And noko's own reader agrees.
        let loaded = try ParquetReader.readTable(at: url)
        for column in Self.expectedColumns(rows) {
            #expect(loaded[column.name]?.map(\.description) == column.values.map(\.description), "\(column.name)")
        }
    }

    @Test func zeroAndOneRowTables() throws {
        let directory = temporaryDirectory()
        let empty = directory.appendingPathComponent("empty.parquet")
        try ParquetExport.write(rows: [SummarizedRow](), table: "empty", to: empty)
        let result = try ParquetPython.expect(
            empty,
            columns: [("$step", .int64, []), ("$level", .int64, []), ("$utc_timestamp", .double, []), ("$localtime", .string, [])])
        #expect(result["rows"] == 0)
        #expect(try ParquetPython.check(["duckdb", empty.path, "$step"]) == [0, nil])

        let rows = ParquetTestRows()
        let one = [rows.row(["x": 2.5, "s": "only"], table: "one")]
        let output = ParquetOutput(directory: directory)
        output.write(one[0])
        try output.close()
        let url = output.fileURL(forTable: "one")
        #expect(try ParquetPython.expect(url, columns: Self.expectedColumns(one))["rows"] == 1)
        #expect(try ParquetPython.check(["duckdb", url.path, "x"]) == [1, 2.5])
    }

    @Test func aHundredThousandRows() throws {
        let directory = temporaryDirectory()
        let rows = ParquetTestRows()
        let schema = RowSchema(keys: ["loss", "epoch", "tag"])
        let n = 100_000
        let output = ParquetOutput(directory: directory, rowGroupRows: 10_000, rowGroupInterval: .seconds(3600))
        var logged: [SummarizedRow] = []
        logged.reserveCapacity(n)
        for i in 0..<n {
            let row = SummarizedRow(
                table: "big", step: i, level: .trace, time: ParquetTestRows.time(i), schema: schema,
                values: [.double(1 / Double(i + 1)), .int(Int64(i / 1000)), .string(i % 10 == 0 ? "ten" : "other")])
            logged.append(row)
            output.write(row)
        }
        _ = rows
        try output.close()
        let url = output.fileURL(forTable: "big")
        #expect(try ParquetPython.expect(url, columns: Self.expectedColumns(logged))["rows"] == .int(Int64(n)))
        #expect(try ParquetPython.check(["duckdb", url.path, "$step"]) == [.int(Int64(n)), .int(Int64(n * (n - 1) / 2))])
        #expect(try ParquetPython.check(["duckdb", url.path, "epoch"]) == [.int(Int64(n)), .int(Int64((0..<n).reduce(0) { $0 + $1 / 1000 }))])
        #expect(try ParquetReader.readTable(at: url).rowCount == n)
    }

    @Test func aColumnAddedMidRunReadsAsOneTable() throws {
        let directory = temporaryDirectory()
        let rows = ParquetTestRows()
        let output = ParquetOutput(directory: directory, rowGroupInterval: .zero)
        var logged: [SummarizedRow] = []
        for i in 0..<10 {
            let row = i < 6 ? rows.row(["a": .int(Int64(i))]) : rows.row(["a": .int(Int64(i)), "late": .double(Double(i) / 2)])
            logged.append(row)
            output.write(row)
            if i % 2 == 1 { try output.flush() }
        }
        let url = output.fileURL(forTable: "t")
        #expect(try ParquetReader.info(at: url).rowGroupCount == 5)  // still uncompacted: null chunks in play
        #expect(try ParquetPython.expect(url, columns: Self.expectedColumns(logged))["row_groups"] == 5)
        #expect(try ParquetPython.check(["duckdb", url.path, "late"]) == [10, 15.0])
        #expect(try ParquetPython.check(["duckdb-schema", url.path]).arrayValue?.last == ["late", "DOUBLE"])
        try output.close()
        #expect(try ParquetPython.expect(url, columns: Self.expectedColumns(logged))["row_groups"] == 1)
    }

    @Test func aFileReadMidRunBetweenTwoRowGroups() throws {
        let directory = temporaryDirectory()
        let rows = ParquetTestRows()
        let output = ParquetOutput(directory: directory, rowGroupInterval: .zero)
        let first = (0..<5).map { rows.row(["v": .int(Int64($0))]) }
        for row in first { output.write(row) }
        try output.flush()
        let url = output.fileURL(forTable: "t")
        #expect(try ParquetPython.expect(url, columns: Self.expectedColumns(first))["rows"] == 5)
        let second = (5..<8).map { rows.row(["v": .int(Int64($0)), "w": "new"]) }
        for row in second { output.write(row) }
        try output.flush()
        #expect(try ParquetPython.expect(url, columns: Self.expectedColumns(first + second))["row_groups"] == 2)
        #expect(try ParquetPython.check(["duckdb", url.path, "v"]) == [8, 28])
        try output.close()
    }

    @Test func aWidenedColumnHasOneTypeForTheReaders() throws {
        let directory = temporaryDirectory()
        let rows = ParquetTestRows()
        let output = ParquetOutput(directory: directory, rowGroupInterval: .zero, messages: recordingMessages().0)
        output.write(rows.row(["v": 1]))
        try output.flush()
        output.write(rows.row(["v": 2.5]))
        try output.flush()
        let url = output.fileURL(forTable: "t")
        #expect(try ParquetPython.check(["duckdb", url.path, "v"]) == [2, 3.5])
        output.write(rows.row(["v": "x"]))
        try output.close()
        #expect(try ParquetPython.check(["duckdb-schema", url.path]).arrayValue?.last == ["v", "VARCHAR"])
    }

    @Test func aTornFileIsReadByNokoAndRepairedForEveryone() throws {
        let directory = temporaryDirectory()
        let rows = ParquetTestRows()
        let output = ParquetOutput(directory: directory, rowGroupInterval: .zero)
        let kept = (0..<4).map { rows.row(["v": .int(Int64($0))]) }
        for row in kept { output.write(row) }
        try output.flush()
        output.write(rows.row(["v": 99]))
        try output.flush()
        let url = output.fileURL(forTable: "t")
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int
        try Data(contentsOf: url).prefix(size - 30).write(to: url)
        // Valid expectations, so the check gets past them to pyarrow, which must refuse the file.
        #expect { try ParquetPython.expect(url, columns: Self.expectedColumns(kept)) } throws: { error in
            "\(error)".contains("pyarrow cannot read \(url.path)")
        }
        #expect(try ParquetReader.readTable(at: url)["v"] == [0, 1, 2, 3])
        #expect(try ParquetOutput.repair(file: url).outcome == .truncated)
        #expect(try ParquetPython.expect(url, columns: Self.expectedColumns(kept))["rows"] == 4)
    }

    /// The checker is only worth something if it fails on wrong values: each change below
    /// to the expectations of a good file must be named in its message.
    @Test func checkerRejectsWrongValues() throws {
        let directory = temporaryDirectory()
        let rows = Self.variedRows(ParquetTestRows(), count: 40)
        let output = ParquetOutput(directory: directory, rowGroupRows: 16, rowGroupInterval: .zero)
        for row in rows { output.write(row) }
        try output.close()
        let url = output.fileURL(forTable: "t")
        let good = Self.expectedColumns(rows)
        #expect(try ParquetPython.expect(url, columns: good)["rows"] == 40)
        func changing(_ name: String, _ change: (inout (name: String, type: ParquetColumnType, values: [Scalar])) -> Void) -> [(name: String, type: ParquetColumnType, values: [Scalar])] {
            good.map { column in
                var column = column
                if column.name == name { change(&column) }
                return column
            }
        }
        let doubleRow = try #require(good.first { $0.name == "double" }?.values.firstIndex { $0.doubleValue == 0.1 })
        let nanRow = try #require(good.first { $0.name == "double" }?.values.firstIndex { $0.doubleValue?.isNaN == true })
        let wrong: [(String, [(name: String, type: ParquetColumnType, values: [Scalar])], String)] = [
            ("a wrong double", changing("double") { $0.values[doubleRow] = .double(0.2) }, "column 'double' row \(doubleRow)"),
            ("a number for NaN", changing("double") { $0.values[nanRow] = .double(0) }, "column 'double' row \(nanRow)"),
            ("a wrong string", changing("text") { $0.values[0] = "other" }, "column 'text' row 0"),
            ("null for a value", changing("$step") { $0.values[5] = .null }, "column '$step' row 5"),
            ("a wrong type", changing("int") { $0.type = .double }, "column 'int': pyarrow type int64, expected double"),
            ("a row too many", changing("flag") { $0.values.append(.bool(true)) }, "column 'flag': 40 rows, expected 41"),
            ("a renamed column", changing("flag") { $0.name = "flags" }, "columns differ"),
        ]
        for (name, columns, message) in wrong {
            do {
                _ = try ParquetPython.expect(url, columns: columns)
                Issue.record("the checker accepted \(name)")
            } catch {
                #expect("\(error)".contains(message), "\(name): \(error)")
            }
        }
    }

    @Test(arguments: ["plain", "snappy-dictionary", "v2", "v2-plain", "many-pages", "required", "empty"])
    func nokoReadsFilesWrittenByPyarrow(variant: String) throws {
        let directory = temporaryDirectory()
        let file = directory.appendingPathComponent("\(variant).parquet")
        let dump = directory.appendingPathComponent("\(variant).json")
        _ = try ParquetPython.check(["write", file.path, variant, dump.path])
        let expected = try JSONValue(parsing: [UInt8](try Data(contentsOf: dump)))
        let table = try ParquetReader.readTable(at: file)
        let columns = expected["columns"]?.arrayValue ?? []
        #expect(table.columnNames == columns.compactMap { $0["name"]?.stringValue })
        for column in columns {
            let name = column["name"]!.stringValue!
            let values = column["values"]!.arrayValue!.map { json -> Scalar in
                column["type"] == "double" ? (json.scalar.flatMap(\.doubleValue).map(Scalar.double) ?? .null) : json.scalar!
            }
            #expect(table[name]?.map(\.description) == values.map(\.description), "\(variant): column \(name)")
        }
    }

    @Test(arguments: [("zstd", "ZSTD"), ("nested", "nested")])
    func nokoNamesWhatItCannotRead(variant: String, message: String) throws {
        let directory = temporaryDirectory()
        let file = directory.appendingPathComponent("\(variant).parquet")
        _ = try ParquetPython.check(["write", file.path, variant, directory.appendingPathComponent("x.json").path])
        #expect { try ParquetReader.readTable(at: file) } throws: { "\($0)".contains(message) && "\($0)".contains(file.path) }
    }

    @Test func snappyBlocksInterchangeWithPyarrow() throws {
        let directory = temporaryDirectory()
        for kind in ["random", "text", "doubles", "zeros"] {
            let input = SnappyCompressorTests.sample(kind, count: 200_000)
            let ours = directory.appendingPathComponent("\(kind).snappy")
            try Data(input.withUnsafeBytes { SnappyCompressor.compress($0) }).write(to: ours)
            let back = directory.appendingPathComponent("\(kind).back")
            _ = try ParquetPython.check(["snappy-decompress", ours.path, back.path, String(input.count)])
            #expect(try [UInt8](Data(contentsOf: back)) == input)

            let raw = directory.appendingPathComponent("\(kind).raw")
            try Data(input).write(to: raw)
            let theirs = directory.appendingPathComponent("\(kind).pyarrow")
            _ = try ParquetPython.check(["snappy-compress", raw.path, theirs.path])
            let compressed = [UInt8](try Data(contentsOf: theirs))
            #expect(try compressed.withUnsafeBytes { try SnappyDecompressor.decompress($0) } == input)
        }
    }
}
