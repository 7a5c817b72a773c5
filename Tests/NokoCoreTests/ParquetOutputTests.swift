import Foundation
import NokoTestSupport
import Synchronization
import Testing
@testable import NokoCore

@Suite("ParquetOutput")
struct ParquetOutputTests {
    private func rowCount(_ url: URL) throws -> Int { try ParquetReader.readTable(at: url).rowCount }

    @Test func isEnabledByTheEnvironment() {
        #expect(ParquetOutput.isEnabled(environment: ["NOKO_PARQUET": "1"]))
        #expect(ParquetOutput.isEnabled(environment: ["NOKO_PARQUET": "TRUE"]))
        #expect(ParquetOutput.isEnabled(environment: ["NOKO_PARQUET": "yes"]))
        #expect(!ParquetOutput.isEnabled(environment: ["NOKO_PARQUET": "0"]))
        #expect(!ParquetOutput.isEnabled(environment: ["NOKO_PARQUET": ""]))
        #expect(!ParquetOutput.isEnabled(environment: [:]))
    }

    @Test func namesFilesWithTheStemTheLoggerGaveTheTable() throws {
        let directory = temporaryDirectory()
        let output = ParquetOutput(directory: directory, rowGroupInterval: .zero)
        #expect(output.fileURL(forTable: "eval/val").lastPathComponent == "eval%2Fval.parquet")
        let schema = RowSchema(keys: ["x"])
        output.write(
            SummarizedRow(
                table: "Loss", step: 0, level: .info, time: ParquetTestRows.time(0), schema: schema, values: [1],
                fileStem: "Loss~2"))
        try output.close()
        #expect(output.fileURL(forTable: "Loss").lastPathComponent == "Loss~2.parquet")
        #expect(try ParquetReader.readTable(at: directory.appendingPathComponent("Loss~2.parquet"))["x"] == [1])
    }

    @Test func levelDefaultsToTrace() {
        #expect(ParquetOutput(directory: temporaryDirectory()).level == .trace)
    }

    @Test func writesARowGroupInTheBackgroundWhenATableHasEnoughRows() async throws {
        let directory = temporaryDirectory()
        let output = ParquetOutput(directory: directory, rowGroupRows: 4, rowGroupInterval: .seconds(3600))
        let rows = ParquetTestRows()
        for i in 0..<10 { output.write(rows.row(["i": .int(Int64(i))])) }
        let url = output.fileURL(forTable: "t")
        var seen = 0
        for _ in 0..<500 where seen < 8 {
            try await Task.sleep(for: .milliseconds(10))
            seen = (try? rowCount(url)) ?? 0
        }
        #expect(seen == 8)  // two full row groups; the last 2 rows wait
        try output.flush()
        #expect(try rowCount(url) == 8)  // the interval has not passed
        try output.close()
        #expect(try ParquetReader.readTable(at: url)["i"] == (0..<10).map { .int(Int64($0)) })
    }

    @Test func flushWritesRowsOnceTheyAreOldEnough() throws {
        let directory = temporaryDirectory()
        let output = ParquetOutput(directory: directory, rowGroupRows: 1000, rowGroupInterval: .zero)
        let rows = ParquetTestRows()
        output.write(rows.row(["a": 1], table: "one"))
        output.write(rows.row(["b": "x"], table: "two"))
        try output.flush()
        #expect(try rowCount(output.fileURL(forTable: "one")) == 1)
        #expect(try rowCount(output.fileURL(forTable: "two")) == 1)
        output.write(rows.row(["a": 2], table: "one"))
        try output.flush()
        #expect(try ParquetReader.readTable(at: output.fileURL(forTable: "one"))["a"] == [1, 2])
        try output.close()
        output.write(rows.row(["a": 3], table: "one"))  // after close: not delivered
        try output.flush()
        #expect(try ParquetReader.readTable(at: output.fileURL(forTable: "one"))["a"] == [1, 2])
    }

    @Test func closeWritesWaitingRowsAsOneCompactFile() throws {
        let directory = temporaryDirectory()
        let output = ParquetOutput(directory: directory, rowGroupRows: 1000, rowGroupInterval: .zero)
        let rows = ParquetTestRows()
        for i in 0..<30 {
            output.write(rows.row(["i": .int(Int64(i))]))
            if i % 3 == 0 { try output.flush() }
        }
        #expect(try ParquetReader.info(at: output.fileURL(forTable: "t")).rowGroupCount == 10)
        try output.close()
        let info = try ParquetReader.info(at: output.fileURL(forTable: "t"))
        #expect(info.rowGroupCount == 1)
        #expect(info.rowCount == 30)
        #expect(info.ignoredTailBytes == 0)
    }

    @Test func aTableWhoseFileCannotBeOpenedIsSkippedWithOneWarning() throws {
        let directory = temporaryDirectory()
        let (messages, recorded) = recordingMessages()
        let output = ParquetOutput(directory: directory, rowGroupInterval: .zero, messages: messages)
        // A directory where the file should be.
        try FileManager.default.createDirectory(at: output.fileURL(forTable: "blocked"), withIntermediateDirectories: true)
        let rows = ParquetTestRows()
        for i in 0..<3 {
            output.write(rows.row(["a": .int(Int64(i))], table: "blocked"))
            output.write(rows.row(["a": .int(Int64(i))], table: "fine"))
            try output.flush()
        }
        try output.close()
        #expect(try rowCount(output.fileURL(forTable: "fine")) == 3)
        let warnings = recorded.messages().filter { $0.contains("blocked") }
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("cannot write table 'blocked'") == true)
    }

    @Test func aResumedRunAppendsToTheExistingFileAfterRepairingIt() throws {
        let directory = temporaryDirectory()
        let rows = ParquetTestRows()
        let first = ParquetOutput(directory: directory, rowGroupInterval: .zero)
        first.write(rows.row(["a": 1]))
        try first.flush()
        first.write(rows.row(["a": 2]))
        try first.flush()
        // A kill -9 in the middle of the second append: the file ends inside it.
        let url = first.fileURL(forTable: "t")
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: UInt64(size - 20))
        try handle.close()
        #expect(try ParquetReader.readTable(at: url)["a"] == [1])

        let (messages, recorded) = recordingMessages()
        let second = ParquetOutput(directory: directory, rowGroupInterval: .zero, messages: messages)
        second.write(rows.row(["a": 3, "b": true]))
        try second.close()
        let table = try ParquetReader.readTable(at: url)
        #expect(table["a"] == [1, 3])
        #expect(table["b"] == [nil, true])
        #expect(recorded.messages().contains { $0.contains("repaired") })
    }

    @Test func aChildKilledWhileAppendingLeavesAFileTheLoaderReadsAResumeRepairsAndTheJournalRebuilds() throws {
        for attempt in 0..<6 {
            let directory = temporaryDirectory("parquetKill\(attempt)")
            let child = Process()
            child.executableURL = URL(fileURLWithPath: builtProduct("noko-test-child"))
            child.arguments = ["parquet", directory.path]
            let out = Pipe()
            child.standardOutput = out
            try child.run()
            // Let it append row groups for a while (a different while each time), then kill it:
            // after its flusher wrote the file at least once, which on a loaded machine can
            // take longer than logging the target rows.
            var seen = Data()
            let target = 2_000 + 1_500 * attempt
            let file = directory.appendingPathComponent("t.parquet").path
            while true {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                seen.append(chunk)
                let lines = seen.split(separator: UInt8(ascii: "\n"))
                if lines.count >= 2, let last = Int(String(decoding: lines[lines.count - 2].dropFirst(7), as: UTF8.self)),
                    last >= target, FileManager.default.fileExists(atPath: file)
                { break }
            }
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            #expect(child.terminationReason == .uncaughtSignal)

            let url = directory.appendingPathComponent("t.parquet")
            let journal = try LogFileLoader.loadTable("t", fromJournal: directory.appendingPathComponent("noko.ndjson").path)
            // The loader reads every complete row group: a prefix of the journal's rows.
            let result = try ParquetReader.read(at: url)
            let kept = result.table.rowCount
            #expect(kept > 0 && kept <= journal.rowCount)
            #expect(result.table["i"].map(Array.init) == journal["i"].map { Array($0.prefix(kept)) })
            #expect(result.table["$step"].map(Array.init) == journal["$step"].map { Array($0.prefix(kept)) })

            // The next start of the run repairs the file and appends after the last good row.
            let (messages, _) = recordingMessages()
            let resumed = ParquetOutput(directory: directory, rowGroupInterval: .zero, messages: messages)
            resumed.write(ParquetTestRows().row(["i": .int(Int64(kept))], step: kept))
            try resumed.close()
            let after = try ParquetReader.read(at: url)
            #expect(after.info.ignoredTailBytes == 0)
            #expect(after.table["i"]?.last == .int(Int64(kept)))
            #expect(after.table.rowCount == kept + 1)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".rewrite") }
            #expect(leftovers.isEmpty)

            // And the journal rebuilds a complete file (what `noko-run export --format parquet` does).
            let rebuilt = directory.appendingPathComponent("rebuilt.parquet")
            try ParquetExport.write(table: journal, name: "t", to: rebuilt)
            let table = try ParquetReader.readTable(at: rebuilt)
            #expect(table.rowCount == journal.rowCount)
            for name in ["$step", "i", "x", "s"] { #expect(table[name] == journal[name], "\(name)") }
        }
    }

    /// scripts/torture found empty `train.parquet` files after kills: the file was created,
    /// then its first row group written, and pyarrow, pandas and DuckDB refuse an empty file.
    @Test func aCrashAtAnyStepOfATablesFirstRowGroupLeavesNoFileOrACompleteOne() throws {
        let directory = temporaryDirectory()
        let url = directory.appendingPathComponent("t.parquet")
        func clear() throws {
            for name in try FileSystem.contentsOfDirectory(directory.path) {
                try FileSystem.remove(directory.appendingPathComponent(name).path)
            }
        }
        // The same for a file that a crash left without a footer, which a resumed run starts anew.
        for leftover in [nil, Array("PAR1 and half a row group".utf8)] {
            func start() throws {
                try clear()
                if let leftover { try AtomicFile.write(leftover, to: url.path) }
            }
            try start()
            var sawComplete = false
            let steps = try interruptEveryStep(under: directory) {
                let output = ParquetOutput(directory: directory, rowGroupInterval: .zero, messages: recordingMessages().0)
                output.write(ParquetTestRows().row(["a": 1]))
                try output.flush()
            } check: { step in
                let bytes = try FileSystem.readIfPresent(url.path)
                if let bytes, bytes != leftover {
                    let info = try? ParquetReader.info(at: url)
                    #expect(
                        info?.ignoredTailBytes == 0 && info?.rowCount == 1,
                        "step \(step): \(bytes.count) bytes, neither the file before nor a whole one")
                    if info != nil { sawComplete = true }
                }
                try start()
            }
            #expect(steps > 3)
            #expect(sawComplete, "a step between the rename and the end of the append")
        }
    }

    @Test func repairCutsATornTail() throws {
        let url = temporaryDirectory().appendingPathComponent("t.parquet")
        let rows = ParquetTestRows()
        try ParquetExport.write(rows: [rows.row(["a": 1])], table: "t", to: url)
        #expect(try ParquetOutput.repair(file: url) == ParquetRepairResult(outcome: .intact, removedBytes: 0, rowGroups: 1, rows: 1))
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("half of a row group".utf8))
        try handle.close()
        #expect(try ParquetOutput.repair(file: url) == ParquetRepairResult(outcome: .truncated, removedBytes: 19, rowGroups: 1, rows: 1))
        #expect(try ParquetReader.info(at: url).ignoredTailBytes == 0)
        try Data("not parquet".utf8).write(to: url)
        #expect(try ParquetOutput.repair(file: url).outcome == .noValidFooter)
        #expect(try Data(contentsOf: url) == Data("not parquet".utf8))
    }

    @Test func concurrentWritersAndFlushesKeepEveryRowInOrder() async throws {
        let directory = temporaryDirectory()
        let output = ParquetOutput(directory: directory, rowGroupRows: 97, rowGroupInterval: .zero, compactedRowGroupRows: 500)
        let schemas = [RowSchema(keys: ["x"]), RowSchema(keys: ["x", "y"])]
        let steps = Counter()
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    for i in 0..<2500 {
                        // The logger hands rows to outputs under one lock, in step order.
                        steps.withNextStep(table: i % 2 == 0 ? "even" : "odd") { step, table in
                            output.write(
                                SummarizedRow(
                                    table: table, step: step, level: .trace, time: ParquetTestRows.time(step),
                                    schema: schemas[writer % 2], values: writer % 2 == 0 ? [.int(Int64(step))] : [.int(Int64(step)), 0.5]))
                        }
                    }
                }
            }
            group.addTask {
                for _ in 0..<50 {
                    try? output.flush()
                    try? await Task.sleep(for: .milliseconds(2))
                }
            }
        }
        try output.close()
        for table in ["even", "odd"] {
            let loaded = try ParquetReader.readTable(at: output.fileURL(forTable: table))
            #expect(loaded.rowCount == 5000)
            #expect(loaded["$step"] == (0..<5000).map { .int(Int64($0)) })
            #expect(loaded["x"] == loaded["$step"])
        }
    }
}

/// Assigns steps per table under one lock and calls `body` inside it, as the logger does.
private final class Counter: Sendable {
    private let steps = Mutex<[String: Int]>([:])

    func withNextStep(table: String, _ body: (Int, String) -> Void) {
        steps.withLock { steps in
            let step = steps[table, default: 0]
            steps[table] = step + 1
            body(step, table)
        }
    }
}
