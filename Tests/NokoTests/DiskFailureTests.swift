import Foundation
import InMemoryLogging
import Logging
import NokoCore
import NokoPlatform
import NokoTestSupport
import Synchronization
import Testing

@testable import Noko

#if canImport(Glibc)
import Glibc
#endif

/// A full disk, a failing one and a read-only one, for real (a small tmpfs filled up, an
/// ext4 the kernel turns read-only, a read-only remount) and injected (`EIO` and `EINTR` at
/// every system call the outputs make): logging never stops the program, says once that a
/// file cannot be written and once that it can again, counts what was lost, keeps every file
/// readable by the real readers, and brings the views back in step with the journal.
@Suite("When the disk fills or fails", .serialized)
struct DiskFailureTests {
    // MARK: - A real full disk

    @Test("a full tmpfs: rows the journal cannot take are counted, every file stays readable, and logging resumes when space frees up",
          .enabled(if: DiskTestGate.enabled))
    func aFullDisk() throws {
        let mount = try ScratchMount.tmpfs(megabytes: 2)
        defer { mount.unmount() }
        // Most of the 2 MB taken by a file of the test's own, deleted later to free space.
        let filler = mount.point.appendingPathComponent("filler")
        try Data(count: 1_500_000).write(to: filler)
        let runs = mount.point.appendingPathComponent("runs")
        let run = runs.appendingPathComponent("full")
        let child = try Child(["disk", runs.path, "full"], takesInput: true)
        // Declared after the mount's: runs first, so the unmount never meets a live writer.
        defer { stop(child) }
        try #require(child.waitFor { $0 == "ready" } != nil, "\(child.stderr)")

        let filled = try #require(child.ask("fill")).split(separator: " ")
        try #require(filled.first == "filled", "\(filled) \(child.stderr)")
        let loggedAtFill = Int(filled[1])!
        let lost = Int(filled[3])!
        #expect(lost >= 20, "the last 20 rows could not reach the journal")
        #expect(child.process.isRunning, "logRow neither crashed nor blocked")
        #expect(child.ask("flush")?.hasPrefix("flushed {\"noko.ndjson\":\(lost)}") == true)

        // While the disk is full: every file reads whole, and no view has a row the journal lacks.
        let warningsWhileFull = warnings(child.stderr)
        #expect(warningsWhileFull.contains { $0.contains("output 'ndjson' failed to write a row: cannot write to \(run.path)/noko.ndjson: No space left on device") })
        if let full = try RunFileReader.readIfAvailable(run) {
            #expect(full.errors == [], "a file does not read whole while the disk is full")
            let journal = Set(full.journalSteps("train"))
            #expect(journal.count == loggedAtFill - lost, "the journal has every row but the lost ones")
            #expect(Set(full.csvSteps("train.csv") ?? []).isSubset(of: journal))
            #expect(Set(full.parquetSteps("train.parquet") ?? []).isSubset(of: journal))
            #expect(Set(full.eventSteps("train/loss") ?? []).isSubset(of: journal))
            #expect((full.summaryRows("train") ?? 0) <= journal.count)
        }

        // Space is back: the next row goes to the journal, the next flush brings the views up.
        try FileManager.default.removeItem(at: filler)
        #expect(child.ask("log 30") == "logged \(loggedAtFill + 30) lost \(lost)")
        #expect(child.ask("flush")?.hasPrefix("flushed {\"noko.ndjson\":\(lost)}") == true)
        if let after = try RunFileReader.readIfAvailable(run) {
            #expect(after.errors == [])
            let journal = after.journalSteps("train")
            #expect(journal.count == loggedAtFill + 30 - lost)
            #expect(after.csvSteps("train.csv") == journal, "the CSV caught up")
            #expect(after.parquetSteps("train.parquet") == journal, "the Parquet file caught up")
            #expect(after.eventSteps("train/loss") == journal, "the event file caught up")
            #expect(after.summaryRows("train") == journal.count, "summary.json caught up")
        }

        #expect(child.ask("finish") == "finished")
        #expect(child.wait() == 0)
        let said = warnings(child.stderr)
        let failures = said.filter { $0.contains("output 'ndjson' failed to write a row") }
        let recoveries = said.filter { $0.contains("output 'ndjson' writes again (\(run.path)/noko.ndjson)") }
        // At the edge of a full disk a shorter row can still fit in the journal's last page;
        // each time that happens is one more failure and recovery, never one warning per row.
        #expect(!failures.isEmpty && failures.count == recoveries.count && failures.count <= 3, "\(said)")
        #expect(recoveries.map(lostCount).reduce(0, +) == lost, "\(recoveries)")
        for view in ["csv", "summary", "tensorboard", "parquet"] where said.contains(where: { $0.contains("output '\(view)' failed to flush") }) {
            #expect(said.filter { $0.contains("output '\(view)' failed to flush") }.count == 1, "\(view): \(said)")
            #expect(said.contains { $0.contains("output '\(view)' writes again") && $0.contains("it has caught up with the journal") }, "\(view): \(said)")
        }
        #expect(said.contains("rows were lost: noko.ndjson lacks \(lost) rows; metadata.json records it (rows_lost)"), "\(said)")

        let metadata = try readJSON(RunLayout(run).metadata)
        #expect(metadata["status"] == "finished")
        #expect(metadata["rows_lost"] == ["noko.ndjson": .int(Int64(lost))])
        #expect(metadata["write_errors"]?.arrayValue?.contains { $0.stringValue?.hasSuffix("noko.ndjson: No space left on device") == true } == true)

        let shown = try runProgram(productPath("noko-run"), ["show", run.path], environment: ["NO_COLOR": "1"])
        #expect(
            shown.output.split(separator: "\n").contains { $0.hasPrefix("  rows lost ") && $0.hasSuffix(" noko.ndjson lacks \(lost) rows") },
            "\(shown.output)")
        let json = try JSONValue(parsing: try runProgram(productPath("noko-run"), ["show", run.path, "--json"]).output)
        #expect(json["rows_lost"] == ["noko.ndjson": .int(Int64(lost))])
        if let end = try RunFileReader.readIfAvailable(run) {
            #expect(end.errors == [])
            #expect(end.csvSteps("train.csv") == end.journalSteps("train"))
            #expect(end.parquetSteps("train.parquet") == end.journalSteps("train"))
            #expect(end.eventSteps("train/loss") == end.journalSteps("train"))
            #expect(end.summaryRows("train") == end.journalRows("train"))
        }
    }

    // MARK: - Read-only

    @Test("a read-only remount midway: files opened since fail with EROFS, the views wait, and catch up once it is read-write again",
          .enabled(if: DiskTestGate.enabled))
    func aReadOnlyRemount() throws {
        let mount = try ScratchMount.tmpfs(megabytes: 16)
        defer { mount.unmount() }
        let runs = mount.point.appendingPathComponent("runs")
        let run = runs.appendingPathComponent("ro")
        let child = try Child(["disk", runs.path, "ro"], takesInput: true)
        defer { stop(child) }
        try #require(child.waitFor { $0 == "ready" } != nil, "\(child.stderr)")
        #expect(child.ask("log 40") == "logged 40 lost 0")
        #expect(child.ask("flush") == "flushed {}")

        // Linux refuses to remount read-only a file system with files open for writing (the
        // journal is, for the whole run): `EBUSY`. So the file system is mounted once more
        // over itself and that mount made read-only, which fails every file opened from now
        // on (the CSV appends, summary.json's rewrite), while the descriptors opened before
        // (the journal, the event and Parquet files) keep writing.
        try mount.bindOverItself()
        try mount.remount("ro,bind")
        #expect(child.ask("log 40") == "logged 80 lost 0", "the journal's descriptor still writes")
        #expect(child.ask("flush") == "flushed {}")
        let whileReadOnly = warnings(child.stderr)
        #expect(whileReadOnly.contains { $0.contains("output 'csv' failed to flush") && $0.contains("Read-only file system") }, "\(whileReadOnly)")
        #expect(whileReadOnly.contains { $0.contains("output 'summary' failed to flush") && $0.contains("Read-only file system") }, "\(whileReadOnly)")
        if let readOnly = try RunFileReader.readIfAvailable(run) {
            #expect(readOnly.errors == [])
            #expect(readOnly.journalRows("train") == 80)
            #expect(readOnly.csvSteps("train.csv") == steps(0..<40), "the CSV keeps its rows for later")
            #expect(readOnly.summaryRows("train") == 40)
        }

        try mount.remount("rw,bind")
        #expect(child.ask("flush") == "flushed {}")
        let again = warnings(child.stderr)
        for view in ["csv", "summary"] {
            #expect(again.filter { $0.contains("output '\(view)' failed to flush") }.count == 1, "\(again)")
            #expect(again.contains { $0.contains("output '\(view)' writes again") && $0.contains("it has caught up with the journal") }, "\(again)")
        }
        #expect(!again.contains { $0.contains("output 'ndjson'") }, "the journal never failed")
        #expect(child.ask("log 10") == "logged 90 lost 0")
        #expect(child.ask("finish") == "finished")
        #expect(child.wait() == 0)
        let metadata = try readJSON(RunLayout(run).metadata)
        #expect(metadata["rows_lost"] == nil, "nothing was lost")
        #expect(metadata["write_errors"]?.arrayValue?.contains { $0.stringValue?.contains("Read-only file system") == true } == true)
        if let end = try RunFileReader.readIfAvailable(run) {
            #expect(end.errors == [])
            let journal = end.journalSteps("train")
            #expect(journal == steps(0..<90))
            #expect(end.csvSteps("train.csv") == journal)
            #expect(end.parquetSteps("train.parquet") == journal)
            #expect(end.eventSteps("train/loss") == journal)
            #expect(end.summaryRows("train") == 90)
        }
    }

    @Test("a disk the kernel turns read-only midway (ext4, errors=remount-ro): the journal's writes fail, the process goes on, and after repair the run resumes",
          .enabled(if: DiskTestGate.enabled))
    func theKernelTurnsTheDiskReadOnly() throws {
        let mount = try ScratchMount.ext4(megabytes: 16)
        defer { mount.unmount() }
        let runs = mount.point.appendingPathComponent("runs")
        let run = runs.appendingPathComponent("eio")
        let child = try Child(["disk", runs.path, "eio"], takesInput: true)
        defer { stop(child) }
        try #require(child.waitFor { $0 == "ready" } != nil, "\(child.stderr)")
        #expect(child.ask("log 40") == "logged 40 lost 0")
        #expect(child.ask("flush") == "flushed {}")
        // On the device before the error, so that what was written survives the repair.
        #expect(try runProgram("/bin/sync", ["-f", RunLayout(run).journal.path]).status == 0)

        try mount.triggerError()
        #expect(child.ask("log 30") == "logged 70 lost 30")
        _ = child.ask("flush")
        #expect(child.ask("finish") == "finished")
        #expect(child.wait() == 0, "the program ends normally")
        let said = warnings(child.stderr)
        #expect(said.filter { $0.contains("output 'ndjson' failed to write a row: cannot write to \(run.path)/noko.ndjson: Read-only file system") }.count == 1, "\(said)")
        #expect(said.contains("rows were lost: noko.ndjson lacks 30 rows; metadata.json could not record it"), "\(said)")
        if let readOnly = try RunFileReader.readIfAvailable(run) {
            #expect(readOnly.errors == [], "every file reads whole on the read-only disk")
            let journal = readOnly.journalSteps("train")
            #expect(journal == steps(0..<40))
            #expect(Set(readOnly.csvSteps("train.csv") ?? []).isSubset(of: Set(journal)))
        }

        // Back to read-write, as an administrator does it (unmount, fsck, mount), and the run
        // resumed: it continues its files, which read whole.
        try mount.repairAndMountAgain()
        let resumed = try Child(["disk", runs.path, "eio"], environment: ["NOKO_TEST_RESUME": "1"], takesInput: true)
        defer { stop(resumed) }
        try #require(resumed.waitFor { $0 == "ready" } != nil, "\(resumed.stderr)")
        #expect(resumed.ask("log 10") == "logged 50 lost 0", "steps continue from the journal's last row")
        #expect(resumed.ask("finish") == "finished")
        #expect(resumed.wait() == 0)
        if let end = try RunFileReader.readIfAvailable(run) {
            #expect(end.errors == [])
            let journal = end.journalSteps("train")
            #expect(journal == steps(0..<50))
            #expect(end.csvSteps("train.csv") == journal)
            #expect(end.parquetSteps("train.parquet") == journal)
            #expect(end.eventSteps("train/loss") == journal, "the old event file, then the resumed run's")
            #expect(end.summaryRows("train") == 50)
        }
    }

    // MARK: - Injected faults

    @Test("EIO and EINTR injected at every system call of every output file: EINTR is retried unseen, EIO warns once, loses only what it must, and the views catch up")
    func injectedFaults() throws {
        let root = temporaryDirectory()
        // Which calls each file sees, and when: the table of cases comes from a run without faults.
        let probe = root.appendingPathComponent("probe")
        let seen = Locked<[FaultScenario.Phase: Set<FaultSite>]>([:])
        let phase = Locked(FaultScenario.Phase.before)
        let prefix = probe.path + "/"
        let token = FaultInjection.install { call, path in
            if let site = FaultSite(call: call, path: path, under: prefix) {
                let now = phase.withLock { $0 }
                seen.withLock { _ = $0[now, default: []].insert(site) }
            }
            return nil
        }
        try FaultScenario.run(in: probe) { next in phase.withLock { $0 = next } }
        FaultInjection.remove(token)
        let during = seen.withLock { $0[.broken] ?? [] }
        let duringOrAfter = seen.withLock { $0.filter { $0.key != .before }.values.reduce(into: Set<FaultSite>()) { $0.formUnion($1) } }
        // The sites that matter are those the outputs reach; the table must cover them.
        for site in [
            FaultSite(.write, "noko.ndjson"), FaultSite(.write, "t.csv"), FaultSite(.open, "t.csv"), FaultSite(.read, "t.csv"),
            FaultSite(.rename, "u.csv"), FaultSite(.write, "summary.json"), FaultSite(.fsync, "summary.json"),
            FaultSite(.rename, "summary.json"), FaultSite(.write, "events"), FaultSite(.write, "t.parquet"),
            FaultSite(.open, "u.parquet"), FaultSite(.write, "noko_pprint.log"), FaultSite(.fsync, "directory"),
        ] {
            #expect(during.contains(site), "\(site) is not reached while the faults are on: \(during.sorted())")
        }
        for site in [FaultSite(.fsync, "noko.ndjson"), FaultSite(.fsync, "events"), FaultSite(.close, "events"), FaultSite(.rename, "t.parquet")] {
            #expect(duringOrAfter.contains(site), "\(site) is not reached by the end: \(duringOrAfter.sorted())")
        }

        var cases: [FaultCase] = []
        for site in during.sorted() { cases.append(FaultCase(sites: [site], code: EIO, lifted: true)) }
        for site in duringOrAfter.sorted() { cases.append(FaultCase(sites: [site], code: EIO, lifted: false)) }
        for site in duringOrAfter.sorted() { cases.append(FaultCase(sites: [site], code: EINTR, lifted: false)) }
        // A write that fails and whose cut fails too (a disk gone read-only in between): the
        // torn tail is cut before the next append.
        for file in ["noko.ndjson", "t.csv", "events", "t.parquet", "noko_pprint.log"] {
            cases.append(FaultCase(sites: [FaultSite(.write, file), FaultSite(.truncate, file)], code: EIO, lifted: true))
        }

        var results: [(FaultCase, URL, FaultScenario.Outcome)] = []
        for (index, faultCase) in cases.enumerated() {
            let directory = root.appendingPathComponent("case-\(index)")
            results.append((faultCase, directory, try faultCase.run(in: directory)))
        }
        let reports = RunFileReader.isAvailable ? try RunFileReader.read(results.map(\.1)) : [:]
        var passed = 0
        for (faultCase, directory, outcome) in results {
            let before = failedChecks.load(ordering: .relaxed)
            faultCase.check(outcome, report: reports[directory.path])
            if failedChecks.load(ordering: .relaxed) == before { passed += 1 }
        }
        print("injected faults: \(passed) of \(cases.count) cases pass (\(during.count) sites while logging, \(duringOrAfter.count) by the end)")
    }
}

/// Failed checks of the table-driven test, for its summary line (Swift Testing does not
/// count issues for a test).
private let failedChecks = Atomic<Int>(0)

/// `#expect` that also counts failures, for the summary line of the table-driven test.
private func expectCounted(_ condition: Bool, _ comment: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation) {
    if !condition { failedChecks.add(1, ordering: .relaxed) }
    #expect(condition, "\(comment())", sourceLocation: sourceLocation)
}

/// A value shared with a fault hook (an escaping closure, which cannot capture a `Mutex`).
final class Locked<Value>: @unchecked Sendable {
    // Guarded by `lock`.
    private var value: Value
    private let lock = NSLock()

    init(_ value: Value) { self.value = value }

    func withLock<Result>(_ body: (inout Value) -> Result) -> Result {
        lock.withLock { body(&value) }
    }
}

/// A system call on one file of a run directory (its temporary files count as the file).
struct FaultSite: Hashable, Comparable, CustomStringConvertible, Sendable {
    let call: FaultInjection.Call
    /// `noko.ndjson`, `t.csv`…, `events` for the event file, `directory` for the run directory.
    let file: String

    init(_ call: FaultInjection.Call, _ file: String) {
        self.call = call
        self.file = file
    }

    /// The site of `call` on `path`, nil outside the directory `prefix` names.
    init?(call: FaultInjection.Call, path: String, under prefix: String) {
        if path + "/" == prefix {
            self.init(call, "directory")
            return
        }
        guard path.hasPrefix(prefix) else { return nil }
        var name = String(path.dropFirst(prefix.count))
        // `.<name>.tmp-<pid>-<n>`: the atomic writer's temporary file for <name>.
        if name.hasPrefix("."), let range = name.range(of: ".tmp-") { name = String(name[name.index(after: name.startIndex)..<range.lowerBound]) }
        if name.hasPrefix(RunLayout.tensorBoardEventsPrefix) { name = "events" }
        self.init(call, name)
    }

    var description: String { "\(call.rawValue) \(file)" }
    static func < (a: FaultSite, b: FaultSite) -> Bool { (a.file, a.call.rawValue) < (b.file, b.call.rawValue) }
}

/// The run every case logs: rows in phases, faults on from `broken` on.
enum FaultScenario {
    enum Phase: Sendable, Hashable {
        /// 20 rows of `t`, a flush: files exist before anything fails.
        case before
        /// 10 rows of `t` (appended), 20 of a new table `u` (its files are made), then 20 rows
        /// of `t` with a new key (the CSV is rewritten, Parquet gets a column), three flushes.
        case broken
        /// 10 rows of `t` and `u`, a flush.
        case after
        /// `close()`.
        case closing
    }

    /// What the logger said and counted.
    struct Outcome {
        var warnings: [String]
        var rowsLost: [String: Int]
        var writeErrors: [String]
        /// How often the fault was injected.
        var injected: Int
    }

    /// Rows per table over the whole scenario.
    static let rows = (t: 60, u: 30)

    static func run(in directory: URL, at phase: (Phase) -> Void) throws {
        _ = try run(in: directory, messages: Logging.Logger(label: "noko") { _ in SwiftLogNoOpLogHandler() }, at: phase)
    }

    static func run(in directory: URL, messages: Logging.Logger, at phase: (Phase) -> Void) throws -> NokoLogger {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var options = OutputOptions()
        options.prettyPrintLevel = .info
        options.tensorBoardLevel = .info
        let outputs = try DefaultOutputs.make(directory: directory, options: options, messages: messages)
            + [ParquetOutput(directory: directory, rowGroupRows: 8, rowGroupInterval: .zero, messages: messages)]
        let logger = NokoLogger(
            directory: directory, outputs: outputs, flushInterval: nil, messages: messages, summarizers: SummarizerRegistry(),
            clock: .stepping(from: 1_700_000_000.25, by: 0.5))
        func t(_ n: Int, newKey: Bool) {
            for _ in 0..<n {
                let i = logger.nextStep(of: "t")
                var row: [String: Any] = ["a": i, "b": Double(i) / 4]
                if newKey { row["c"] = "c\(i)" }
                logger.logRow("t", row)
            }
        }
        func u(_ n: Int) { for _ in 0..<n { logger.logRow("u", ["x": logger.nextStep(of: "u")]) } }
        phase(.before)
        t(20, newKey: false)
        logger.flush()
        phase(.broken)
        // Appends to t.csv, a new u.csv; completely, since `flush()` paces summary.json's
        // rewrites, which would keep it out of the faults' reach.
        t(10, newKey: false)
        u(20)
        logger.flushCompletely()
        // A new key: t.csv is rewritten, t.parquet gets a column.
        t(10, newKey: true)
        logger.flush()
        t(10, newKey: true)
        logger.flush()
        phase(.after)
        t(10, newKey: true)
        u(10)
        logger.flushCompletely()
        phase(.closing)
        logger.close()
        return logger
    }
}

/// One row of the table: faults with one `errno` at some sites, from the `broken` phase on,
/// until the `after` phase (`lifted`) or through `close()`.
struct FaultCase: CustomStringConvertible {
    let sites: Set<FaultSite>
    let code: Int32
    let lifted: Bool

    var description: String {
        let sites = sites.sorted().map(\.description).joined(separator: " + ")
        return "\(NokoSystemError.reason(for: code)) on \(sites), \(lifted ? "lifted before the last rows" : "through close()")"
    }

    func run(in directory: URL) throws -> FaultScenario.Outcome {
        let handler = InMemoryLogHandler()
        var messages = Logging.Logger(label: "noko") { _ in handler }
        messages.logLevel = .trace
        let prefix = directory.path + "/"
        // Whether faults are on, how many were injected, and per call and path how many
        // attempts were made: EINTR hits every other one, so the first is interrupted and the
        // wrapper's retry goes through (EINTR every time would be a signal storm, not a fault).
        let state = Locked((active: false, injected: 0, attempts: [String: Int]()))
        let code = code, sites = sites
        let token = FaultInjection.install { call, path in
            guard let site = FaultSite(call: call, path: path, under: prefix), sites.contains(site) else { return nil }
            return state.withLock { state -> FaultInjection.Action? in
                guard state.active else { return nil }
                let attempt = state.attempts["\(call) \(path)", default: 0]
                state.attempts["\(call) \(path)"] = attempt + 1
                if code == EINTR && attempt % 2 == 1 { return nil }
                state.injected += 1
                return .fail(code)
            }
        }
        defer { FaultInjection.remove(token) }
        let lifted = lifted
        let logger = try FaultScenario.run(in: directory, messages: messages) { phase in
            state.withLock { state in
                switch phase {
                case .before: state.active = code == EINTR
                case .broken: state.active = true
                case .after, .closing: if lifted { state.active = false }
                }
            }
        }
        return FaultScenario.Outcome(
            warnings: handler.entries.filter { $0.level >= .warning }.map { "\($0.message)" }, rowsLost: logger.rowsLost,
            writeErrors: logger.writeErrors, injected: state.withLock { $0.injected })
    }

    /// What must hold after the case: see the test's description.
    func check(_ outcome: FaultScenario.Outcome, report: RunFileReport?) {
        let name = "\(self)"
        expectCounted(outcome.injected > 0, "\(name): the fault was never injected")
        let lost = outcome.rowsLost
        let journalLost = lost[RunLayout.journalName] ?? 0
        if code == EINTR {
            expectCounted(outcome.warnings.isEmpty, "\(name): EINTR is retried without a word: \(outcome.warnings)")
            expectCounted(lost.isEmpty, "\(name): nothing is lost: \(lost)")
        } else {
            expectCounted(!outcome.warnings.isEmpty, "\(name): EIO is said")
            expectCounted(outcome.warnings.allSatisfy { !$0.contains("failed to") || $0.contains(NokoSystemError.reason(for: code)) },
                  "\(name): every failure names the error: \(outcome.warnings)")
            // Once per output and kind of failure, however many rows and flushes met it.
            for kind in ["failed to write a row", "failed to flush", "failed to close"] {
                for output in ["ndjson", "csv", "pprint", "summary", "parquet", "tensorboard"] {
                    let said = outcome.warnings.filter { $0.contains("output '\(output)' \(kind)") }.count
                    expectCounted(said <= 1, "\(name): output '\(output)' \(kind) said \(said) times: \(outcome.warnings)")
                }
            }
            if lifted {
                for output in ["ndjson", "csv", "pprint", "summary", "parquet", "tensorboard"]
                where outcome.warnings.contains(where: { $0.contains("output '\(output)' failed to write a row") || $0.contains("output '\(output)' failed to flush") }) {
                    expectCounted(outcome.warnings.contains { $0.contains("output '\(output)' writes again") || $0.contains("output '\(output)' flushes again") },
                          "\(name): output '\(output)' recovered without saying so: \(outcome.warnings)")
                }
                expectCounted(lost.keys.allSatisfy { [RunLayout.journalName, "noko_pprint.log"].contains($0) },
                      "\(name): a view lost rows though the disk came back before the end: \(lost)")
                if sites.contains(FaultSite(.write, RunLayout.journalName)) {
                    expectCounted(journalLost == 50, "\(name): the 50 rows logged while the journal failed are lost, no others: \(lost)")
                }
            }
            expectCounted(outcome.writeErrors.isEmpty == outcome.warnings.allSatisfy({ !$0.contains("failed to") }), "\(name): write errors \(outcome.writeErrors)")
            let summary = outcome.warnings.filter { $0.hasPrefix("rows were lost:") }
            expectCounted(summary.count == (lost.isEmpty ? 0 : 1), "\(name): close() sums up what was lost once: \(summary)")
        }
        guard let report else { return }
        expectCounted(report.errors.isEmpty, "\(name): a file does not read whole: \(report.errors)")
        // Every row is somewhere: in the journal or counted lost; in each view or counted lost
        // for it; and no view has a row the journal lacks.
        let t = report.journalSteps("t"), u = report.journalSteps("u")
        expectCounted(t.count + u.count + journalLost == FaultScenario.rows.t + FaultScenario.rows.u, "\(name): journal \(t.count)+\(u.count), lost \(journalLost)")
        for (table, steps) in [("t", t), ("u", u)] {
            let csv = report.csvSteps("\(table).csv") ?? []
            expectCounted(Set(csv).isSubset(of: Set(steps)) && csv.count + (lost["\(table).csv"] ?? 0) == steps.count,
                  "\(name): \(table).csv has \(csv.count) rows, lost \(lost["\(table).csv"] ?? 0), the journal \(steps.count)")
            let parquet = report.parquetSteps("\(table).parquet") ?? []
            expectCounted(Set(parquet).isSubset(of: Set(steps)) && parquet.count + (lost["\(table).parquet"] ?? 0) == steps.count,
                  "\(name): \(table).parquet has \(parquet.count) rows, lost \(lost["\(table).parquet"] ?? 0), the journal \(steps.count)")
        }
        let events = (report.eventSteps("t/a") ?? []).count + (report.eventSteps("u/x") ?? []).count
        expectCounted(events + (report.eventFile.flatMap { lost[$0] } ?? 0) == t.count + u.count,
              "\(name): the event file has \(events) rows, the journal \(t.count + u.count): \(lost)")
        let summarized = (report.summaryRows("t") ?? 0) + (report.summaryRows("u") ?? 0)
        expectCounted(summarized + (lost["summary.json"] ?? 0) == t.count + u.count, "\(name): summary.json counts \(summarized) rows: \(lost)")
        // The pretty-printer is not a view of the journal: it gets every row.
        expectCounted((report.pprintBlocks ?? 0) + (lost["noko_pprint.log"] ?? 0) == FaultScenario.rows.t + FaultScenario.rows.u,
              "\(name): noko_pprint.log has \(report.pprintBlocks ?? 0) rows: \(lost)")
    }
}

/// The steps `range` covers, as the readers report them.
private func steps(_ range: Range<Int>) -> [Int64] { range.map(Int64.init) }

/// noko's warnings in what a child wrote to stderr, without the `noko: warning: ` prefix.
private func warnings(_ stderr: String) -> [String] {
    stderr.split(separator: "\n").compactMap { line in
        line.hasPrefix("noko: warning: ") ? String(line.dropFirst("noko: warning: ".count)) : nil
    }
}

/// N in "…; N rows were lost".
private func lostCount(_ warning: String) -> Int {
    guard let range = warning.range(of: "; ", options: .backwards) else { return 0 }
    return Int(warning[range.upperBound...].prefix { $0.isNumber }) ?? 0
}

/// Kills `child` if it still runs, and waits for it: before a mount it writes to goes away.
private func stop(_ child: Child) {
    if child.process.isRunning { child.signal(SIGKILL) }
    _ = child.wait()
}

/// A product built next to the test bundle.
private func productPath(_ name: String) -> String {
    URL(fileURLWithPath: childPath).deletingLastPathComponent().appendingPathComponent(name).path
}
