import Foundation
import NokoCore
import NokoWandbTestSupport
import Testing

@testable import NokoCLI

/// Runs whose names and values hold every control character and real terminal attacks:
/// no text output of any command lets one through, `--json` gives the strings back exactly.
@Suite struct HostileRunTests {
    /// Two hostile runs (one crashed) under `runs/`.
    func hostileRuns() throws -> Fixtures {
        let fixtures = Fixtures()
        try fixtures.hostileRun()
        try fixtures.hostileRun(Hostile.runName + "b", noteSuffix: "-b", crashed: true)
        return fixtures
    }

    /// Runs `arguments` with `terminal`, expects stdout and stderr to be terminal-safe, and
    /// returns stdout.
    @discardableResult
    func safeOutput(
        _ fixtures: Fixtures, _ arguments: [String], terminal: Terminal = .plain, environment: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> String {
        let context = fixtures.context(terminal: terminal, environment: environment)
        let what = arguments.map(TerminalText.escaped).joined(separator: " ")
        do {
            try fixtures.run(arguments, context: context)
        } catch {
            Hostile.expectSafe(Array("Error: \(error)".utf8), "\(what): the error", sourceLocation: sourceLocation)
            Hostile.expectSafe(Array(context.capturedError.utf8), "\(what): stderr", sourceLocation: sourceLocation)
            throw error
        }
        Hostile.expectSafe(context.capturedOutputBytes, colour: terminal.colour, what, sourceLocation: sourceLocation)
        Hostile.expectSafe(Array(context.capturedError.utf8), colour: terminal.colour, "\(what): stderr", sourceLocation: sourceLocation)
        return context.capturedOutput
    }

    static let table = "t" + Hostile.value
    static let runA = "runs/" + Hostile.runName
    static let runB = "runs/" + Hostile.runName + "b"

    // MARK: - Golden: what people see

    @Test func showGolden() throws {
        let fixtures = try hostileRuns()
        Golden.check(try safeOutput(fixtures, ["show", Self.runA]), "show-hostile.txt")
        Golden.check(try safeOutput(fixtures, ["show", Self.runB, "--table", Self.table]), "show-hostile-table.txt")
    }

    @Test func listAndCompareGolden() throws {
        let fixtures = try hostileRuns()
        Golden.check(try safeOutput(fixtures, ["list", "--config", "*"]), "list-hostile.txt")
        Golden.check(try safeOutput(fixtures, ["compare", Self.runA, Self.runB]), "compare-hostile.txt")
    }

    // MARK: - Every text output of every command

    @Test func everyTextOutputIsSafeWithAndWithoutColour() throws {
        let fixtures = try hostileRuns()
        let template = fixtures.url("user.mustache")
        // A user's template with triple mustaches, which Mustache never escapes.
        try Data("{{{name}}} {{{status_detail}}}\n{{#config}}{{{key}}}={{{value}}}\n{{/config}}{{#tables}}{{{name}}} {{{file}}}\n{{/tables}}".utf8)
            .write(to: template)
        let commands: [[String]] = [
            ["show", Self.runA], ["show", Self.runB], ["show", Self.runA, "--table", Self.table],
            ["show", Self.runA, "--columns", "k*,s"], ["show", Self.runA, "--table", "results"],
            ["show", Self.runB, "--template", template.path], ["list"], ["list", "--config", "*"],
            ["list", "--metric", Self.table + "/k" + Hostile.value, "--sort", "config.note"],
            ["list", "--where", "config.note~A*"], ["compare", Self.runA, Self.runB],
            ["compare", Self.runA, Self.runB, "--columns", "*"],
            ["export", Self.runA, "--table", Self.table, "--format", "csv", "-o", Hostile.argument + ".csv"],
            ["export", Self.runA, "--table", Self.table, "--format", "parquet", "-o", Hostile.argument + ".parquet"],
            ["report", Self.runA, Self.runB, "-o", Hostile.argument + ".html"],
        ]
        for arguments in commands {
            for terminal in [Terminal.plain, Terminal(colour: true, isInteractive: true, width: 100)] {
                // A diff is file contents: into a pipe the exact bytes, on a terminal filtered
                // (see diffIsExactIntoAPipeAndSafeOnATerminal).
                if arguments[0] == "diff" { continue }
                let output = try safeOutput(fixtures, arguments, terminal: terminal)
                if arguments[0] == "show" || arguments[0] == "list" || arguments[0] == "compare" {
                    #expect(!output.isEmpty)
                }
            }
        }
        // The user's template saw escaped values.
        let shown = try safeOutput(fixtures, ["show", Self.runB, "--template", template.path])
        #expect(shown.hasPrefix(TerminalText.escaped(Hostile.runName + "b") + " crashed: " + TerminalText.escaped(Hostile.value)))
    }

    /// Errors and warnings that quote a run's names: escaped too.
    @Test func errorsAndWarningsAreSafe() throws {
        let fixtures = try hostileRuns()
        let failing: [[String]] = [
            ["show", Self.runA, "--table", "no" + Hostile.argument], ["show", "runs/no" + Hostile.argument],
            ["export", Self.runA, "--table", "no" + Hostile.argument, "--format", "csv"],
            ["checkout", Self.runA, fixtures.url("code" + Hostile.argument).path],
            ["sync", Self.runA, "runs/missing" + Hostile.argument],
            ["list", "--where", "config.note" + Hostile.clear], ["report", Self.runA, "--tables", "no" + Hostile.argument],
            ["compare", Self.runA, "runs/no" + Hostile.argument],
        ]
        for arguments in failing {
            #expect(throws: (any Error).self) {
                try safeOutput(fixtures, arguments, environment: ["HOME": "/nonexistent-home", "WANDB_BASE_URL": "http://127.0.0.1:9"])
            }
        }
        // A run whose metadata cannot be read is listed with a warning naming it; a torn journal line
        // is skipped with a warning naming the file.
        let broken = fixtures.url("runs/broken" + Hostile.argument)
        try FileManager.default.createDirectory(at: broken, withIntermediateDirectories: true)
        try Data("{not json".utf8).write(to: broken.appendingPathComponent("metadata.json"))
        let context = fixtures.context()
        try fixtures.run(["list"], context: context)
        #expect(context.capturedError.contains("warning: broken" + TerminalText.escaped(Hostile.argument)))
        Hostile.expectSafe(Array(context.capturedError.utf8), "list: stderr")
        try FileManager.default.removeItem(at: broken)

        let run = fixtures.url(Self.runA)
        try FileManager.default.removeItem(at: run.appendingPathComponent("summary.json"))
        let journal = try FileHandle(forWritingTo: run.appendingPathComponent("noko.ndjson"))
        try journal.seekToEnd()
        try journal.write(contentsOf: Data("{\"$table\": \"torn".utf8))
        try journal.close()
        let torn = fixtures.context()
        try fixtures.run(["show", Self.runA], context: torn)
        #expect(torn.capturedError.contains("warning: " + TerminalText.escaped(run.path + "/noko.ndjson") + ": the last line is incomplete"))
        Hostile.expectSafe(Array(torn.capturedError.utf8), "show with a torn journal: stderr")
        Hostile.expectSafe(torn.capturedOutputBytes, "show with a torn journal")
    }

    /// `diff` into a pipe is the exact bytes (for `git apply`); on a terminal only colour passes.
    @Test func diffIsExactIntoAPipeAndSafeOnATerminal() throws {
        let fixtures = try hostileRuns()
        let pipe = fixtures.context()
        try fixtures.run(["diff", Self.runA], context: pipe)
        #expect(pipe.capturedOutputBytes == Array(Hostile.diff.utf8))
        let context = fixtures.context(terminal: Terminal(colour: true, isInteractive: true))
        try fixtures.run(["diff", Self.runA, "--no-pager"], context: context)
        Hostile.expectSafe(context.capturedOutputBytes, colour: true, programOutput: true, "diff on a terminal")
        #expect(context.capturedOutput.contains("\u{1B}[32m+A" + #"\e[2J\e]52;c;ZXZpbA==\x07B"# + "\u{1B}[0m\r\nC"))
        let uncoloured = fixtures.context(terminal: Terminal(colour: false, isInteractive: true))
        try fixtures.run(["diff", Self.runA, "--no-pager"], context: uncoloured)
        Hostile.expectSafe(uncoloured.capturedOutputBytes, programOutput: true, "diff on a terminal without colour")
    }

    // MARK: - --json gives the strings back exactly

    @Test func jsonRoundTripsTheOriginalStrings() throws {
        let fixtures = try hostileRuns()
        let value = Hostile.value
        let showContext = fixtures.context()
        try fixtures.run(["show", Self.runA, "--json"], context: showContext)
        Hostile.expectSafeJSON(showContext.capturedOutputBytes, "show")
        let show = try JSONValue(parsing: showContext.capturedOutputBytes)
        #expect(show["name"] == .string(Hostile.runName))
        #expect(show["config"]?["note"] == .string(value))
        #expect(show["config"]?["k" + value] == 1.5)
        #expect(show["config"]?["nested/n" + value] == .string(value))
        #expect(show["metadata"]?["argv"]?.arrayValue?.last == .string(Hostile.argument))
        #expect(show["metadata"]?["host"] == .string(value))
        #expect(show["metadata"]?["environment"]?["CUDA" + value] == .string(value))
        #expect(show["git"]?["branch"] == .string(value))
        #expect(show["remote"]?["wandb"]?["url"] == .string(value))
        let table = try #require(show["tables"]?.arrayValue?.first { $0["name"] == .string(Self.table) })
        let columns = table["columns"]?.arrayValue ?? []
        #expect(columns.contains { $0["name"] == .string("k" + value) })
        #expect(columns.first { $0["name"] == "s" }?["last"] == .string(value + "5"))

        let listContext = fixtures.context()
        try fixtures.run(["list", "--json"], context: listContext)
        Hostile.expectSafeJSON(listContext.capturedOutputBytes, "list")
        let list = try JSONValue(parsing: listContext.capturedOutputBytes)
        #expect(list["runs"]?.arrayValue?.map { $0["name"] } == [.string(Hostile.runName), .string(Hostile.runName + "b")])
        #expect(list["config_keys"]?.arrayValue?.contains(.string("note")) == true)

        let compareContext = fixtures.context()
        try fixtures.run(["compare", Self.runA, Self.runB, "--json"], context: compareContext)
        Hostile.expectSafeJSON(compareContext.capturedOutputBytes, "compare")
        let compare = try JSONValue(parsing: compareContext.capturedOutputBytes)
        let note = try #require(compare["config"]?.arrayValue?.first { $0["key"] == "note" })
        #expect(note["values"] == [.string(value), .string(value + "-b")])
        #expect(compare["metrics"]?.arrayValue?.contains { $0["table"] == .string(Self.table) && $0["column"] == .string("k" + value) } == true)

        let syncContext = fixtures.context(environment: ["HOME": "/nonexistent-home", "WANDB_BASE_URL": "http://127.0.0.1:9"])
        #expect(throws: CLIError.self) { try fixtures.run(["sync", "runs/missing" + Hostile.argument, "--json"], context: syncContext) }
        Hostile.expectSafeJSON(syncContext.capturedOutputBytes, "sync")
        let sync = try JSONValue(parsing: syncContext.capturedOutputBytes)
        // The error message in JSON keeps the path as it is; stderr showed it escaped.
        #expect(sync["runs"]?[0]?["error"]?.stringValue?.contains("missing" + Hostile.argument) == true)
    }

    @Test func jsonEscapesDELAndC1() throws {
        let json: JSONValue = ["s": .string("a\u{7F}b\u{85}c\u{9B}d\u{A0}é")]
        let bytes = JSONOutput.escapingDELAndC1(json.serializedBytes(pretty: true))
        #expect(String(decoding: bytes, as: UTF8.self).contains(#""a\u007fb\u0085c\u009bd"# + "\u{A0}é\""))
        #expect(try JSONValue(parsing: bytes) == json)
    }
}

extension JSONValue {
    subscript(index: Int) -> JSONValue? {
        guard let array = arrayValue, index < array.count else { return nil }
        return array[index]
    }
}

/// The real thing: runs written by `Noko.initExtra` in a child process (a git repository
/// and a working directory named with control characters, a checkpoint of a file whose
/// name and contents hold them), read by the real `noko-run` binary, synced to a wandb
/// server on 127.0.0.1.
@Suite struct HostileEndToEndTests {
    struct Written {
        var fixtures: Fixtures
        var runs: [URL]
        var repository: URL
    }

    func writeRuns() throws -> Written {
        let fixtures = Fixtures()
        let repository = fixtures.url("repo" + Hostile.clear + "\u{9B}1m\r\u{7}")
        try FileManager.default.createDirectory(at: repository, withIntermediateDirectories: true)
        try CheckoutCommandTests.git(["init", "-q", "-b", "main"], in: repository)
        try Data("seed = 1\n".utf8).write(to: repository.appendingPathComponent("train.txt"))
        try CheckoutCommandTests.git(["add", "."], in: repository)
        try CheckoutCommandTests.git(["commit", "-q", "-m", "first"], in: repository)
        // Uncommitted: a file whose name and contents hold the attacks.
        try Data((Hostile.argument + "\n").utf8).write(to: repository.appendingPathComponent("f" + Hostile.argument))
        try Data("seed = 2\r\n".utf8).write(to: repository.appendingPathComponent("train.txt"))

        var runs: [URL] = []
        for suffix in ["", "2"] {
            let child = try NokoRunTests.execute(
                NokoRunTests.builtProduct("noko-test-child"),
                ["hostile", fixtures.url("runs").path, Hostile.runName + suffix, Hostile.argument + suffix, Hostile.argument],
                environment: ["NOKO_TEST_CHECKPOINT": "1", "NO_COLOR": "1"], in: repository)
            #expect(child.status == 0, "\(child.stderr)")
            // noko's own warning names the key with the NaN: escaped, on one line.
            #expect(child.stderr.contains("NaN"), "\(child.stderr)")
            Hostile.expectSafe(Array(child.stderr.utf8), "the child's stderr (noko's warnings)")
            let run = fixtures.url("runs/" + Hostile.runName + suffix)
            let debugLog = try Data(contentsOf: run.appendingPathComponent("debug.log"))
            Hostile.expectSafe([UInt8](debugLog), "debug.log")
            runs.append(run)
        }
        return Written(fixtures: fixtures, runs: runs, repository: repository)
    }

    /// The binary's stdout and stderr for `arguments`, both checked.
    @discardableResult
    func binary(_ arguments: [String], in directory: URL, expecting status: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation) throws
        -> NokoRunTests.Result
    {
        let result = try NokoRunTests.execute(NokoRunTests.builtProduct("noko-run"), arguments, environment: ["NO_COLOR": "1"], in: directory)
        let what = arguments.map(TerminalText.escaped).joined(separator: " ")
        #expect(result.status == status, "\(what): \(result.stderr)", sourceLocation: sourceLocation)
        Hostile.expectSafe(Array(result.stdout.utf8), what, sourceLocation: sourceLocation)
        Hostile.expectSafe(Array(result.stderr.utf8), what + ": stderr", sourceLocation: sourceLocation)
        return result
    }

    @Test func theRealLibraryAndTheRealBinary() throws {
        let written = try writeRuns()
        let root = written.fixtures.root
        let (a, b) = (written.runs[0].path, written.runs[1].path)
        let table = "t" + Hostile.argument

        let shown = try binary(["show", a], in: root)
        #expect(shown.stdout.hasPrefix(TerminalText.escaped(Hostile.runName) + "  finished"))
        #expect(shown.stdout.contains("  cwd       " + TerminalText.escaped(written.repository.path)))
        let note = shown.stdout.split(separator: "\n").first { $0.hasPrefix("  note ") }
        #expect(note?.hasSuffix(" " + TerminalText.escaped(Hostile.argument)) == true)
        try binary(["show", a, "--table", table], in: root)
        try binary(["list"], in: root)
        try binary(["list", "--config", "*", "--metric", table + "/k" + Hostile.argument], in: root)
        try binary(["compare", a, b], in: root)
        let failed = try binary(["show", a, "--table", "no" + Hostile.argument], in: root, expecting: 1)
        #expect(failed.stderr.hasPrefix("Error: " + TerminalText.escaped(a) + ": no table \"no" + TerminalText.escaped(Hostile.argument)))
        try binary(["export", a, "--table", table, "--format", "csv", "-o", "out" + Hostile.argument + ".csv"], in: root)
        try binary(["report", a, b, "-o", "report" + Hostile.argument + ".html"], in: root)
        let checkout = try binary(["checkout", a, written.fixtures.url("code" + Hostile.argument).path], in: root)
        #expect(checkout.stdout.contains("remove it with: git worktree remove $'"))
        try binary(["checkout", a, written.fixtures.url("copy" + Hostile.argument).path, "--export"], in: root)

        // Into a pipe, the diff is the bytes git's checkpoint recorded.
        let diff = try NokoRunTests.execute(NokoRunTests.builtProduct("noko-run"), ["diff", a], in: root)
        #expect(diff.status == 0)
        #expect(diff.stdout == (try String(contentsOf: written.runs[0].appendingPathComponent("from_head.diff"), encoding: .utf8)))
        // On a terminal only colour, tabs and line ends pass.
        let terminal = written.fixtures.context(terminal: Terminal(colour: true, isInteractive: true))
        try written.fixtures.run(["diff", a, "--no-pager"], context: terminal)
        Hostile.expectSafe(terminal.capturedOutputBytes, colour: true, programOutput: true, "diff on a terminal")

        // --json gives the strings back exactly.
        let json = try JSONValue(parsing: try binary(["show", a, "--json"], in: root).stdout)
        #expect(json["name"] == .string(Hostile.runName))
        #expect(json["config"]?["note"] == .string(Hostile.argument))
        #expect(json["config"]?["nul"] == .string(Hostile.argument + "\u{0}"))
        #expect(json["config"]?["nested/n" + Hostile.argument] == .string(Hostile.argument))
        #expect(json["metadata"]?["cwd"] == .string(written.repository.path))
        #expect(json["metadata"]?["argv"]?.arrayValue?.suffix(2) == [.string(Hostile.argument), .string(Hostile.argument)])
        #expect(json["metadata"]?["summary"]?["s" + Hostile.argument] == .string(Hostile.argument))
        #expect(json["git"]?["root"] == .string(written.repository.path))
        #expect(json["tables"]?.arrayValue?.contains { $0["name"] == .string(table) } == true)
    }

    /// Sync's progress bar, its messages and its report, with a run named with control
    /// characters, against a real wandb server on 127.0.0.1.
    @Test func syncToARealServer() throws {
        let written = try writeRuns()
        let server = try WandbTestServer()
        let environment = [
            "WANDB_API_KEY": server.apiKey, "WANDB_BASE_URL": server.baseURL, "WANDB_ENTITY": "e" + Hostile.clear,
            "WANDB_PROJECT": "p" + Hostile.osc52, "HOME": "/nonexistent-home",
        ]
        let context = written.fixtures.context(terminal: Terminal(colour: true, isInteractive: true), environment: environment)
        try written.fixtures.run(["sync", written.runs[0].path], context: context)
        Hostile.expectSafe(context.capturedOutputBytes, colour: true, "sync")
        // The progress bar redraws its line with \r and clears it with ESC [ K: noko's own.
        let stderr = context.capturedError.replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\u{1B}[K", with: "")
        Hostile.expectSafe(Array(stderr.utf8), colour: true, "sync: stderr")
        #expect(context.capturedOutput.hasPrefix(TerminalText.escaped(Hostile.runName) + ": uploaded "))
        let shown = written.fixtures.context()
        try written.fixtures.run(["show", written.runs[0].path], context: shown)
        Hostile.expectSafe(shown.capturedOutputBytes, "show after sync")
        #expect(shown.capturedOutput.contains("  sync   complete: "))
    }
}
