import Foundation
import NokoTestSupport
import Logging
import Testing

@testable import NokoCore

@Suite struct LoaderTests {
    private func journal(_ text: String) throws -> URL {
        let url = temporaryDirectory().appendingPathComponent("noko.ndjson")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test func journalColumnsAreKeyedByTable() throws {
        let url = try journal(
            """
            {"$table":"a","$step":0,"x":1,"nan":"NaN"}
            {"$table":"b","$step":0,"x":"s","y":true}
            {"$table":"a","$step":1,"x":2.5,"inf":"-Infinity"}

            """)
        let table = try LogFileLoader.load(url.path)
        #expect(table.rowCount == 3)
        #expect(table["$table"] == ["a", "b", "a"])
        #expect(table["a.x"] == [1, nil, 2.5])
        #expect(table["b.x"] == [nil, "s", nil])
        #expect(table["b.y"] == [nil, true, nil])
        #expect(table["a.$step"] == [0, nil, 1])
        #expect(table["a.nan"]?[0].doubleValue?.isNaN == true, "the journal's NaN string reads back as a double")
        #expect(table["a.inf"]?[2] == .double(-.infinity))
        let filtered = try LogFileLoader.load(url.path, keys: ["a.x"])
        #expect(filtered.columnNames == ["a.x"])
    }

    @Test func aTornLastLineIsSkippedWithAWarning() throws {
        let url = try journal("{\"$table\":\"a\",\"x\":1}\n{\"$table\":\"a\",\"x\":2}\n{\"$table\":\"a\",\"x\":")
        let (messages, handler) = recordingMessages()
        let table = try LogFileLoader.load(url.path, messages: messages)
        #expect(table["a.x"] == [1, 2])
        let warnings = handler.messages(atLeast: .warning)
        #expect(warnings.count == 1)
        #expect(warnings[0].contains(url.path) && warnings[0].contains("incomplete"))
    }

    @Test func aMalformedLineIsAnErrorNamingFileAndLine() throws {
        let url = try journal("{\"$table\":\"a\",\"x\":1}\nnot json\n{\"$table\":\"a\"}\n")
        #expect {
            try LogFileLoader.load(url.path)
        } throws: { error in
            let e = error as? LogFileError
            return e?.line == 2 && e?.path == url.path && "\(error)".contains("\(url.path):2:")
        }
        let noTable = try journal("{\"x\":1}\n")
        #expect(throws: LogFileError.self) { try LogFileLoader.load(noTable.path) }
    }

    @Test func csvFilesFromPythonNokoLoad() throws {
        // What Python's csv module writes: CRLF line ends, True/False, nan/inf.
        let url = temporaryDirectory().appendingPathComponent("train.csv")
        try "$step,flag,loss,name\r\n0,True,0.5,\"a,b\"\r\n1,False,nan,c\r\n2,,inf,\r\n".write(to: url, atomically: true, encoding: .utf8)
        let table = try LogFileLoader.load(url.path)
        #expect(table.columnNames == ["$step", "flag", "loss", "name"])
        #expect(table["$step"] == [0, 1, 2])
        #expect(table["flag"] == [true, false, nil])
        #expect(table["loss"]?[1].doubleValue?.isNaN == true)
        #expect(table["loss"]?[2] == .double(.infinity))
        #expect(table["name"] == ["a,b", "c", nil])
    }

    @Test func aCSVRowWithTooManyCellsIsAnError() throws {
        let url = temporaryDirectory().appendingPathComponent("bad.csv")
        try "a,b\n1,2\n1,2,3\n".write(to: url, atomically: true, encoding: .utf8)
        #expect { try LogFileLoader.load(url.path) } throws: { ($0 as? LogFileError)?.line == 3 }
    }

    @Test func unknownFileTypesAreRefused() throws {
        #expect(throws: LogFileError.self) { try LogFileLoader.load("/tmp/x.txt") }
        #expect(throws: NokoSystemError.self) { try LogFileLoader.load("/nonexistent/noko.ndjson") }
    }

    @Test func loadTableReadsOneTableWithPlainKeys() throws {
        let url = try journal("{\"$table\":\"a\",\"$step\":0,\"x\":1}\n{\"$table\":\"b\",\"$step\":0,\"y\":1}\n{\"$table\":\"a\",\"$step\":1,\"x\":2}\n")
        let table = try LogFileLoader.loadTable("a", fromJournal: url.path)
        #expect(table["x"] == [1, 2])
        #expect(table["$step"] == [0, 1])
        #expect(table["y"] == nil)
    }

    @Test func longLinesAndSmallChunksStream() throws {
        let wide = (0..<3000).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        let url = try journal((0..<20).map { _ in "{\"$table\":\"w\",\(wide)}\n" }.joined())
        let reader = LineReader(path: url.path, bufferSize: 64)
        var count = 0
        let torn = try reader.forEachLine { _ in
            count += 1
            return true
        }
        reader.close()
        #expect(count == 20 && torn == 0)
        #expect(try LogFileLoader.load(url.path)["w.k2999"]?.count == 20)
    }

    @Test func journalScanResumesFromAnOffset() throws {
        let url = try journal("{\"$table\":\"a\",\"i\":0}\n{\"$table\":\"a\",\"i\":1}\n{\"$table\":\"a\",\"i\":2}\n")
        var offsets: [UInt64] = []
        let end = try JournalScanner.forEachRecord(url.path) { record in
            offsets.append(record.endOffset)
            return record.line < 2
        }
        #expect(end == offsets[1])
        var rest: [Scalar] = []
        try JournalScanner.forEachRecord(url.path, from: end) { rest.append($0["i"]!); return true }
        #expect(rest == [2])
    }
}
