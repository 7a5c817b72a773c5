import Foundation
import Testing

/// Golden files in `Tests/NokoCLITests/Golden/`: expected command output, committed.
/// `NOKO_UPDATE_GOLDEN=1 swift test --filter NokoCLITests` rewrites them from the output.
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Golden")

    /// Expects `actual` to equal the golden file `name`.
    static func check(_ actual: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let url = directory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["NOKO_UPDATE_GOLDEN"] == "1" {
            try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try! Data(actual.utf8).write(to: url)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record("missing golden file \(name); run with NOKO_UPDATE_GOLDEN=1 to create it", sourceLocation: sourceLocation)
            return
        }
        if expected != actual {
            let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
            let line = (0..<min(e.count, a.count)).first { e[$0] != a[$0] } ?? min(e.count, a.count)
            let want = line < e.count ? String(e[line]) : "<end>"
            let got = line < a.count ? String(a[line]) : "<end>"
            Issue.record(
                "output differs from golden \(name) at line \(line + 1):\n  expected: \(want)\n  actual:   \(got)\n--- actual output ---\n\(actual)",
                sourceLocation: sourceLocation)
        }
    }
}
