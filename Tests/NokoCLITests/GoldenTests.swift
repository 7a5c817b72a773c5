import Foundation
import Synchronization
import Testing

/// The golden check itself: a run that rewrites goldens must never report green, and CI
/// never rewrites them.
@Suite struct GoldenTests {
    private func scratch() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("noko-golden-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data("expected\n".utf8).write(to: directory.appendingPathComponent("g.txt"))
        return directory
    }

    private func contents(_ directory: URL) -> String? {
        try? String(contentsOf: directory.appendingPathComponent("g.txt"), encoding: .utf8)
    }

    @Test func updateModeRewritesTheFileAndStillFails() throws {
        let directory = try scratch()
        withKnownIssue {
            Golden.check("new output\n", "g.txt", in: directory, environment: ["NOKO_UPDATE_GOLDEN": "1"])
        } matching: { issue in
            "\(issue)".contains("rewrote golden g.txt")
        }
        #expect(contents(directory) == "new output\n")
    }

    @Test func updateModeIsRefusedUnderCI() throws {
        let directory = try scratch()
        // Matching output: the only issue is the refusal.
        withKnownIssue {
            Golden.check("expected\n", "g.txt", in: directory, environment: ["NOKO_UPDATE_GOLDEN": "1", "CI": "true"])
        } matching: { issue in
            "\(issue)".contains("refused when CI is set")
        }
        // Different output: refused, then compared, and the golden is left as it was.
        let recorded = Mutex<[String]>([])
        withKnownIssue {
            Golden.check("changed\n", "g.txt", in: directory, environment: ["NOKO_UPDATE_GOLDEN": "1", "CI": "1"])
        } matching: { issue in
            recorded.withLock { $0.append("\(issue)") }
            return true
        }
        let comments = recorded.withLock { $0 }
        #expect(comments.contains { $0.contains("refused when CI is set") }, "\(comments)")
        #expect(comments.contains { $0.contains("output differs from golden g.txt at line 1") }, "\(comments)")
        #expect(contents(directory) == "expected\n")
    }

    @Test func comparisonPassesOnlyOnEqualOutput() throws {
        let directory = try scratch()
        Golden.check("expected\n", "g.txt", in: directory, environment: [:])
        withKnownIssue {
            Golden.check("expected\nmore\n", "g.txt", in: directory, environment: [:])
        } matching: { issue in
            "\(issue)".contains("output differs from golden g.txt at line 2")
        }
    }
}
