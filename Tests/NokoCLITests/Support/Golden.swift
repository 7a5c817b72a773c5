import Foundation
import Testing

/// Golden files in `Tests/NokoCLITests/Golden/`: expected command output, committed.
/// `NOKO_UPDATE_GOLDEN=1 swift test --filter NokoCLITests` rewrites them from the output; that
/// run fails on purpose (it compared nothing), and with `CI` set the rewrite is refused.
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Golden")

    /// Expects `actual` to equal the golden file `name`.
    ///
    /// In update mode the file is rewritten and an issue is recorded all the same: a run that
    /// rewrote goldens compared nothing, so it must never report green. Under `CI` the update
    /// mode is refused and the output is compared as usual.
    static func check(_ actual: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        check(actual, name, in: directory, environment: ProcessInfo.processInfo.environment, sourceLocation: sourceLocation)
    }

    /// ``check(_:_:sourceLocation:)`` against the golden files in `directory`, with `environment`.
    static func check(
        _ actual: String, _ name: String, in directory: URL, environment: [String: String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let url = directory.appendingPathComponent(name)
        if environment["NOKO_UPDATE_GOLDEN"] == "1" {
            if environment["CI"].map({ !$0.isEmpty && $0 != "0" && $0 != "false" }) ?? false {
                Issue.record(
                    "NOKO_UPDATE_GOLDEN=1 is refused when CI is set: goldens are compared, never rewritten, in CI",
                    sourceLocation: sourceLocation)
            } else {
                try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                try! Data(actual.utf8).write(to: url)
                Issue.record(
                    "rewrote golden \(name) (NOKO_UPDATE_GOLDEN=1): nothing was compared; review the diff and run again without it",
                    sourceLocation: sourceLocation)
                return
            }
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
