import Foundation
import Logging
import Synchronization
import Testing

@testable import NokoCore

@Suite struct NokoLoggerTests {
    @Test func stepsCountPerTableFromZero() {
        let (logger, output, _) = memoryLogger()
        logger.logRow("a", ["x": 1])
        logger.logRow("b", ["x": 1])
        logger.logRow("a", ["x": 2])
        #expect(output.rows(in: "a").map(\.step) == [0, 1])
        #expect(output.rows(in: "b").map(\.step) == [0])
    }

    @Test func anExplicitStepMovesTheCounter() {
        let (logger, output, _) = memoryLogger()
        logger.logRow("a", ["x": 1])
        logger.logRow("a", ["x": 1], step: 10)
        logger.logRow("a", ["x": 1])
        #expect(output.rows.map(\.step) == [0, 10, 11])
        #expect(logger.nextStep(of: "a") == 12)
    }

    @Test func backwardsStepsAreKeptAndFlaggedOncePerTable() {
        let (logger, output, messages) = memoryLogger()
        logger.logRow("a", ["x": 1], step: 5)
        logger.logRow("a", ["x": 1], step: 2)
        logger.logRow("a", ["x": 1], step: 1)
        logger.logRow("a", ["x": 1], step: 2)
        #expect(output.rows.map(\.step) == [5, 2, 1, 2], "no row is dropped")
        let warnings = messages.messages(atLeast: .warning).filter { $0.contains("backwards") }
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("'a'") == true)
    }

    @Test func repeatingAStepIsNotBackwards() {
        let (logger, _, messages) = memoryLogger()
        logger.logRow("a", ["x": 1], step: 3)
        logger.logRow("a", ["x": 1], step: 3)
        #expect(messages.messages().isEmpty)
    }

    @Test func levelsRouteRowsToOutputs() {
        let trace = InMemoryOutput(name: "trace", level: .trace)
        let results = InMemoryOutput(name: "results", level: .results)
        let (messages, _) = recordingMessages()
        let logger = NokoLogger(outputs: [trace, results], flushInterval: nil, messages: messages, summarizers: SummarizerRegistry())
        logger.logRow("t", ["x": 1], level: .debug)
        logger.logRow("t", ["x": 2], level: .results)
        logger.logRow("t", ["x": 3], level: .critical)
        logger.logRow("t", ["x": 4], level: LogLevel(36, name: "CUSTOM"))
        #expect(trace.rows.count == 4)
        #expect(results.rows.map { $0["x"] } == [.int(2), .int(3), .int(4)])
        #expect(results.rows.map(\.level.name) == ["RESULTS", "CRITICAL", "CUSTOM"])
    }

    @Test func aRowNoOutputAcceptsWarnsOnceNamingTheTable() {
        let (logger, output, messages) = memoryLogger(level: .info)
        logger.logRow("quiet", ["x": 1], level: .trace)
        logger.logRow("quiet", ["x": 2], level: .trace)
        logger.logRow("quiet", ["x": 3], level: .info)
        #expect(output.rows.map(\.step) == [2], "skipped rows still count steps")
        let warnings = messages.messages(atLeast: .warning)
        #expect(warnings.count == 1)
        #expect(warnings[0].contains("'quiet'"))
    }

    @Test func collidingKeysGetSuffixesWithOneWarning() {
        let (logger, output, messages) = memoryLogger()
        for _ in 0..<3 { logger.logRow("t", ["a/b": 1, "a": ["b": 2, "b_1": 3]]) }
        let row = output.rows[0]
        // Keys with separators are summarized in sorted order: "a" (nested) before "a/b".
        #expect(Set(row.keys) == ["a/b", "a/b_1", "a/b_2"])
        #expect(row["a/b"] == .int(2))
        #expect(row["a/b_1"] == .int(3))
        #expect(row["a/b_2"] == .int(1))
        #expect(output.rows.allSatisfy { $0["a/b"] == .int(2) && $0["a/b_2"] == .int(1) }, "the same in every row")
        #expect(output.rows.allSatisfy { $0.schema === row.schema }, "the schema is interned per table")
        let warnings = messages.messages(atLeast: .warning).filter { $0.contains("two values map") }
        #expect(warnings.count == 1)
        #expect(warnings.first?.hasPrefix("table 't': two values map to key '") == true)
    }

    @Test func aRowWithASeparatorKeySummarizesEachEntryOnce() {
        let (logger, output, messages) = memoryLogger()
        // The "a/b" key sends the whole row down the sorted path; every entry, plain or not,
        // is summarized exactly once and warned about once.
        var row: [String: Any] = ["a/b": 1, "a": ["b": 2]]
        for k in 0..<30 { row["x\(k)"] = k == 7 ? Double.nan : Double(k) }
        logger.logRow("t", row)
        let logged = output.rows[0]
        #expect(logged.keys.count == 32)
        #expect(Set(logged.keys).count == 32)
        #expect(logged["x29"] == .double(29))
        #expect(logged["a/b"] == .int(2) && logged["a/b_1"] == .int(1), "sorted: the nested 'a' comes before 'a/b'")
        #expect(messages.messages(atLeast: .warning).filter { $0.contains("'x7'") }.count == 1)
    }

    @Test func dictionaryRowsInAnyOrderShareOneSchema() {
        let (logger, output, _) = memoryLogger()
        for i in 0..<200 {
            var row: [String: Any] = [:]
            for k in 0..<20 { row["k\(k)"] = i * 100 + k }
            logger.logRow("t", row)
        }
        let first = output.rows[0].schema
        #expect(output.rows.allSatisfy { $0.schema === first }, "every instance's key order maps onto one schema")
        for (i, row) in output.rows.enumerated() {
            for k in 0..<20 { #expect(row["k\(k)"] == .int(Int64(i * 100 + k))) }
        }
    }

    @Test func rowsAlternatingBetweenKeySetsReuseTheirSchemas() {
        let (logger, output, _) = memoryLogger()
        for i in 0..<10 { logger.logRow("t", i % 2 == 0 ? ["a": i] : ["a": i, "b": i]) }
        #expect(Set(output.rows.map { ObjectIdentifier($0.schema) }).count == 2)
    }

    @Test func userKeysCannotTakeBookkeepingNames() {
        let (logger, output, _) = memoryLogger()
        logger.logRow("t", ["$step": 99])
        #expect(output.rows[0].keys == ["$step_1"])
        #expect(output.rows[0].step == 0)
    }

    @Test func summaryWarningsAreReportedOncePerTableAndKey() {
        let (logger, _, messages) = memoryLogger()
        for _ in 0..<5 { logger.logRow("t", ["x": Double.nan, "v": [Double]()]) }
        logger.logRow("u", ["x": Double.nan])
        let warnings = messages.messages(atLeast: .warning)
        #expect(warnings.count == 3)
        #expect(warnings.contains { $0.contains("table 't', key 'x'") })
        #expect(warnings.contains { $0.contains("table 't', key 'v'") })
        #expect(warnings.contains { $0.contains("table 'u', key 'x'") })
    }

    @Test func autoTableNamesComeFromTheCallSite() {
        let (logger, output, _) = memoryLogger()
        let line = #line + 1
        logger.logRow(["x": 1])
        #expect(output.rows[0].table == "NokoCoreTests/NokoLoggerTests.swift:\(line)")
        #expect(!output.rows[0].fileStem.contains("/"))
    }

    @Test func tablesDifferingOnlyInCaseGetDistinctFiles() {
        let (logger, output, _) = memoryLogger()
        logger.logRow("Loss", ["x": 1])
        logger.logRow("loss", ["x": 1])
        #expect(output.rows[0].fileStem == "Loss")
        #expect(output.rows[1].fileStem == "loss~2")
    }

    @Test func valuesAreSummarizedBeforeLogRowReturns() {
        let (logger, output, _) = memoryLogger()
        var weights = [1.0, 2.0]
        logger.logRow("t", ["w": weights])
        weights[0] = 100
        #expect(output.rows[0]["w.max"] == .double(2))
    }

    @Test func rowsAfterCloseAreDroppedWithOneWarning() {
        let (logger, output, messages) = memoryLogger()
        logger.logRow("t", ["x": 1])
        logger.close()
        logger.close()
        logger.logRow("t", ["x": 2])
        logger.logRow("t", ["x": 3])
        #expect(output.rows.count == 1)
        #expect(output.isClosed)
        #expect(messages.messages(atLeast: .warning).filter { $0.contains("closed") }.count == 1)
    }

    @Test func everyOutputSeesTheSameOrderUnderConcurrentWriters() async {
        let a = InMemoryOutput(name: "a"), b = InMemoryOutput(name: "b")
        let (messages, _) = recordingMessages()
        let logger = NokoLogger(outputs: [a, b], flushInterval: .milliseconds(1), messages: messages, summarizers: SummarizerRegistry())
        let threads = 8, rows = 2000
        let flushesBefore = a.flushCount
        // Writer 0 stops halfway until the flusher has run (10 s at most), so flushes land
        // between writes instead of only after them.
        let flushedMidway = await withTaskGroup(of: Bool.self) { group in
            for t in 0..<threads {
                group.addTask {
                    var flushed = true
                    for i in 0..<rows {
                        if t == 0 && i == rows / 2 {
                            let deadline = ContinuousClock.now + .seconds(10)
                            while a.flushCount == flushesBefore && ContinuousClock.now < deadline { usleep(1000) }
                            flushed = a.flushCount > flushesBefore
                        }
                        logger.logRow("shared", ["thread": t, "i": i])
                    }
                    return flushed
                }
            }
            return await group.allSatisfy { $0 }
        }
        logger.close()
        let orderA = a.rows.map { "\($0["thread"]!)-\($0["i"]!)" }
        let orderB = b.rows.map { "\($0["thread"]!)-\($0["i"]!)" }
        #expect(orderA.count == threads * rows)
        #expect(orderA == orderB)
        #expect(a.rows.map(\.step) == Array(0..<(threads * rows)), "steps follow the one order")
        #expect(flushedMidway, "the flusher ran while rows were being written")
    }

    @Test func aFailingOutputIsReportedOnceAndOthersGoOn() {
        final class Broken: LogOutput {
            let name = "broken"
            let level = LogLevel.trace
            struct Failure: Error {}
            func write(_ row: SummarizedRow) throws { throw Failure() }
        }
        let good = InMemoryOutput()
        let (messages, handler) = recordingMessages()
        let logger = NokoLogger(outputs: [Broken(), good], flushInterval: nil, messages: messages, summarizers: SummarizerRegistry())
        logger.logRow("t", ["x": 1])
        logger.logRow("t", ["x": 2])
        #expect(good.rows.count == 2)
        #expect(handler.messages(atLeast: .warning).filter { $0.contains("'broken'") }.count == 1)
    }

    @Test func theFlusherFlushesEveryInterval() async throws {
        /// Records when each flush happened, on the flusher's own thread: the test's task may
        /// be scheduled late on a loaded machine, the timestamps are not.
        final class TimedOutput: LogOutput {
            let name = "timed"
            let level = LogLevel.trace
            private let instants = Mutex<[ContinuousClock.Instant]>([])
            func write(_ row: SummarizedRow) throws {}
            func flush() throws { instants.withLock { $0.append(.now) } }
            var gaps: [Duration] {
                instants.withLock { times in zip(times.dropFirst(), times).map { $0 - $1 } }
            }
            var count: Int { instants.withLock { $0.count } }
        }
        let fast = TimedOutput(), slow = TimedOutput()
        let fastLogger = NokoLogger(outputs: [fast], flushInterval: .milliseconds(5), summarizers: SummarizerRegistry())
        let slowLogger = NokoLogger(outputs: [slow], flushInterval: .milliseconds(100), summarizers: SummarizerRegistry())
        let deadline = ContinuousClock.now + .seconds(30)
        while slow.count < 5 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        // Taken before closing, whose own flush would add a short last gap.
        let slowGaps = slow.gaps.prefix(4).sorted(), fastGaps = fast.gaps.sorted()
        fastLogger.close()
        slowLogger.close()
        try #require(slowGaps.count == 4 && fastGaps.count >= 20, "\(slow.count) and \(fast.count) flushes in 30 s")
        // Never early (a little timer slack allowed); late on a loaded machine, but the
        // 100 ms flusher's median gap stays under 2.5 intervals (an interval three times too
        // long gives 300 ms).
        #expect(slowGaps.first! >= .milliseconds(95), "100 ms flusher: gaps \(slowGaps)")
        #expect(fastGaps.first! >= .milliseconds(4), "5 ms flusher: shortest gap \(fastGaps.first!)")
        #expect(slowGaps[slowGaps.count / 2] < .milliseconds(250), "100 ms flusher: gaps \(slowGaps)")
    }

    @Test func levelsCompareAndParse() {
        let ordered: [LogLevel] = [.trace, .debug, .info, .warning, .results, .error, .critical]
        #expect(ordered == ordered.sorted())
        #expect(LogLevel.info < LogLevel.results)
        #expect(LogLevel.builtIn.map(\.value) == [5, 10, 20, 30, 35, 40, 50])
        #expect(LogLevel(parsing: "results") == .results)
        #expect(LogLevel(parsing: "25")?.value == 25)
        #expect(LogLevel(parsing: "loud") == nil)
        #expect(LogLevel(value: 40).name == "ERROR")
    }
}
