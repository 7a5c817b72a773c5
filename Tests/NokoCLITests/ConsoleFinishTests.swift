import Foundation
import NokoTestSupport
import Testing

/// The example, as `make demo` runs it, with its output in a file: the console tee usually
/// reaches end of file and exits before it reads finish's request, and that is a complete log,
/// not a tee that "did not answer" (the warning `make demo` printed on two runs in three).
@Suite struct ConsoleFinishTests {
    @Test func theExampleFinishesWithoutAConsoleWarning() throws {
        let directory = temporaryDirectory()
        for attempt in 0..<6 {
            let output = directory.appendingPathComponent("stdout\(attempt).txt")
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: NokoRunTests.builtProduct("noko-example"))
            process.arguments = ["--runs-dir", directory.appendingPathComponent("runs").path]
            process.currentDirectoryURL = directory
            var environment = ProcessInfo.processInfo.environment
            environment["NOKO_NO_CHECKPOINT"] = "1"
            process.environment = environment
            process.standardOutput = try FileHandle(forWritingTo: output)
            let errors = Pipe()
            process.standardError = errors
            try process.run()
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(stderr)")
            #expect(!stderr.contains("did not answer"), "attempt \(attempt): \(stderr)")
        }
    }
}
