import Foundation
import NokoTestSupport
import Testing

@testable import Noko

#if canImport(Glibc)
import Glibc
#endif

/// Console capture, end to end: each test runs `noko-test-child console …` (the capture
/// replaces descriptors 1 and 2 of the process, so never in the test runner) and reads both
/// what reached the "terminal" (the pipes or the pseudo-terminal the test gave the child)
/// and what `output.log` holds.
@Suite struct ConsoleCaptureTests {
    private func console(_ dir: URL) throws -> [ConsoleLine] {
        try ConsoleLogReader(RunLayout(dir)).readAll()
    }

    private func texts(_ lines: [ConsoleLine], _ stream: ConsoleLine.Stream) -> [String] {
        lines.filter { $0.stream == stream }.map { String(decoding: $0.text, as: UTF8.self) }
    }

    @Test func printStandardErrorWriteAndAGrandchildReachTheTerminalAndTheLog() throws {
        let runs = temporaryDirectory()
        let child = try Child([
            "console", runs.path, "r", "print=before", "start", "print=p1", "stderr=e1", "write=w1", "flush", "grandchild=gc",
            "print=p2", "stderr=e2", "finish", "print=after", "stderr=after-err",
        ])
        #expect(child.wait() == 0, "\(child.stderr)")
        // `print` is buffered into a pipe until a flush, as without capture.
        #expect(child.lines == ["before", "w1", "p1", "gc-out", "p2", "after"])
        #expect(child.stderr.split(separator: "\n") == ["e1", "gc-err", "e2", "after-err"])
        let lines = try console(runs.appendingPathComponent("r"))
        #expect(texts(lines, .stdout) == ["w1", "p1", "gc-out", "p2"], "nothing before initExtra or after finish")
        #expect(texts(lines, .stderr) == ["e1", "gc-err", "e2"])
        let times = lines.compactMap(\.time)
        #expect(times.count == lines.count && times == times.sorted())
        let now = Date().timeIntervalSince1970
        #expect(times.allSatisfy { $0 > now - 300 && $0 <= now + 1 })
        // The file is plain text, as the program wrote it.
        let text = try String(contentsOf: runs.appendingPathComponent("r/output.log"), encoding: .utf8)
        #expect(text.split(separator: "\n").sorted() == ["e1", "e2", "gc-err", "gc-out", "p1", "p2", "w1"])
    }

    @Test func underAPseudoTerminalTheProgramStillHasATerminalOfTheSameSize() throws {
        let runs = temporaryDirectory()
        let terminal = try PseudoTerminal(columns: 123, rows: 40)
        let red = "\u{1B}[31mred\u{1B}[0m"
        let status = try terminal.run(childPath, ["console", runs.path, "t", "isatty", "start", "isatty", "print=\(red)", "finish", "isatty"])
        #expect(status == 0)
        let screen = String(decoding: terminal.output, as: UTF8.self)
        #expect(screen.components(separatedBy: "isatty true true columns 123").count == 4, "\(screen)")
        #expect(screen.contains(red))
        let lines = try console(runs.appendingPathComponent("t"))
        #expect(texts(lines, .stdout) == ["isatty true true columns 123", red], "colour kept; the pty's \\r\\n is one line end")
    }

    @Test func aProgressBarRedrawnTenThousandTimesIsOneLine() throws {
        let runs = temporaryDirectory()
        let child = try Child(["console", runs.path, "p", "start", "progress=10000", "write=done", "finish"])
        #expect(child.wait() == 0)
        #expect(child.lines.first?.filter { $0 == "\r" }.count == 10_000, "the terminal sees every redraw")
        #expect(texts(try console(runs.appendingPathComponent("p")), .stdout) == ["progress 10000/10000", "done"])
    }

    @Test func aVeryLongLineIsCutOnACharacterBoundaryWithAMarker() throws {
        let runs = temporaryDirectory()
        let child = try Child(["console", runs.path, "l", "start", "longline=40000", "write=next", "finish"])
        #expect(child.wait() == 0)
        #expect(child.lines.first?.utf8.count == 80_001, "the terminal gets the whole line")
        let lines = try console(runs.appendingPathComponent("l"))
        try #require(lines.count == 2)
        let marker = Array(" [noko: line cut, 80001 bytes in all]".utf8)
        #expect(Array(lines[0].text.suffix(marker.count)) == marker)
        let kept = Array(lines[0].text.dropLast(marker.count))
        // 65,536 bytes would end inside a two-byte character: it is left out whole.
        #expect(kept.count == ConsoleTee.longestLine - 1)
        #expect(String(validating: kept, as: UTF8.self) == "x" + String(repeating: "é", count: 32_767))
        #expect(String(decoding: lines[1].text, as: UTF8.self) == "next")
    }

    @Test(arguments: [false, true]) func killMinus9RightAfterABurstKeepsEveryByte(terminal: Bool) throws {
        let runs = temporaryDirectory()
        let arguments = ["console", runs.path, "k", "start", "burst=4000000", "kill9"]
        // The child's numbered lines: as many as it takes to pass 4,000,000 bytes.
        var expected: [String] = []
        var bytes = 0
        while bytes < 4_000_000 {
            expected.append("burst \(expected.count) abcdefghijklmnopqrstuvwxyz0123456789")
            bytes += expected.last!.utf8.count + 1
        }
        let forwarded: [String]
        if terminal {
            let pty = try PseudoTerminal(columns: 80, rows: 24)
            _ = try pty.run(childPath, arguments)
            // Both terminals turn \n into \r\n on the way out (ONLCR), so lines end in \r\r\n.
            forwarded = pty.output.split(separator: 0x0A).map { String(decoding: $0.prefix { $0 != 0x0D }, as: UTF8.self) }
        } else {
            let child = try Child(arguments)
            _ = child.wait()
            #expect(child.process.terminationReason == .uncaughtSignal && child.process.terminationStatus == SIGKILL)
            forwarded = child.lines
        }
        // Compared as one Bool: a failing #expect on 80,000 lines would diff them for minutes.
        let logged = texts(try console(runs.appendingPathComponent("k")), .stdout)
        let sameOnTheTerminal = forwarded == expected, sameInTheLog = logged == expected
        #expect(sameOnTheTerminal, "the terminal got \(forwarded.count) of \(expected.count) lines; first difference at \(firstDifference(forwarded, expected))")
        #expect(sameInTheLog, "output.log got \(logged.count) of \(expected.count) lines (the writer died with them in the pipe); first difference at \(firstDifference(logged, expected))")
    }

    private func firstDifference(_ a: [String], _ b: [String]) -> String {
        guard let i = zip(a, b).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset else { return "line \(min(a.count, b.count))" }
        return "line \(i): \(a[i].debugDescription) vs \(b[i].debugDescription)"
    }

    @Test func aResumedRunAppendsAfterASeparator() throws {
        let runs = temporaryDirectory()
        #expect(try Child(["console", runs.path, "again", "start", "print=first", "finish"]).wait() == 0)
        let resumed = try Child(["console", runs.path, "again", "start", "print=second", "finish"], environment: ["NOKO_TEST_RESUME": "1"])
        #expect(resumed.wait() == 0, "\(resumed.stderr)")
        let lines = try console(runs.appendingPathComponent("again"))
        #expect(lines.map(\.stream) == [.stdout, .noko, .stdout])
        #expect(texts(lines, .stdout) == ["first", "second"])
        #expect(texts(lines, .noko).first?.hasPrefix("--- noko: run resumed at ") == true)
        // Offsets run on without a gap across the two processes.
        #expect(lines[1].offset == lines[0].endOffset && lines[2].offset == lines[1].endOffset)
    }

    @Test func rotationAtASmallCapKeepsOffsetsValidForAReaderFollowingTheFile() throws {
        let runs = temporaryDirectory()
        let dir = runs.appendingPathComponent("rot")
        let limit = 65_536
        let child = try Child(
            ["console", runs.path, "rot", "start", "write=ready", "sleep=300", "lines=12000", "finish"],
            environment: ["NOKO_TEST_CONSOLE_LIMIT": "\(limit)"])
        try #require(child.waitFor { $0 == "ready" } != nil)
        let follower = ConsoleLogReader(RunLayout(dir), follow: true)
        var followed: [ConsoleLine] = []
        while child.process.isRunning {
            if let line = try follower.next() { followed.append(line) } else { usleep(500) }
        }
        #expect(child.wait() == 0)
        while let line = try follower.next() { followed.append(line) }
        #expect(follower.skippedBytes == 0)
        #expect(texts(followed, .stdout) == ["ready"] + (0..<12_000).map { "line \($0)" })
        for (previous, line) in zip(followed, followed.dropFirst()) {
            #expect(line.offset == previous.endOffset)
        }
        // Rotated more than once, never past the cap, the live file never rewritten: what is
        // left still sits at the offsets the follower saw.
        let logSize = try #require(FileSystem.info(RunLayout(dir).outputLog.path)?.size)
        let rotatedSize = try #require(FileSystem.info(RunLayout(dir).rotatedOutputLog.path)?.size)
        #expect(logSize + rotatedSize <= UInt64(limit))
        let remaining = try console(dir)
        #expect(remaining.count > 1000 && remaining.count < followed.count)
        #expect(Array(followed.suffix(remaining.count)) == remaining)
    }

    @Test func consoleOffLeavesTheDescriptorsAlone() throws {
        for environment in [["NOKO_CONSOLE": "off"], ["NOKO_TEST_CONSOLE_OPTION": "off"]] {
            let runs = temporaryDirectory()
            let child = try Child(["console", runs.path, "off", "identity", "start", "identity", "print=hi", "finish"], environment: environment)
            #expect(child.wait() == 0)
            #expect(child.lines.count == 3 && child.lines[0] == child.lines[1] && child.lines[2] == "hi")
            #expect(!FileManager.default.fileExists(atPath: runs.appendingPathComponent("off/output.log").path))
        }
        let runs = temporaryDirectory()
        let child = try Child(["console", runs.path, "odd", "start", "print=hi", "finish"], environment: ["NOKO_CONSOLE": "sometimes"])
        #expect(child.wait() == 0)
        #expect(child.stderr.contains("NOKO_CONSOLE=sometimes: expected on or off; the console is captured"))
        #expect(texts(try console(runs.appendingPathComponent("odd")), .stdout) == ["hi"])
    }

    @Test func theOriginalDescriptorsAreBackAfterFinish() throws {
        let runs = temporaryDirectory()
        let child = try Child(["console", runs.path, "fd", "identity", "start", "identity", "finish", "identity"])
        #expect(child.wait() == 0)
        #expect(child.lines.count == 3)
        #expect(child.lines[0] == child.lines[2], "descriptors 1 and 2 are the ones the process started with")
        #expect(child.lines[1] != child.lines[0], "while the run lasts they lead to the tee")
        #expect(texts(try console(runs.appendingPathComponent("fd")), .stdout) == [child.lines[1]])
    }

    @Test func nokosOwnMessagesAreNotCapturedTwice() throws {
        let runs = temporaryDirectory()
        let child = try Child(["console", runs.path, "w", "start", "warn", "stderr=mine", "finish"])
        #expect(child.wait() == 0)
        #expect(child.stderr.contains("noko: warning: a warning of noko's own"))
        let debugLog = try String(contentsOf: runs.appendingPathComponent("w/debug.log"), encoding: .utf8)
        #expect(debugLog.contains("a warning of noko's own"))
        #expect(texts(try console(runs.appendingPathComponent("w")), .stderr) == ["mine"])
    }
}

/// A pseudo-terminal the test opens, as a terminal emulator would: the child's descriptors
/// 0, 1 and 2 are its slave, and everything written to it is collected from the master.
final class PseudoTerminal: @unchecked Sendable {
    private let master: Int32
    private let slavePath: String
    private(set) var output: [UInt8] = []

    init(columns: UInt16, rows: UInt16) throws {
        // posix_openpt and friends are not visible to Swift; their Linux ioctls are
        // (TIOCSPTLCK unlocks the slave, TIOCGPTN names it: _IOW/_IOR('T', 0x31/0x30, int)).
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        guard master >= 0, ioctl(master, 0x4004_5431, &unlock) == 0, ioctl(master, 0x8004_5430, &number) == 0 else {
            throw NokoSystemError("open a pseudo-terminal", path: nil)
        }
        slavePath = "/dev/pts/\(number)"
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
    }

    deinit { close(master) }

    /// Runs `path` with the terminal as its standard streams and returns its exit status
    /// once it has exited and everything it wrote has been read.
    func run(_ path: String, _ arguments: [String]) throws -> Int32 {
        let slave = FileHandle(forUpdatingAtPath: slavePath)!
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardInput = slave
        process.standardOutput = slave
        process.standardError = slave
        try process.run()
        try slave.close()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = read(master, &buffer, buffer.count)
            if n > 0 {
                output += buffer[..<n]
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                break  // EIO: every holder of the slave closed it
            }
        }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
