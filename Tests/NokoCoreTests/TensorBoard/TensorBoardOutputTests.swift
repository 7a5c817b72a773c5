import Foundation
import NokoTestSupport
import Logging
import Testing

@testable import NokoCore

private typealias Support = TensorBoardTestSupport

@Suite struct TensorBoardOutputTests {
    private func makeOutput(
        _ directory: URL, messages: Logging.Logger = recordingMessages().0, time: Double = 1_700_000_000.75
    ) throws -> TensorBoardOutput {
        try TensorBoardOutput(
            directory: directory, messages: messages, hostName: "testhost", processID: 4242, clock: { time })
    }

    private func records(_ output: TensorBoardOutput) throws -> [TFRecordReader.Record] {
        try TFRecordReader.records(in: Array(try Data(contentsOf: output.fileURL)))
    }

    // MARK: After a crash

    @Test func aResumedRunsOutputWritesTheRowsTheEventFilesOfEarlierProcessesLack() throws {
        let directory = temporaryDirectory()
        let rows = (0..<5).map { Support.row("t", step: $0, time: 1_700_000_000 + Double($0), [("x", .double(Double($0)))]) }
        let words = Support.row("t", step: 9, time: 1_700_000_009, [("s", .string("no number: no event"))])
        let first = try makeOutput(directory)
        try first.writeHyperparameters([("lr", 0.1)])
        for row in rows.prefix(3) { try first.write(row) }
        try first.flush()
        // Killed with rows 3 and 4 still held, in the middle of appending a record.
        try first.write(rows[3])
        try first.flush()
        let size = try FileManager.default.attributesOfItem(atPath: first.fileURL.path)[.size] as! Int
        let handle = try FileHandle(forWritingTo: first.fileURL)
        try handle.truncate(atOffset: UInt64(size - 3))
        try handle.close()
        #expect(try TensorBoardEventCount.scalarEvents(inFile: first.fileURL.path) == 3, "a torn record is no event")

        let second = try makeOutput(directory, time: 1_700_000_100)
        let isMissing = try second.rowsMissingFromFiles()
        #expect(try rows.map(isMissing) == [false, false, false, true, true])
        #expect(try !isMissing(words), "a row without a number makes no event")
    }

    // MARK: The file

    @Test func fileNameHasTimeHostPidAndACounter() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try makeOutput(directory)
        let second = try makeOutput(directory)
        defer {
            try? first.close()
            try? second.close()
        }
        let pattern = /events\.out\.tfevents\.1700000000\.testhost\.4242\.(\d+)/
        let firstMatch = try #require(first.fileURL.lastPathComponent.wholeMatch(of: pattern))
        let secondMatch = try #require(second.fileURL.lastPathComponent.wholeMatch(of: pattern))
        #expect(firstMatch.1 != secondMatch.1)
        #expect(first.fileURL.deletingLastPathComponent().standardizedFileURL.path == directory.standardizedFileURL.path)
        #expect(first.name == "tensorboard")
        #expect(first.level == .info)
    }

    @Test func defaultsNameTheRealHostAndProcess() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try TensorBoardOutput(directory: directory, messages: recordingMessages().0)
        defer { try? output.close() }
        // events.out.tfevents.<seconds>.<host>.<pid>.<n>, the host as `uname -n` names it
        // (it may hold dots itself).
        let host = try run("/bin/uname", ["-n"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!host.isEmpty)
        let name = output.fileURL.lastPathComponent
        let pid = ProcessInfo.processInfo.processIdentifier
        let match = try #require(name.wholeMatch(of: /events\.out\.tfevents\.(\d+)\.(.+)\.(\d+)\.(\d+)/), "\(name)")
        #expect(String(match.2) == host.replacingOccurrences(of: "/", with: "_"))
        #expect(Int32(match.3) == pid)
        let seconds = try #require(Double(String(match.1)))
        #expect(abs(seconds - Date().timeIntervalSince1970) < 600)
    }

    @Test func theFileStartsWithTheVersionEventAndIsCreatedInAMissingDirectory() throws {
        let parent = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: parent) }
        let output = try makeOutput(parent.appendingPathComponent("run/nested"), time: 1_700_000_000.25)
        defer { try? output.close() }
        let found = try records(output)
        #expect(found.count == 1)
        var expected = ProtobufWriter()
        TensorBoardEvents.writeFileVersionEvent(wallTime: 1_700_000_000.25, to: &expected)
        #expect(found.first?.payload == expected.bytes)
    }

    @Test func aDirectoryThatCannotBeMadeIsAnError() throws {
        let parent = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: parent) }
        let blocker = parent.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: blocker)
        #expect(throws: (any Error).self) { try makeOutput(blocker.appendingPathComponent("run")) }
    }

    // MARK: Buffering (a view of the journal)

    @Test func rowsReachTheFileAtFlushAsWholeRecords() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try makeOutput(directory)
        for step in 0..<10 { try output.write(Support.row("train", step: step, time: 1, [("x", .int(Int64(step)))])) }
        #expect(try records(output).count == 1, "write() must only buffer")
        try output.flush()
        #expect(try records(output).count == 11)
        try output.write(Support.row("train", step: 10, time: 1, [("label", "only text")]))
        try output.flush()
        #expect(try records(output).count == 11, "a row with no number gives no event")
        try output.close()
    }

    @Test func tooManyPendingRowsAreWrittenWithoutWaitingForFlush() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try makeOutput(directory)
        defer { try? output.close() }
        let schema = RowSchema(keys: ["x"])
        for step in 0..<TensorBoardOutput.maxPendingRows {
            try output.write(Support.row("t", step: step, time: 1, [("x", 1)], schema: schema))
        }
        #expect(try records(output).count == 1 + TensorBoardOutput.maxPendingRows)
    }

    @Test func tooManyPendingValuesAreWrittenWithoutWaitingForFlush() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try makeOutput(directory)
        defer { try? output.close() }
        let width = 4096
        let schema = RowSchema(keys: (0..<width).map { "k\($0)" })
        let values = [Scalar](repeating: 1, count: width)
        let rowsToBound = TensorBoardOutput.maxPendingValues / width
        for step in 0..<rowsToBound {
            try output.write(
                SummarizedRow(
                    table: "wide", step: step, level: .info, time: RowTime(utcTimestamp: 1, localTime: ""),
                    schema: schema, values: values))
        }
        #expect(try records(output).count == 1 + rowsToBound)
    }

    @Test func closeFlushesAndLaterRowsAreRefused() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try makeOutput(directory)
        try output.write(Support.row("t", step: 0, time: 1, [("x", 1)]))
        try output.close()
        #expect(try records(output).count == 2)
        #expect(throws: TensorBoardOutputError.self) { try output.write(Support.row("t", step: 1, time: 1, [("x", 1)])) }
        #expect(throws: TensorBoardOutputError.self) { try output.writeHyperparameters([("lr", 0.1)]) }
        try output.close()
        try output.flush()
        #expect(try records(output).count == 2)
    }

    @Test func concurrentWritesAndFlushesKeepEveryRowInOrder() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try makeOutput(directory)
        let rowCount = 20_000
        // One writer (the logger serializes writes) against a flusher running all the while.
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                let schema = RowSchema(keys: ["i"])
                for step in 0..<rowCount {
                    try? output.write(Support.row("t", step: step, time: 1, [("i", .int(Int64(step)))], schema: schema))
                }
            }
            group.addTask {
                for _ in 0..<200 {
                    try? output.flush()
                    await Task.yield()
                }
            }
        }
        try output.close()
        var encoder = ScalarEventEncoder()
        let found = try records(output)
        #expect(found.count == rowCount + 1)
        for step in [0, 1, rowCount / 2, rowCount - 1] {
            var one = TFRecordWriter()
            encoder.appendEvent(for: Support.row("t", step: step, time: 1, [("i", .int(Int64(step)))]), to: &one)
            #expect(found[step + 1].payload == (try TFRecordReader.records(in: one.bytes)[0].payload))
        }
    }

    @Test func overflowingValuesAreWrittenAndWarnedAboutOnce() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (messages, recorded) = recordingMessages()
        let output = try makeOutput(directory, messages: messages)
        for step in 0..<3 { try output.write(Support.row("t", step: step, time: 1, [("huge", 1e300), ("fine", 1)])) }
        try output.close()
        #expect(try records(output).count == 4)
        let warnings = recorded.messages(atLeast: .warning)
        #expect(warnings.count == 1)
        #expect(warnings.first?.hasPrefix("tensorboard: key 'huge' of table 't' is 1e+300") == true)
    }

    // MARK: Read back by TensorBoard

    @Test(.enabled(if: Support.pythonCheckAvailable, Support.skipReason))
    func tensorBoardReadsEveryTagStepWallTimeAndValue() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try makeOutput(directory)
        var expected = Support.ExpectedScalars()
        var rows: [SummarizedRow] = []
        let trainSchema = RowSchema(keys: ["loss", "acc:top1", "epoch", "done", "phase", "note", "lr"])
        for step in 0..<50 {
            let time = 1_700_000_000.0 + Double(step) * 0.123_456_789
            rows.append(
                Support.row(
                    "train", step: step, time: time,
                    [
                        ("loss", .double(1 / Double(step + 1))), ("acc:top1", .double(Double(step) / 50)),
                        ("epoch", .int(Int64(step / 10))), ("done", .bool(step % 2 == 0)), ("phase", "train"),
                        ("note", nil), ("lr", .double(0.1 * pow(0.5, Double(step)))),
                    ], schema: trainSchema))
            if step % 10 == 9 {
                // Another table with its own steps, one of them going backwards.
                rows.append(
                    Support.row(
                        "eval:test", step: step % 20 == 19 ? 3 : step, time: time + 0.05,
                        [("score", .double(Double(step) * 1.5)), ("big", .int(16_777_217))]))
            }
        }
        rows.append(
            Support.row(
                "odd", step: 1_000_000_000_000, time: 1_700_000_999.5,
                [("nan", .double(.nan)), ("inf", .double(.infinity)), ("-inf", .double(-.infinity)), ("zero", 0.0), ("neg", -2)]))
        rows.append(Support.row("odd", step: -5, time: 1_700_001_000.5, [("nan", 1), ("zero", -0.0)]))
        rows.append(Support.row("text only", step: 0, time: 1_700_001_001, [("s", "x"), ("n", nil)]))
        for (index, row) in rows.enumerated() {
            try output.write(row)
            expected.add(row)
            if index % 7 == 0 { try output.flush() }
        }
        try output.close()
        #expect(expected.events.keys.contains("eval_test/score"))
        #expect(expected.events["train/acc_top1"]?.count == 50)

        let result = try Support.check(directory: directory, expected: Support.expectation(scalars: expected))
        #expect(result.status == 0, "\(result.output)")
    }

    @Test(.enabled(if: Support.pythonCheckAvailable, Support.skipReason))
    func throughTheLoggerEveryRowAtInfoAndAboveArrives() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (messages, _) = recordingMessages()
        let tensorBoard = try TensorBoardOutput(directory: directory, messages: messages)
        // Records what the logger hands an INFO output: the rows TensorBoard must hold.
        let delivered = InMemoryOutput(level: .info)
        let logger = NokoLogger(
            directory: directory, outputs: [tensorBoard, delivered], flushInterval: .milliseconds(5),
            messages: messages, clock: .stepping(from: 1_700_000_000, by: 0.25))
        for step in 0..<300 {
            let level: LogLevel = [.debug, .info, .results, .trace][step % 4]
            let loss: Double = step == 5 ? .nan : step == 6 ? -.infinity : step == 9 ? .infinity : 1 / Double(step + 1)
            logger.logRow("train", ["loss": loss, "epoch": step / 100, "ok": step % 3 == 0, "phase": "train"], level: level)
            if step % 50 == 0 { logger.logRow("eval", ["acc": Double(step) / 300], level: .warning) }
        }
        logger.close()
        var expected = Support.ExpectedScalars()
        for row in delivered.rows { expected.add(row) }
        #expect(delivered.rows.count == 150 + 6)
        #expect(expected.events["train/loss"]?.count == 150)

        let result = try Support.check(directory: directory, expected: Support.expectation(scalars: expected))
        #expect(result.status == 0, "\(result.output)")
    }

    @Test(.enabled(if: Support.pythonCheckAvailable, Support.skipReason))
    func tensorBoardReadsAHundredThousandRows() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try makeOutput(directory)
        var expected = Support.ExpectedScalars()
        let schema = RowSchema(keys: ["loss", "step_seconds", "phase"])
        var generator = SeededRandom()
        for step in 0..<100_000 {
            let row = Support.row(
                "train", step: step, time: 1_700_000_000 + Double(step) / 1000,
                [("loss", .double(Double.random(in: -10...10, using: &generator))), ("step_seconds", .double(0.001)), ("phase", "a")],
                schema: schema)
            try output.write(row)
            expected.add(row)
        }
        try output.close()
        let result = try Support.check(directory: directory, expected: Support.expectation(scalars: expected))
        #expect(result.status == 0, "\(result.output)")
    }

    @Test(.enabled(if: Support.pythonCheckAvailable, Support.skipReason), arguments: ["header", "payload", "footer"])
    func aTornLastRecordLosesOnlyThatRecord(tearIn part: String) throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try makeOutput(directory.appendingPathComponent("written"))
        var expected = Support.ExpectedScalars()
        let rows = (0..<40).map { step in
            Support.row("train", step: step, time: 1_700_000_000 + Double(step), [("x", .double(Double(step) * 0.25)), ("y", .int(Int64(-step)))])
        }
        for row in rows { try output.write(row) }
        for row in rows.dropLast() { expected.add(row) }
        try output.close()

        // A crash while appending: the file ends inside its last record.
        var bytes = Array(try Data(contentsOf: output.fileURL))
        let last = try #require(try TFRecordReader.records(in: bytes).last)
        let cut: Int
        switch part {
        case "header": cut = last.offset + 5
        case "payload": cut = last.offset + 12 + last.payload.count / 2
        default: cut = last.offset + last.size - 2
        }
        bytes.removeSubrange(cut...)
        let torn = directory.appendingPathComponent("torn")
        try FileManager.default.createDirectory(at: torn, withIntermediateDirectories: true)
        try Data(bytes).write(to: torn.appendingPathComponent(output.fileURL.lastPathComponent))

        let result = try Support.check(directory: torn, expected: Support.expectation(scalars: expected))
        #expect(result.status == 0, "\(result.output)")
    }

    @Test(.enabled(if: Support.pythonCheckAvailable, Support.skipReason))
    func hyperparametersAppearOnTheHParamsDashboard() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // TensorBoard's usual layout: a log directory of run directories.
        let run = directory.appendingPathComponent("run")
        let output = try makeOutput(run)
        let config: [(key: String, value: Scalar)] = [
            ("opt/lr", 0.001), ("opt/name", "adam"), ("seed", 7), ("nesterov", false), ("comment", nil),
        ]
        try output.writeHyperparameters(config, startTime: 1_700_000_000.5)
        var expected = Support.ExpectedScalars()
        for step in 0..<20 {
            let row = Support.row(
                "train", step: step, time: 1_700_000_001 + Double(step),
                [("loss", .double(10 - Double(step) * 0.5)), ("acc", .double(Double(step) / 20))])
            try output.write(row)
            expected.add(row)
        }
        try output.writeSessionEnd(status: .success, endTime: 1_700_000_100)
        try output.close()

        let hparams: JSONValue = [
            "opt/lr": ["number": 0.001], "opt/name": ["string": "adam"], "seed": ["number": 7], "nesterov": ["bool": false],
        ]
        let result = try Support.check(
            directory: run,
            expected: Support.expectation(
                scalars: expected,
                hparams: [
                    "session_start": ["hparams": hparams, "start_time": 1_700_000_000.5], "experiment": nil,
                    "session_end": ["status": "STATUS_SUCCESS", "end_time": 1_700_000_100.0],
                ],
                dashboard: ["hparams": hparams, "metrics": ["train/loss": 0.5, "train/acc": .double(Double(Float(19.0 / 20)))]]))
        #expect(result.status == 0, "\(result.output)")
    }

    @Test(.enabled(if: Support.pythonCheckAvailable, Support.skipReason))
    func declaredMetricsBecomeTheExperiment() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // TensorBoard's usual layout: a log directory of run directories.
        let run = directory.appendingPathComponent("run")
        let output = try makeOutput(run)
        try output.writeHyperparameters([("lr", 0.5), ("name", "a:b")], metricTags: ["train/loss"], startTime: 1_700_000_000)
        var expected = Support.ExpectedScalars()
        for step in 0..<5 {
            let row = Support.row("train", step: step, time: 1_700_000_001 + Double(step), [("loss", .double(Double(step))), ("other", 1)])
            try output.write(row)
            expected.add(row)
        }
        try output.close()

        let hparams: JSONValue = ["lr": ["number": 0.5], "name": ["string": "a:b"]]
        let result = try Support.check(
            directory: run,
            expected: Support.expectation(
                scalars: expected,
                hparams: [
                    "session_start": ["hparams": hparams, "start_time": 1_700_000_000.0],
                    "experiment": [
                        "hparams": [["lr", "DATA_TYPE_FLOAT64"], ["name", "DATA_TYPE_STRING"]], "metrics": ["train/loss"],
                        "time_created": 1_700_000_000.0,
                    ],
                    "session_end": nil,
                ],
                dashboard: ["hparams": hparams, "metrics": ["train/loss": 4.0]]))
        #expect(result.status == 0, "\(result.output)")
    }

    @Test(.enabled(if: Support.pythonCheckAvailable, Support.skipReason))
    func theCheckScriptFailsOnAWrongValue() throws {
        // Guards the guard: a check that cannot fail proves nothing.
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try makeOutput(directory)
        try output.write(Support.row("t", step: 3, time: 1_700_000_000.5, [("x", 0.25)]))
        try output.close()
        let wrongValue: JSONValue = ["scalars": ["t/x": [[3, 1_700_000_000.5, 0.5]]], "hparams": nil]
        let wrongStep: JSONValue = ["scalars": ["t/x": [[4, 1_700_000_000.5, 0.25]]], "hparams": nil]
        let missingTag: JSONValue = ["scalars": ["t/x": [[3, 1_700_000_000.5, 0.25]], "t/y": [[3, 1_700_000_000.5, 0.25]]], "hparams": nil]
        let right: JSONValue = ["scalars": ["t/x": [[3, 1_700_000_000.5, 0.25]]], "hparams": nil]
        #expect(try Support.check(directory: directory, expected: wrongValue).status == 1)
        #expect(try Support.check(directory: directory, expected: wrongStep).status == 1)
        #expect(try Support.check(directory: directory, expected: missingTag).status == 1)
        #expect(try Support.check(directory: directory, expected: right).status == 0)
    }
}
