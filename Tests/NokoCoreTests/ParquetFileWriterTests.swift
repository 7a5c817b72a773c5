import Foundation
import NokoTestSupport
import Logging
import Testing
@testable import NokoCore
import NokoPlatform

@Suite("ParquetFileWriter")
struct ParquetFileWriterTests {
    private func options(_ logger: Logger? = nil, compacted: Int = 131_072) -> ParquetFileWriter.Options {
        ParquetFileWriter.Options(
            compression: .snappy, footerAfterEveryRowGroup: true, compactedRowGroupRows: compacted, table: "t",
            warn: { logger?.warning("\($0)") })
    }

    private func read(_ path: String) throws -> LogTable {
        try ParquetReader.readTable(at: URL(fileURLWithPath: path))
    }

    @Test func everyAppendLeavesACompleteFile() throws {
        let path = temporaryDirectory().appendingPathComponent("t.parquet").path
        let rows = ParquetTestRows()
        let writer = try ParquetFileWriter(creating: path, options: options())
        for batch in 0..<5 {
            try writer.append(ParquetBatchBuilder.build(rows: (0..<3).map { i in rows.row(["x": .int(Int64(batch * 3 + i))]) }))
            let table = try read(path)
            #expect(table.rowCount == (batch + 1) * 3)
            #expect(table["x"] == (0..<((batch + 1) * 3)).map { .int(Int64($0)) })
            #expect(table["$step"] == (0..<((batch + 1) * 3)).map { .int(Int64($0)) })
            #expect(try ParquetReader.info(at: URL(fileURLWithPath: path)).rowGroupCount == batch + 1)
        }
        try writer.finish()
        let info = try ParquetReader.info(at: URL(fileURLWithPath: path))
        #expect(info.rowGroupCount == 1)  // compacted at finish
        #expect(info.keyValueMetadata["noko.table"] == "t")
        #expect(info.columns.map(\.name) == ["$step", "$level", "$utc_timestamp", "$localtime", "x"])
    }

    @Test func aKeyAppearingLaterIsNullInEarlierRows() throws {
        let path = temporaryDirectory().appendingPathComponent("t.parquet").path
        let rows = ParquetTestRows()
        let writer = try ParquetFileWriter(creating: path, options: options())
        try writer.append(ParquetBatchBuilder.build(rows: [rows.row(["a": 1]), rows.row(["a": 2])]))
        try writer.append(ParquetBatchBuilder.build(rows: [rows.row(["a": 3, "late": "x"])]))
        try writer.append(ParquetBatchBuilder.build(rows: [rows.row(["later": true])]))
        let table = try read(path)
        #expect(table["a"] == [1, 2, 3, nil])
        #expect(table["late"] == [nil, nil, "x", nil])
        #expect(table["later"] == [nil, nil, nil, true])
        // Schema growth appends null chunks; it does not rewrite (which would merge row groups).
        #expect(try ParquetReader.info(at: URL(fileURLWithPath: path)).rowGroupCount == 3)
    }

    @Test func anAllNullColumnTakesItsFirstValuesTypeWithoutARewrite() throws {
        let path = temporaryDirectory().appendingPathComponent("t.parquet").path
        let rows = ParquetTestRows()
        let (messages, recorded) = recordingMessages()
        let writer = try ParquetFileWriter(creating: path, options: options(messages))
        try writer.append(ParquetBatchBuilder.build(rows: [rows.row(["m": nil])]))
        #expect(try ParquetReader.info(at: URL(fileURLWithPath: path)).columns.last?.type == .double)
        try writer.append(ParquetBatchBuilder.build(rows: [rows.row(["m": "text"])]))
        let info = try ParquetReader.info(at: URL(fileURLWithPath: path))
        #expect(info.columns.last?.type == .string)
        #expect(info.rowGroupCount == 2)
        #expect(try read(path)["m"] == [nil, "text"])
        #expect(recorded.messages().isEmpty)
    }

    @Test func typeChangesWidenTheWholeColumnWithOneWarningEach() throws {
        let path = temporaryDirectory().appendingPathComponent("t.parquet").path
        let rows = ParquetTestRows()
        let (messages, recorded) = recordingMessages()
        let writer = try ParquetFileWriter(creating: path, options: options(messages))
        try writer.append(ParquetBatchBuilder.build(rows: [rows.row(["v": true]), rows.row(["v": 7])]))
        #expect(try read(path)["v"] == [1, 7])
        try writer.append(ParquetBatchBuilder.build(rows: [rows.row(["v": 0.5])]))
        #expect(try read(path)["v"] == [1.0, 7.0, 0.5])
        try writer.append(ParquetBatchBuilder.build(rows: [rows.row(["v": 2])]))  // int again: no new warning
        try writer.append(ParquetBatchBuilder.build(rows: [rows.row(["v": "high"]), rows.row(["v": .double(.nan)])]))
        #expect(try read(path)["v"] == ["1.0", "7.0", "0.5", "2.0", "high", "NaN"])
        let warnings = recorded.messages()
        #expect(warnings.count == 3)
        #expect(warnings[0].contains("'v'") && warnings[0].contains("boolean, int64") && warnings[0].contains("is int64"))
        #expect(warnings[1].contains("is double"))
        #expect(warnings[2].contains("is string") && warnings[2].contains("text"))
        try writer.finish()
        #expect(try read(path)["v"] == ["1.0", "7.0", "0.5", "2.0", "high", "NaN"])
    }

    @Test func compactionMergesSmallRowGroupsAndDropsDeadFooters() throws {
        var random = SeededRandom()
        let path = temporaryDirectory().appendingPathComponent("t.parquet").path
        let rows = ParquetTestRows()
        let writer = try ParquetFileWriter(creating: path, options: options(compacted: 25))
        for _ in 0..<20 {
            try writer.append(
                ParquetBatchBuilder.build(rows: (0..<5).map { _ in rows.row(["x": .double(.random(in: 0..<1, using: &random)), "s": "same"]) }))
        }
        let before = try ParquetReader.readTable(at: URL(fileURLWithPath: path))
        let sizeBefore = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        try writer.compact()
        let info = try ParquetReader.info(at: URL(fileURLWithPath: path))
        #expect(info.rowGroupCount == 4)
        #expect(info.rowCount == 100)
        let after = try ParquetReader.readTable(at: URL(fileURLWithPath: path))
        #expect(after.columnNames == before.columnNames)
        for name in after.columnNames { #expect(after[name] == before[name]) }
        let sizeAfter = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        #expect(sizeAfter * 2 < sizeBefore)
        // Appending goes on after a compaction.
        try writer.append(ParquetBatchBuilder.build(rows: [rows.row(["x": 1.5])]))
        #expect(try read(path)["x"]?.last == 1.5)
    }

    @Test func compactionIsDueWhenDeadFootersOutweighTheData() throws {
        let path = temporaryDirectory().appendingPathComponent("t.parquet").path
        let rows = ParquetTestRows()
        var options = options()
        options.minimumDeadBytes = 16 << 10
        options.minimumGrowthBytes = 1 << 40
        let writer = try ParquetFileWriter(creating: path, options: options)
        // Slow logging: one row per append, so superseded footers soon outweigh the rows.
        var appends = 0
        while !writer.compactionIsDue {
            try writer.append(ParquetBatchBuilder.build(rows: [rows.row(["x": .double(Double(appends))])]))
            appends += 1
        }
        #expect(writer.deadBytes >= 16 << 10)
        #expect(writer.deadBytes * 2 >= writer.end)
        #expect(appends > 10)
        try writer.compact()
        #expect(writer.deadBytes == 0)
        #expect(!writer.compactionIsDue)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        #expect(Int64(size) == writer.end)
        #expect(try read(path).rowCount == appends)
    }

    @Test func compactionIsDueWhenTheFileDoubled() throws {
        var random = SeededRandom()
        let path = temporaryDirectory().appendingPathComponent("t.parquet").path
        let rows = ParquetTestRows()
        var options = options()
        options.minimumGrowthBytes = 64 << 10
        let writer = try ParquetFileWriter(creating: path, options: options)
        var sizes: [Int64] = []
        for _ in 0..<60 {
            try writer.append(
                ParquetBatchBuilder.build(rows: (0..<200).map { _ in rows.row(["x": .double(.random(in: 0..<1, using: &random))]) }))
            if writer.compactionIsDue {
                sizes.append(writer.end)
                try writer.compact()
            }
        }
        // Fast logging: compactions happen as the file doubles, not at every append.
        #expect(sizes.count >= 3 && sizes.count <= 6)
        for (earlier, later) in zip(sizes, sizes.dropFirst()) { #expect(later >= earlier * 3 / 2) }
        #expect(try read(path).rowCount == 12_000)
    }

    @Test func closingLeavesFullRowGroupsAloneAndMergesSmallOnes() throws {
        var random = SeededRandom()
        let directory = temporaryDirectory()
        let rows = ParquetTestRows()
        for (name, batchRows, expectedGroups) in [("full", 1000, 4), ("small", 10, 1)] {
            let path = directory.appendingPathComponent("\(name).parquet").path
            let writer = try ParquetFileWriter(creating: path, options: options(compacted: 4000))
            for _ in 0..<4 {
                try writer.append(
                    ParquetBatchBuilder.build(rows: (0..<batchRows).map { _ in rows.row(["x": .double(.random(in: 0..<1, using: &random))]) }))
            }
            #expect(writer.isUntidy == (expectedGroups == 1), "\(name)")
            try writer.finish()
            #expect(try ParquetReader.info(at: URL(fileURLWithPath: path)).rowGroupCount == expectedGroups, "\(name)")
        }
    }

    @Test func aTornAppendLosesOnlyThatRowGroup() throws {
        let directory = temporaryDirectory()
        let path = directory.appendingPathComponent("t.parquet").path
        let rows = ParquetTestRows()
        let writer = try ParquetFileWriter(creating: path, options: options())
        try writer.append(ParquetBatchBuilder.build(rows: [rows.row(["a": 1]), rows.row(["a": 2])]))
        let firstEnd = writer.end
        try writer.append(ParquetBatchBuilder.build(rows: [rows.row(["a": 3, "b": "new"])]))
        try writer.finish(compactIfWorthwhile: false)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        // Every prefix a crash in the second append could leave behind.
        for cut in Int(firstEnd)..<whole.count {
            let torn = directory.appendingPathComponent("torn.parquet")
            try whole.prefix(cut).write(to: torn)
            let result = try ParquetReader.read(at: torn)
            #expect(result.table["a"] == [1, 2], "cut at \(cut)")
            #expect(result.info.ignoredTailBytes == Int64(cut) - firstEnd)
        }
        #expect(try read(path)["b"] == [nil, nil, "new"])
    }

    @Test func resumingRepairsATornTailAndAppendsAfterIt() throws {
        let path = temporaryDirectory().appendingPathComponent("t.parquet").path
        let rows = ParquetTestRows()
        let writer = try ParquetFileWriter(creating: path, options: options())
        try writer.append(ParquetBatchBuilder.build(rows: [rows.row(["a": 1])]))
        let validEnd = writer.end
        try writer.append(ParquetBatchBuilder.build(rows: [rows.row(["a": 2])]))
        try writer.finish(compactIfWorthwhile: false)
        let handle = try FileDescriptor.open(path, .update)
        try handle.truncate(to: UInt64(writer.end - 5))
        try handle.close()

        let (messages, recorded) = recordingMessages()
        let resumed = try ParquetFileWriter(resuming: path, options: options(messages))
        #expect(resumed.end == validEnd)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == Int(validEnd))
        #expect(recorded.messages().count == 1 && recorded.messages()[0].contains("repaired"))
        try resumed.append(ParquetBatchBuilder.build(rows: [rows.row(["a": 3, "c": 0.5])]))
        try resumed.finish()
        let table = try read(path)
        #expect(table["a"] == [1, 3])
        #expect(table["c"] == [nil, 0.5])
        #expect(try ParquetReader.info(at: URL(fileURLWithPath: path)).ignoredTailBytes == 0)
    }

    @Test func resumingAFileWithoutAFooterStartsItAnew() throws {
        let path = temporaryDirectory().appendingPathComponent("t.parquet").path
        try Data("PAR1 half a row group".utf8).write(to: URL(fileURLWithPath: path))
        let (messages, recorded) = recordingMessages()
        let writer = try ParquetFileWriter(resuming: path, options: options(messages))
        #expect(recorded.messages().count == 1 && recorded.messages()[0].contains("no complete footer"))
        try writer.append(ParquetBatchBuilder.build(rows: [ParquetTestRows().row(["a": 1])]))
        #expect(try read(path)["a"] == [1])
    }

    @Test func resumingAFileWithAForeignSchemaIsAnError() throws {
        let path = temporaryDirectory().appendingPathComponent("t.parquet").path
        let footer = ParquetFileMetaData(
            schema: [
                ParquetSchemaElement(name: "schema", numChildren: 1),
                ParquetSchemaElement(type: ParquetPhysicalType.int32.rawValue, repetition: 0, name: "n"),
            ], numRows: 0, rowGroups: []
        ).encoded()
        var bytes = parquetMagic + footer
        bytes += withUnsafeBytes(of: UInt32(footer.count).littleEndian, Array.init) + parquetMagic
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try ParquetFileWriter(resuming: path, options: options())
        } throws: { error in
            "\(error)".contains("column 'n'") && "\(error)".contains("move the file away")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(bytes))
    }

    @Test func reservedKeysAreLeftOutWithAWarning() throws {
        let path = temporaryDirectory().appendingPathComponent("t.parquet").path
        let (messages, recorded) = recordingMessages()
        let rows = ParquetTestRows()
        let writer = try ParquetFileWriter(creating: path, options: options(messages))
        try writer.append(ParquetBatchBuilder.build(rows: [rows.row(["$step": 99, "ok": 1]), rows.row(["$step": 98, "ok": 2])]))
        try writer.append(ParquetBatchBuilder.build(rows: [rows.row(["$step": 97, "ok": 3])]))
        let table = try read(path)
        #expect(table["$step"] == [0, 1, 2])
        #expect(table["ok"] == [1, 2, 3])
        #expect(recorded.messages().count == 1 && recorded.messages()[0].contains("'$step'"))
    }

    @Test func aLeftoverScratchFileIsRemovedWhenTheFileIsOpened() throws {
        let directory = temporaryDirectory()
        let path = directory.appendingPathComponent("t.parquet").path
        let writer = try ParquetFileWriter(creating: path, options: options())
        try writer.append(ParquetBatchBuilder.build(rows: [ParquetTestRows().row(["a": 1])]))
        try writer.finish()
        // The atomic writer's temporary file of a process that no longer exists.
        let scratch = directory.appendingPathComponent(".t.parquet.tmp-2147483646-0").path
        _ = FileManager.default.createFile(atPath: scratch, contents: Data("half a rewrite".utf8))
        _ = try ParquetFileWriter(resuming: path, options: options())
        #expect(!FileManager.default.fileExists(atPath: scratch))
    }
}
