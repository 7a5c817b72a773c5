import Foundation
import NokoCore
import Testing

@testable import NokoCLI

/// Text that must never reach a terminal as it is: every C0 control, DEL, NEL (U+0085), the
/// 8-bit CSI (U+009B), and real attacks: OSC 52 (write the clipboard), OSC 0 (set the
/// window title), CSI 2J (clear the screen), DCS (a terminal query).
enum Hostile {
    /// U+0000…U+001F, DEL, U+0085, U+009B.
    static let controls: String = {
        var scalars = String.UnicodeScalarView()
        for value in 0..<0x20 as Range<UInt32> { scalars.append(Unicode.Scalar(value)!) }
        scalars.append(contentsOf: ["\u{7F}", "\u{85}", "\u{9B}"] as [Unicode.Scalar])
        return String(scalars)
    }()
    static let osc52 = "\u{1B}]52;c;ZXZpbA==\u{07}"
    static let title = "\u{1B}]0;pwned\u{07}"
    static let clear = "\u{1B}[2J"
    static let dcs = "\u{1B}P+q544e\u{1B}\\"
    /// All of it, with a literal `\e` that must not print like ESC.
    static let value = "A" + clear + osc52 + "B\r\nC" + title + dcs + controls + #"\e"# + "Z"
    /// `value` as a file name or an argument can hold it: no NUL, no `/`.
    static let argument = value.replacingOccurrences(of: "\u{0}", with: "")
    /// A run directory's name.
    static let runName = "run" + clear + "\u{9B}31m\r\n\u{07}\u{85}" + title

    /// Expects `bytes` (text output of a command) to be UTF-8 with no control character
    /// but the newlines between lines, or, with `colour`, SGR colour codes; `programOutput`
    /// (a diff on a terminal) allows tabs and `\r\n` too.
    static func expectSafe(
        _ bytes: [UInt8], colour: Bool = false, programOutput: Bool = false, _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            Issue.record("\(what): output is not UTF-8", sourceLocation: sourceLocation)
            return
        }
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let scalar = scalars[i]
            if colour, scalar == "\u{1B}", i + 1 < scalars.count, scalars[i + 1] == "[" {
                var j = i + 2
                while j < scalars.count, ("0"..."9").contains(scalars[j]) || scalars[j] == ";" { j += 1 }
                if j < scalars.count, scalars[j] == "m" {
                    i = j + 1
                    continue
                }
            }
            let allowed = scalar == "\n" || (programOutput && (scalar == "\t" || (scalar == "\r" && i + 1 < scalars.count && scalars[i + 1] == "\n")))
            if !allowed, TerminalText.isControl(scalar) {
                let context = String(String.UnicodeScalarView(scalars[max(0, i - 30)..<min(scalars.count, i + 10)]))
                Issue.record(
                    "\(what): control character U+\(String(scalar.value, radix: 16)) at \(i): \(context.debugDescription)",
                    sourceLocation: sourceLocation)
                return
            }
            i += 1
        }
    }

    /// Expects `bytes` (JSON output) to hold no raw control character at all: JSON escapes C0,
    /// and noko-run escapes DEL and C1 too.
    static func expectSafeJSON(_ bytes: [UInt8], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        expectSafe(bytes, what + " (--json)", sourceLocation: sourceLocation)
    }
}

extension Fixtures {
    /// A run whose every name and value holds ``Hostile/value``: the run directory's name,
    /// metadata (argv, cwd, host, user, error, OS, environment, git, remote, summary), config
    /// keys and values, seeds, table names, keys and string values (logged through noko's
    /// own outputs), a crash note, and a diff whose file name and contents hold it too.
    @discardableResult
    func hostileRun(_ name: String = Hostile.runName, noteSuffix: String = "", crashed: Bool = false) throws -> URL {
        let value = Hostile.value
        let directory = url("runs/\(name)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var metadata: [String: JSONValue] = [
            "format_version": 1, "run_name": .string(name), "run_dir": .string(directory.path), "noko_version": "0.1.0",
            "status": crashed ? "running" : "finished", "start_time": .double(Fixtures.start), "heartbeat_interval": 10,
            "heartbeat": .double(crashed ? Fixtures.now - 2 : Fixtures.start + 60),
            "argv": [".build/release/train", "--note", .string(Hostile.argument)], "program": .string(value),
            "cwd": .string("/home/" + Hostile.argument), "host": .string(value), "user": .string(value), "pid": 4242,
            "os": .string(value), "swift_version": .string(value), "rank": 0, "world_size": 1, "seed": 42,
            "environment": ["CUDA" + value: .string(value)],
            "summary": ["s" + value: .string(value)],
            "git": [
                "root": .string("/home/" + Hostile.argument), "branch": .string(value), "detached": false,
                "head": "1111111111111111111111111111111111111111", "dirty": true,
                "checkpoint": "2222222222222222222222222222222222222222", "checkpoint_branch": .string(value),
                "files": 3, "bytes": 1000, "skipped": [["path": .string(value), "reason": "too_large", "size": 120_000_000]],
                "remote_url": .string(value), "from_head": ["files_changed": 1, "insertions": 1, "deletions": 0],
                "from_last_checkpoint": ["files_changed": 0, "insertions": 0, "deletions": 0],
            ],
            "remotes": [
                "wandb": [
                    "entity": .string(value), "project": .string(value), "run_id": .string(value), "url": .string(value),
                    "mode": .string(value),
                ]
            ],
        ]
        if !crashed {
            metadata["end_time"] = .double(Fixtures.start + 61)
            metadata["exit_code"] = 1
            metadata["error"] = .string(value)
        }
        try write(.object(metadata), to: directory.appendingPathComponent("metadata.json"))
        try write(
            [
                "note": .string(value + noteSuffix), "k" + value: 1.5, "nested": ["n" + value: .string(value)],
                "list": [.string(value), 2], "seed": 42,
            ],
            to: directory.appendingPathComponent("config.json"))
        try write(["root_seed": 42, "generators": ["g" + value: 7]], to: directory.appendingPathComponent("seeds.json"))
        if crashed { try Data(value.utf8).write(to: directory.appendingPathComponent("crash")) }
        try Data(Hostile.diff.utf8).write(to: directory.appendingPathComponent("from_head.diff"))

        let logger = NokoLogger(
            directory: directory,
            outputs: [
                try NDJSONOutput(url: directory.appendingPathComponent("noko.ndjson")), CSVOutput(directory: directory),
                StatisticsOutput(url: directory.appendingPathComponent("summary.json")),
            ],
            flushInterval: nil, messages: Fixtures.quietMessages, summarizers: SummarizerRegistry(),
            clock: .stepping(from: Fixtures.start + 1, by: 0.25))
        for step in 0..<6 {
            logger.logRow(
                "t" + value,
                ["k" + value: Double(step) * 0.5 + (crashed ? 1 : 0), "s": value + String(step), "w" + value: [1.0, Double(step)]]
                    as [String: Any], level: .info)
        }
        logger.logRow("results", ["r" + value: value, "ok": true] as [String: Any], level: .results)
        logger.close()
        return directory
    }
}

extension Hostile {
    /// A diff whose file name and added line hold ``value``.
    static let diff = "diff --git a/\(argument).txt b/\(argument).txt\n--- a/\(argument).txt\n+++ b/\(argument).txt\n@@ -0,0 +1 @@\n+\(argument)\n"
}
