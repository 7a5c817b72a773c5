#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NokoCore
import NokoWandb
import NokoWandbTestSupport
import Testing

/// A real process (noko-test-child: noko's logger writes the journal, WandbSync uploads it)
/// is killed with SIGKILL while a request is in flight, and `WandbSync.syncRun` (what
/// `noko-run sync` runs) finishes the upload.
@Suite struct WandbCrashResumeTests {
    /// The helper executable, built next to the test bundle by `swift build --build-tests`.
    private func childExecutable() throws -> URL {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var candidates = [testBinary.deletingLastPathComponent().appendingPathComponent("noko-test-child")]
        // Package root from this file: Tests/NokoWandbTests/<file>.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/noko-test-child"))
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw ChildMissing(searched: candidates.map(\.path))
        }
        return found
    }

    struct ChildMissing: Error, CustomStringConvertible {
        let searched: [String]
        var description: String { "noko-test-child not found (run `swift build --build-tests`); looked in \(searched)" }
    }

    @Test func killMinus9MidUploadThenSyncLosesAndDuplicatesNothing() throws {
        let server = try WandbTestServer()
        // Two requests go through; the third is stored by the server but never answered:
        // the child dies not knowing it arrived.
        server.inject(.hold, on: .fileStream, after: 2)
        let runsDir = FileManager.default.temporaryDirectory.appendingPathComponent("noko-wandb-crash-\(UUID().uuidString.prefix(8))")
        let directory = runsDir.appendingPathComponent("run")
        let batch = 60

        let child = Process()
        child.executableURL = try childExecutable()
        child.arguments = ["wandb", runsDir.path, "run", server.baseURL, "crashrun", String(batch)]
        child.environment = ["WANDB_API_KEY": server.apiKey, "HOME": "/nonexistent"]
        let input = Pipe(), output = Pipe()
        child.standardInput = input
        child.standardOutput = output
        try child.run()
        defer { if child.isRunning { kill(child.processIdentifier, SIGKILL) } }

        // Batch by batch, each waited for until the server has it, so every batch takes at
        // least one request of its own however slow the machine: the third one is held.
        func held(_ server: WandbTestServer) -> Bool {
            server.requests.contains { $0.kind == .fileStream(runID: "crashrun") && $0.held }
        }
        var rows = 0
        for _ in 0..<6 where !held(server) {
            input.fileHandleForWriting.write(Data("\n".utf8))
            rows += batch
            let logged = readLine(output.fileHandleForReading, timeout: 60)
            try #require(logged == "logged \(rows)")
            #expect(server.wait { held($0) || ($0.run("crashrun")?.history.count ?? 0) >= rows })
        }
        #expect(held(server))
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal)

        // The state says what was acknowledged; the server holds more than that.
        let state = try JSONValue(parsing: [UInt8](try Data(contentsOf: directory.appendingPathComponent("sync/wandb.json"))))
        let acknowledged = try #require(state["history_lines"]?.intValue)
        let held = try #require(server.requests.last { $0.kind == .fileStream(runID: "crashrun") && $0.held })
        let heldHistory = try #require(held.history)
        #expect(heldHistory.offset == acknowledged)
        #expect(Int64(try #require(server.run("crashrun")).history.count) == acknowledged + Int64(heldHistory.lines.count))
        #expect(acknowledged > 0 && acknowledged < Int64(rows))
        let requestsBeforeSync = server.requests.count

        let report = try WandbSync.syncRun(directory: directory, environment: ["WANDB_API_KEY": server.apiKey, "HOME": "/nonexistent"], messages: { _ in })
        #expect(report.exitCode == 1)  // the run died without finishing
        #expect(report.historyLines == Int64(rows))

        // The sync read the server's last lines, found the unacknowledged ones to be the
        // journal's next rows, and went on after them: nothing re-sent, nothing skipped.
        if let resumed = server.requests[requestsBeforeSync...].first(where: { $0.history != nil }) {
            #expect(resumed.history?.offset == acknowledged + Int64(heldHistory.lines.count))
        }

        let remote = try #require(server.run("crashrun"))
        #expect(remote.gaps.isEmpty)
        #expect(remote.changedLines == 0)
        #expect(remote.resentLines == 0)
        let lines = parsedLines(remote)
        #expect(lines.count == rows)
        for (i, line) in lines.enumerated() {
            #expect(line["_step"] == .int(Int64(i)))
            #expect((line["train/i"] ?? line["eval/i"]) == .int(Int64(i)), "line \(i): \(remote.history[i] ?? "missing")")
        }
        #expect(remote.complete)
        #expect(remote.exitCode == 1)
        let summary = try ExtendedJSON.parse(try #require(remote.summary))
        #expect(summary["train/i"] == .int(Int64(rows - 2)))
        #expect(summary["eval/i"] == .int(Int64(rows - 1)))
        #expect(summary["_step"] == .int(Int64(rows - 1)))
    }
}

/// One line of `handle`'s output, without its newline, or nil at EOF or after `timeout` seconds.
private func readLine(_ handle: FileHandle, timeout: Double) -> String? {
    var bytes: [UInt8] = []
    let deadline = Date().addingTimeInterval(timeout)
    var probe = pollfd(fd: handle.fileDescriptor, events: Int16(POLLIN), revents: 0)
    while Date() < deadline {
        guard poll(&probe, 1, 100) > 0 else { continue }
        var byte: UInt8 = 0
        guard read(handle.fileDescriptor, &byte, 1) == 1 else { return nil }
        if byte == 0x0A { return String(decoding: bytes, as: UTF8.self) }
        bytes.append(byte)
    }
    return nil
}
