import Foundation
import NokoTestSupport
import Testing

/// The code the documentation's articles show lives in `Snippets/`: `swift build` compiles
/// it, and this runs each one, so an article's example cannot rot.
@Suite struct SnippetTests {
    static let snippetsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Snippets")

    static var names: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: snippetsDirectory.path)) ?? []
        return files.filter { $0.hasSuffix(".swift") }.map { String($0.dropLast(6)) }.sorted()
    }

    @Test func everyArticleSnippetIsFound() {
        #expect(Self.names.count >= 6, "Snippets/ at \(Self.snippetsDirectory.path)")
    }

    @Test(arguments: SnippetTests.names)
    func snippetRuns(name: String) throws {
        let executable = NokoRunTests.builtProduct(name)
        #expect(FileManager.default.isExecutableFile(atPath: executable), "\(name) was not built: swift build --build-tests builds Snippets/")
        let directory = temporaryDirectory(name)
        let result = try NokoRunTests.execute(
            executable, [], environment: ["NOKO_NO_CHECKPOINT": "1", "WANDB_MODE": "offline", "NO_COLOR": "1"], in: directory)
        #expect(result.status == 0, "\(name): \(result.stderr)")
        let runs = (try? FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("runs").path)) ?? []
        #expect(!runs.isEmpty || name == "WritingAnOutput", "\(name) wrote no run directory")
    }
}
