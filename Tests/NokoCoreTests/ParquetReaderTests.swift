import Foundation
import NokoPlatform
import NokoTestSupport
import Testing
@testable import NokoCore
import NokoPlatform

@Suite("ParquetReader")
struct ParquetReaderTests {
    /// A file whose footer is `metadata` after `body` (which follows the leading magic).
    private func file(_ metadata: ParquetFileMetaData, body: [UInt8] = []) throws -> URL {
        let url = temporaryDirectory().appendingPathComponent("f.parquet")
        let footer = metadata.encoded()
        var bytes = parquetMagic + body + footer
        bytes += withUnsafeBytes(of: UInt32(footer.count).littleEndian, Array.init) + parquetMagic
        try Data(bytes).write(to: url)
        return url
    }

    @Test func readsSelectedColumnsInTheOrderAsked() throws {
        let url = temporaryDirectory().appendingPathComponent("t.parquet")
        let rows = ParquetTestRows()
        try ParquetExport.write(rows: [rows.row(["a": 1, "b": "x"]), rows.row(["a": 2, "b": nil])], table: "t", to: url)
        let table = try ParquetReader.readTable(at: url, columns: ["b", "$step"])
        #expect(table.columnNames == ["b", "$step"])
        #expect(table["b"] == ["x", nil])
        #expect(table["$step"] == [0, 1])
        #expect(try ParquetReader.readTable(at: url, columns: ["nope", "a"]).columnNames == ["a"])
    }

    @Test func namesTheFileWhenItIsNotParquet() throws {
        let url = temporaryDirectory().appendingPathComponent("x.parquet")
        for contents in ["", "PAR1", "just some text that is long enough", "PAR1 garbage garbage PAR1"] {
            try Data(contents.utf8).write(to: url)
            #expect {
                try ParquetReader.readTable(at: url)
            } throws: { "\($0)".contains(url.path) && "\($0)".contains("not a Parquet file") }
        }
        #expect(throws: NokoSystemError.self) {
            try ParquetReader.readTable(at: url.appendingPathExtension("missing"))
        }
    }

    @Test func rejectsNestedSchemas() throws {
        let url = try file(
            ParquetFileMetaData(
                schema: [
                    ParquetSchemaElement(name: "schema", numChildren: 1),
                    ParquetSchemaElement(repetition: 1, name: "group", numChildren: 1),
                    ParquetSchemaElement(type: 2, repetition: 1, name: "leaf"),
                ], numRows: 0, rowGroups: []))
        #expect { try ParquetReader.readTable(at: url) } throws: { "\($0)".contains("nested") }
    }

    @Test func rejectsCodecsItDoesNotImplement() throws {
        let chunk = ParquetColumnEncoder.encode(
            ParquetColumnData(present: [true], values: .int64s([1])), compression: .none)
        var meta = chunk.metaData(path: "n", at: 4)
        meta.codec = 6
        let url = try file(
            ParquetFileMetaData(
                schema: [ParquetSchemaElement(name: "schema", numChildren: 1), ParquetColumnType.int64.schemaElement(name: "n")],
                numRows: 1,
                rowGroups: [ParquetRowGroup(columns: [ParquetColumnChunk(metaData: meta)], totalByteSize: 10, numRows: 1)]),
            body: chunk.bytes)
        #expect { try ParquetReader.readTable(at: url) } throws: { "\($0)".contains("ZSTD") && "\($0)".contains("'n'") }
    }

    @Test func rejectsAFooterWhoseChunksLieOutsideTheFile() throws {
        let chunk = ParquetColumnEncoder.encode(ParquetColumnData(present: [true], values: .int64s([1])), compression: .none)
        let meta = chunk.metaData(path: "n", at: 1_000_000)
        let url = try file(
            ParquetFileMetaData(
                schema: [ParquetSchemaElement(name: "schema", numChildren: 1), ParquetColumnType.int64.schemaElement(name: "n")],
                numRows: 1,
                rowGroups: [ParquetRowGroup(columns: [ParquetColumnChunk(metaData: meta)], totalByteSize: 10, numRows: 1)]),
            body: chunk.bytes)
        #expect { try ParquetReader.readTable(at: url) } throws: { "\($0)".contains("not a Parquet file") }
    }

    /// An input `make test`'s fuzzing found (fuzz-parquet): the reader threw nothing and
    /// trapped instead; it must throw.
    @Test func aFuzzedFileThatTrappedTheReaderIsRefused() throws {
        let base64 = [
            "UEFSMRUGFTQVNFwVCBUCFQgVABUEFQASHBgIAgAAAAAAAAAYCAEAAAAAAAAAFgIoCAIAAAAAAAAAGAgBAAAAAAAAABERAAAA",
            "AwcBAAAAAAAAAAIAAAAAAAAAAgAAAAAAAAAVBhVEFURcFQgVABUIFQAVBBUAEhwYCAAAAAAAAAhAGAgAAAAAAADgPxYAKAgA",
            "AAAAAAAIQBgIAAAAAAAA4D8REQAAAAgBAAAAAAAA4D8AAAAAAAD4fwAAAAAAAABAAAAAAAAACEAVBhUiFSJcFQgVQhUIFQAV",
            "BBUAEhw2AigBYhgBYRERAAAAAwcBAAAAYQEAAABiAQAAAGEVBhUQFRBcFQgVAhUIFQYVBBUAEhwYAQEYAQAWAigBARgBABER",
            "AAAAAwsCAAAAAwUVBBlcNQAYBnNjaGVtYRUIABUEJQIYAWkAFQolAhgBeAAVDCUCGAFzJQBMHAAAABUAJQIYAWIAFggZHBlM",
            "JgAcFQQZJQYAGRgBaRUAFggWvAEWvAEmCDwYCAIAAAAAAAAAGAgBAAAAAAAAABYCKAgCAAAAAAAAABgIAQAAAAAAAAAREQAZ",
            "HBUAFQAVAgA8KQYZJgIGAAAAJgAcFQoZJQYAGRgBeBUAFggWzAEWzAEmxAE8GAgAAAAAAAAIQBgIAAAAAAAA4D8WACgIAAAA",
            "AAAACEAYCAAAAAAAAOA/EREAGRwVABUAFQIAPCkGGSYACAAAACYAHBUMGSUGABkYAXMVABYIFmYWZiaQAzw2AigBYhgBYRER",
            "ABkcFQAVABUCADwWBhkGGSYCBgAAACYAHBUAGRUGGRgBYhUAFggWYBZgJvYDPBgBARgBABYCKAEBGAEAEREAGRwVABUGFQIA",
            "PCkGGSYCBgAAABbOBBYIJggWzgQAGRwYDEFSUk9XOHNjaGVtYRjgAi8vLy8vd0FCQUFBUUFBQUFBQUFLQUF3QUJnQUZBQWdB",
            "Q2dBQUFBQUJCQUFNQUFBQUNJQUlBQUFBQkFBSUFBQUFCQUFBQUFRQUFBQ1lBQUFBV0FBQUFDd0FBQUFFQUFBQWlQLy8vd0FB",
            "QVFZUUFBQUFGQUFBQUFRQSVBQUFBQUFBQVFBQUFHSUFBQURjLy8vL3JQLy8vd0FBQVFVUUFBQUFHQUFBQUFRQUFBQUFBQUFB",
            "QVFBQUFITUFBQUFFQUFRQUJBQUFBTlQvLy84QUFBRURFQUFBQUJnQUFBQUVBQUFBQUFBQUFBRUFBQUI0QUFZQUNBQUdBQVlB",
            "QUFBQUFBSUFFQUFVQUFnQUJnQUhBQXdBQUFBUUFCQUFBQUFBv766w0VBQUFBQndBQUFBRUFBQUFBQUFBQUFFQUFBQnBBQUFB",
            "Q0FBTUFBZ0FCd0FJQUFBQUFBQUFBVUFBQUFBQUFBQUEAGCBwYXJxdWV0LWNwcC1hcnJvdyB2ZXJzaW9uIDI1LjAuMRlMHAAA",
            "HAAAHAAAHAAAABcDAABQQVIx",
        ].joined()
        let url = temporaryDirectory().appendingPathComponent("fuzzed.parquet")
        try Data(base64Encoded: base64)!.write(to: url)
        #expect(throws: (any Error).self) { try ParquetReader.read(at: url) }
        _ = try? ParquetReader.info(at: url)
    }

    @Test func reportsCorruptPagesWithTheColumnName() throws {
        let url = temporaryDirectory().appendingPathComponent("t.parquet")
        try ParquetExport.write(
            rows: (0..<100).map { i in ParquetTestRows().row(["x": .double(Double(i)), "y": .double(Double(i) / 2)]) }, table: "t",
            to: url, compression: .snappy)
        var bytes = try Data(contentsOf: url)
        #expect(try ParquetReader.info(at: url).rowCount == 100)
        // Damage the pages of column `x` only (the footer stays valid, so the reader gets to them).
        let footer = try {
            let file = try FileDescriptor.open(url.path, .read)
            defer { file.closeIgnoringErrors() }
            return try ParquetReader.footer(of: file)
        }()
        let chunk = try #require(footer.metadata.rowGroups.first?.columns.compactMap(\.metaData).first { $0.pathInSchema == ["x"] })
        for i in Int(chunk.chunkRange.lowerBound)..<Int(chunk.chunkRange.upperBound) { bytes[i] ^= 0x5A }
        try bytes.write(to: url)
        #expect { try ParquetReader.readTable(at: url) } throws: { error in
            error is ParquetError && "\(error)".contains("column 'x'") && "\(error)".contains(url.path)
        }
        // The undamaged columns still read.
        #expect(try ParquetReader.readTable(at: url, columns: ["y"])["y"]?.last == .double(49.5))
    }
}
