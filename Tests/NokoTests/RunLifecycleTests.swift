import Foundation
import NokoTestSupport
import Testing

@testable import Noko

#if canImport(Glibc)
import Glibc
#endif

/// Everything here runs `initExtra` in child processes: a run installs process-wide exit
/// and signal handlers, which must not touch the test runner.
@Suite struct RunLifecycleTests {
    private func metadata(_ dir: URL) throws -> RunMetadata { try RunMetadata.read(from: dir) }

    @Test func aRunRecordsConfigMetadataSeedsAndTheConfigRow() throws {
        let runs = temporaryDirectory()
        let child = try Child(["extra", runs.path, "r1", "5"], environment: ["CUDA_VISIBLE_DEVICES": "3", "SECRET_THING": "x"])
        #expect(child.wait() == 0, "\(child.stderr)")
        let dir = runs.appendingPathComponent("r1")
        let config = try readJSON(dir.appendingPathComponent("config.json"))
        #expect(config["lr"] == 0.1)
        #expect(config["apiKey"] == "<redacted>")
        #expect(config["nested"]?["authToken"] == "<redacted>")
        #expect(config["nested"]?["maxTokens"] == 256)
        #expect(child.stderr.contains("config key 'apiKey': its name looks like a secret"))
        let m = try metadata(dir)
        #expect(m.formatVersion == Noko.formatVersion)
        #expect(m.status == "finished")
        #expect(m.exitCode == 0)
        #expect(m.runName == "r1")
        #expect(m.seed == 7)
        #expect(m.rank == 0 && m.worldSize == 1)
        #expect(m.argv?.contains("extra") == true)
        #expect(m.pid != nil && m.host != nil && m.os != nil && m.kernel != nil && m.swiftVersion != nil)
        #expect(m.environment == ["CUDA_VISIBLE_DEVICES": "3"])
        #expect(m.endTime! >= m.startTime!)
        let seeds = try readJSON(dir.appendingPathComponent("seeds.json"))
        #expect(seeds["root_seed"] == 7)
        #expect(seeds["generators"]?["noko"] == .int(Int64(Seeding.derivedSeed(root: 7, name: "noko"))))
        let configRow = try LogFileLoader.loadTable("config", fromJournal: dir.appendingPathComponent("noko.ndjson").path)
        #expect(configRow["nested/depth"] == [3])
        #expect(configRow["apiKey"] == ["<redacted>"])
        #expect(try LogFileLoader.loadTable("t", fromJournal: dir.appendingPathComponent("noko.ndjson").path).rowCount == 5)
        // The secrets appear in no file of the run.
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
            let bytes = try Data(contentsOf: dir.appendingPathComponent(file))
            #expect(bytes.range(of: Data("sk-very-secret".utf8)) == nil, "\(file)")
            #expect(bytes.range(of: Data("tok-123".utf8)) == nil, "\(file)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(".crash-pending").path))
        #expect(RunStatus.of(m, crashFileExists: false) == .finished)
    }

    @Test func aNonZeroExitMarksTheRunFailedWithItsCode() throws {
        let runs = temporaryDirectory()
        let child = try Child(["extra", runs.path, "r", "2", "exit 3"])
        #expect(child.wait() == 3)
        let m = try metadata(runs.appendingPathComponent("r"))
        #expect(m.status == "failed")
        #expect(m.exitCode == 3)
    }

    @Test func withRunRecordsTheThrownError() throws {
        let runs = temporaryDirectory()
        let child = try Child(["extra", runs.path, "r", "0", "throw"])
        #expect(child.wait() == 0)
        let m = try metadata(runs.appendingPathComponent("r"))
        #expect(m.status == "failed")
        #expect(m.error == "the experiment diverged")
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func aTerminatingSignalMarksTheRunKilledWritesEveryViewAndLosesNoRow(signal: Int32) throws {
        let runs = temporaryDirectory()
        // A flush interval of ten minutes: only the flush the signal triggers can have
        // written the views.
        let child = try Child(["extra", runs.path, "victim", "forever"], environment: ["NOKO_TEST_FLUSH_MS": "600000"])
        #expect(child.waitFor { ($0.hasPrefix("logged ") && Int($0.dropFirst(7))! >= 2000) } != nil, "the child logs")
        let loggedBeforeTheSignal = try #require(child.lastLogged)
        child.signal(signal)
        let status = child.wait()
        #expect(child.process.terminationReason == .uncaughtSignal && status == signal, "the signal still ends the process")
        let dir = runs.appendingPathComponent("victim")
        let m = try metadata(dir)
        #expect(m.status == "killed")
        #expect(m.signal == (signal == SIGTERM ? "SIGTERM" : "SIGINT"))
        #expect(m.exitCode == 128 + Int(signal))
        let journal = try LogFileLoader.loadTable("t", fromJournal: dir.appendingPathComponent("noko.ndjson").path)
        let lastLogged = try #require(child.lastLogged)
        #expect(journal.rowCount >= lastLogged + 1)
        // The views hold every row logged before the signal, value for value as the journal;
        // rows logged in the moment before the process died are in the journal only.
        let csv = try LogFileLoader.load(dir.appendingPathComponent("t.csv").path)
        #expect(csv.rowCount > loggedBeforeTheSignal && csv.rowCount <= journal.rowCount)
        for key in ["$step", "i", "x", "r"] {
            #expect(csv[key] == journal[key].map { Array($0.prefix(csv.rowCount)) }, "t.csv column \(key)")
        }
        let summary = try readJSON(dir.appendingPathComponent("summary.json"))
        let rows = Int(try #require(summary["tables"]?["t"]?["rows"]?.intValue))
        #expect(rows > loggedBeforeTheSignal && rows <= journal.rowCount)
        let columns = summary["tables"]?["t"]?["columns"]
        #expect(summary["tables"]?["t"]?["last_step"] == .int(Int64(rows - 1)))
        #expect(columns?["i"]?["count"] == .int(Int64(rows)))
        for key in ["i", "x", "r"] {
            #expect(columns?[key]?["last"]?.doubleValue == journal[key]?[rows - 1].doubleValue, "summary.json \(key).last")
        }
        #expect(columns?["x"]?["max"]?.doubleValue == journal["x"]?[rows - 1].doubleValue)
        #expect(columns?["x"]?["min"]?.doubleValue == 0)
    }

    @Test func aSwiftTrapLeavesACrashFileAndReadsFailed() throws {
        let runs = temporaryDirectory()
        let child = try Child(["extra", runs.path, "crasher", "3", "trap"], environment: ["SWIFT_BACKTRACE": "enable=no"])
        _ = child.wait()
        #expect(child.process.terminationReason == .uncaughtSignal)
        let dir = runs.appendingPathComponent("crasher")
        let crash = try String(contentsOf: dir.appendingPathComponent("crash"), encoding: .utf8)
        #expect(["SIGILL\n", "SIGTRAP\n"].contains(crash), "\(crash)")
        let m = try metadata(dir)
        #expect(m.status == "running", "the process died before it could write anything else")
        #expect(RunStatus.of(m, crashFileExists: true) == .failed)
    }

    @Test func resumingACrashedRunClearsItsCrashMarker() throws {
        let runs = temporaryDirectory()
        _ = try Child(["extra", runs.path, "again", "2", "trap"], environment: ["SWIFT_BACKTRACE": "enable=no"]).wait()
        let dir = runs.appendingPathComponent("again")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("crash").path))
        #expect(try Child(["extra", runs.path, "again", "2"], environment: ["NOKO_TEST_RESUME": "1"]).wait() == 0)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("crash").path))
        #expect(RunStatus.of(try metadata(dir), crashFileExists: false) == .finished)
    }

    @Test func aSignalTheProcessStartedIgnoringStaysIgnored() throws {
        let runs = temporaryDirectory()
        // A background job started by a shell script: SIGINT ignored from the start.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sh")
        child.arguments = ["-c", "trap '' INT; exec \"$0\" extra \"$1\" ignored forever", childPath, runs.path]
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        defer { if child.isRunning { kill(child.processIdentifier, SIGKILL) } }
        let journal = runs.appendingPathComponent("ignored/noko.ndjson")
        let started = Date().addingTimeInterval(60)
        while (try? Data(contentsOf: journal).count) ?? 0 < 10_000, Date() < started { usleep(20_000) }
        try #require((try? Data(contentsOf: journal).count) ?? 0 >= 10_000, "the child logs")
        kill(child.processIdentifier, SIGINT)
        usleep(300_000)
        #expect(child.isRunning, "Ctrl-C meant for the shell does not end the job")
        kill(child.processIdentifier, SIGTERM)
        let ended = Date().addingTimeInterval(60)
        while child.isRunning, Date() < ended { usleep(10_000) }
        try #require(!child.isRunning, "SIGTERM ends the job")
        #expect(child.terminationReason == .uncaughtSignal && child.terminationStatus == SIGTERM)
        // The run records the signal that ended it: a SIGINT handled by mistake would record
        // SIGINT (and end the process at once).
        let m = try metadata(runs.appendingPathComponent("ignored"))
        #expect(m.status == "killed")
        #expect(m.signal == "SIGTERM")
        #expect(m.exitCode == 128 + Int(SIGTERM))
    }

    @Test(arguments: [(SIGSEGV, "SIGSEGV"), (SIGBUS, "SIGBUS"), (SIGFPE, "SIGFPE"), (SIGABRT, "SIGABRT")])
    func aCrashSignalLeavesACrashFileNamingIt(signal: Int32, name: String) throws {
        let runs = temporaryDirectory()
        let child = try Child(["extra", runs.path, "crasher", "3", "hang"], environment: ["SWIFT_BACKTRACE": "enable=no"])
        #expect(child.waitFor { $0 == "hanging" } != nil)
        child.signal(signal)
        let status = child.wait()
        #expect(child.process.terminationReason == .uncaughtSignal && status == signal, "the signal goes on to kill the process")
        let dir = runs.appendingPathComponent("crasher")
        #expect(try String(contentsOf: dir.appendingPathComponent("crash"), encoding: .utf8) == name + "\n")
        let m = try metadata(dir)
        #expect(m.status == "running", "the process died before it could write anything else")
        #expect(RunStatus.of(m, crashFileExists: true) == .failed)
    }

    @Test func threadsRacingToTheFirstLogRowShareOneRun() throws {
        let cwd = temporaryDirectory()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: childPath)
        child.arguments = ["race"]
        child.currentDirectoryURL = cwd
        child.standardError = FileHandle.nullDevice
        try child.run()
        child.waitUntilExit()
        #expect(child.terminationStatus == 0)
        let runs = try FileManager.default.contentsOfDirectory(atPath: cwd.appendingPathComponent("runs").path)
        #expect(runs.count == 1)
        let rows = try LogFileLoader.loadTable("t", fromJournal: cwd.appendingPathComponent("runs/\(runs[0])/noko.ndjson").path)
        #expect(rows.rowCount == 8)
    }

    @Test func sigkillLeavesARunningRunWhoseHeartbeatGoesStale() throws {
        let runs = temporaryDirectory()
        let child = try Child(["extra", runs.path, "gone", "3", "hang"], environment: ["NOKO_TEST_HEARTBEAT_MS": "100"])
        child.waitFor { $0 == "hanging" }
        // Polled, not slept: a loaded machine may delay the heartbeat thread.
        var beating = try metadata(runs.appendingPathComponent("gone"))
        let deadline = Date().addingTimeInterval(30)
        while beating.heartbeat! <= beating.startTime!, Date() < deadline {
            usleep(50_000)
            beating = try metadata(runs.appendingPathComponent("gone"))
        }
        #expect(beating.heartbeat! > beating.startTime!, "the heartbeat is refreshed")
        #expect(RunStatus.of(beating, crashFileExists: false, now: beating.heartbeat! + 0.1) == .running)
        child.signal(SIGKILL)
        _ = child.wait()
        let m = try metadata(runs.appendingPathComponent("gone"))
        #expect(m.status == "running")
        #expect(RunStatus.of(m, crashFileExists: false, now: m.heartbeat! + 1) == .stale)
    }

    @Test func concurrentStartsGetTheirOwnDirectories() throws {
        let runs = temporaryDirectory()
        let children = try (0..<12).map { _ in try Child(["extra", runs.path, "-", "1"]) }
        for child in children { #expect(child.wait() == 0, "\(child.stderr)") }
        let dirs = try FileManager.default.contentsOfDirectory(atPath: runs.path)
        #expect(dirs.count == 12)
        let names = Set(try dirs.map { try metadata(runs.appendingPathComponent($0)).runName })
        #expect(names.count == 12)
    }

    @Test func anExistingExplicitNameIsAnError() throws {
        let runs = temporaryDirectory()
        #expect(try Child(["extra", runs.path, "taken", "1"]).wait() == 0)
        let second = try Child(["extra", runs.path, "taken", "1"])
        #expect(second.wait() != 0)
        #expect(second.stderr.contains("already exists"))
    }

    @Test func ranksShareOneRunDirectory() throws {
        let runs = temporaryDirectory()
        let children = try (0..<3).map { rank in
            try Child(["extra", runs.path, "-", "4"], environment: ["RANK": "\(rank)", "WORLD_SIZE": "3", "NOKO_RUN_NAME": "job-17"])
        }
        for child in children { #expect(child.wait() == 0, "\(child.stderr)") }
        let dir = runs.appendingPathComponent("job-17")
        #expect(try metadata(dir).worldSize == 3)
        var seeds: Set<Int64> = []
        for rank in 0..<3 {
            let rankDir = rank == 0 ? dir : dir.appendingPathComponent("rank-\(rank)")
            let m = try metadata(rankDir)
            #expect(m.rank == rank)
            seeds.insert(m.seed!)
            #expect(try LogFileLoader.loadTable("t", fromJournal: rankDir.appendingPathComponent("noko.ndjson").path).rowCount == 4)
        }
        #expect(seeds.count == 3, "each rank draws from its own seed")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("rank-1/config.json").path), "rank 0 owns the config")
    }

    @Test func resumingContinuesStepsAndTheSummary() throws {
        let runs = temporaryDirectory()
        #expect(try Child(["extra", runs.path, "long", "5", "exit 1"]).wait() == 1)
        let refused = try Child(["extra", runs.path, "long", "3"])
        #expect(refused.wait() != 0, "without resume, an existing name is an error")
        let resumed = try Child(["extra", runs.path, "long", "3"], environment: ["NOKO_TEST_RESUME": "1"])
        #expect(resumed.wait() == 0, "\(resumed.stderr)")
        let dir = runs.appendingPathComponent("long")
        let journal = try LogFileLoader.loadTable("t", fromJournal: dir.appendingPathComponent("noko.ndjson").path)
        #expect(journal["$step"] == (0..<8).map { .int(Int64($0)) }, "steps continue where the first process stopped")
        let csv = try LogFileLoader.load(dir.appendingPathComponent("t.csv").path)
        #expect(csv.rowCount == 8)
        let summary = try readJSON(dir.appendingPathComponent("summary.json"))
        #expect(summary["tables"]?["t"]?["rows"] == 8)
        #expect(summary["tables"]?["t"]?["last_step"] == 7)
        let m = try metadata(dir)
        #expect(m.status == "finished")
    }

    /// scripts/torture found them piling up: a kill during a rewrite of summary.json,
    /// metadata.json, a CSV file or the sync cursor leaves its temporary file.
    @Test func resumingRemovesTheTemporaryFilesOfKilledWriters() throws {
        let runs = temporaryDirectory()
        #expect(try Child(["extra", runs.path, "left", "2", "exit 1"]).wait() == 1)
        let dir = runs.appendingPathComponent("left")
        let leftovers = [".summary.json.tmp-2147483646-3", ".t.csv.tmp-2147483646-7", "sync/.wandb.json.tmp-2147483645-1"]
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sync"), withIntermediateDirectories: true)
        for name in leftovers { try Data("half".utf8).write(to: dir.appendingPathComponent(name)) }
        let resumed = try Child(["extra", runs.path, "left", "1"], environment: ["NOKO_TEST_RESUME": "1"])
        #expect(resumed.wait() == 0, "\(resumed.stderr)")
        for name in leftovers { #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), "\(name)") }
    }

    /// scripts/torture found CSV, Parquet and TensorBoard lacking, for good, the rows each
    /// kill cut off (those they still held for their next flush or row group).
    @Test func resumingWritesIntoTheViewsTheRowsAKillCutOff() throws {
        let runs = temporaryDirectory()
        // A minute's flush interval: every row is still held when the kill comes.
        let environment = ["NOKO_TEST_FLUSH_MS": "60000", "NOKO_PARQUET": "1"]
        let killed = try Child(["extra", runs.path, "views", "forever"], environment: environment)
        #expect(killed.waitFor { $0 == "logged 40" } != nil)
        killed.signal(SIGKILL)
        _ = killed.wait()
        let resumed = try Child(["extra", runs.path, "views", "3"], environment: environment.merging(["NOKO_TEST_RESUME": "1"]) { $1 })
        #expect(resumed.wait() == 0, "\(resumed.stderr)")

        let dir = runs.appendingPathComponent("views")
        let journalPath = dir.appendingPathComponent("noko.ndjson").path
        let journal = try LogFileLoader.loadTable("t", fromJournal: journalPath)
        #expect(journal.rowCount > 41)
        #expect(try LogFileLoader.load(dir.appendingPathComponent("t.csv").path)["i"] == journal["i"])
        #expect(try ParquetReader.readTable(at: dir.appendingPathComponent("t.parquet"))["i"] == journal["i"])
        // Every row of this run at TensorBoard's level (INFO) has a number, so makes an event.
        var informative = 0
        _ = try JournalScanner.forEachRow(in: journalPath, fileStem: { $0 }) { row in
            if row.level >= .info { informative += 1 }
        }
        var events = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where name.hasPrefix("events.out.tfevents.") {
            events += try TensorBoardEventCount.scalarEvents(inFile: dir.appendingPathComponent(name).path)
        }
        #expect(events == informative)
    }

    @Test func bootstrapLoggingSendsTheProgramsMessagesToDebugLog() throws {
        let runs = temporaryDirectory()
        let child = try Child(["extra", runs.path, "logs", "1"], environment: ["NOKO_TEST_BOOTSTRAP": "1"])
        #expect(child.wait() == 0)
        let debugLog = try String(contentsOf: runs.appendingPathComponent("logs/debug.log"), encoding: .utf8)
        #expect(debugLog.contains("INFO app: hello from the app"))
        #expect(debugLog.contains("WARNING app: a warning from the app"))
        #expect(!debugLog.contains("before the run"))
        #expect(child.stderr.contains("app: warning: a warning from the app"))
        #expect(!child.stderr.contains("hello from the app"), "info stays out of stderr")
    }

    @Test func initExtraAdoptsAnAutoInitializedRunAndReturnsItTwice() throws {
        let cwd = temporaryDirectory()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: childPath)
        child.arguments = ["adopt"]
        child.currentDirectoryURL = cwd
        let out = Pipe(), err = Pipe()
        child.standardOutput = out
        child.standardError = err
        try child.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        #expect(child.terminationStatus == 0, "\(errors)")
        let lines = text.split(separator: "\n").map(String.init)
        let auto = lines.first { $0.hasPrefix("auto ") }?.dropFirst(5)
        let run = lines.first { $0.hasPrefix("run ") }?.dropFirst(4)
        #expect(auto != nil && auto == run)
        #expect(lines.contains("same true"))
        #expect(errors.contains("already called"))
    }
}
