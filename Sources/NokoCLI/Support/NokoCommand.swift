import ArgumentParser
import Foundation
import NokoCore
import NokoPlatform

/// A `noko-run` subcommand. Its work happens in ``run(in:)`` against a
/// ``CommandContext``, so tests can drive it with captured output, a fixed clock and a fixed
/// time zone; `run()` uses the real process.
///
/// Adding a command is one file: a struct conforming to this protocol, and its type in
/// ``NokoRun``'s `subcommands`.
package protocol NokoCommand: ParsableCommand {
    /// Does the command's work, writing through `context`.
    func run(in context: CommandContext) throws
}

extension NokoCommand {
    package mutating func run() throws {
        try run(in: .standard())
    }
}

/// `--json` and `--template FILE`, for commands that print data.
package struct RenderOptions: ParsableArguments {
    /// Print JSON instead of text.
    @Flag(name: .long, help: "Print JSON (a stable shape, documented in the help and the README) instead of text.")
    package var json = false

    /// A Mustache template file to render with instead of the built-in one.
    @Option(
        name: .long, help: ArgumentHelp("Render the text with this Mustache template instead of the built-in one.", valueName: "file"),
        completion: .file(extensions: ["mustache"]))
    package var template: String?

    package init() {}

    /// The template file's path resolved against the working directory, or nil.
    package func templatePath(in context: CommandContext) -> String? {
        template.map { context.url(forPath: $0).path }
    }

    package func validate() throws {
        if json && template != nil { throw ValidationError("--json and --template cannot be combined") }
    }
}

/// Finds run directories from what the user typed.
package enum RunLocator {
    /// `argument` as a path (relative to the working directory), else as a name under
    /// `runs/`; an error says where it looked.
    package static func resolve(_ argument: String, in context: CommandContext) throws -> URL {
        let direct = context.url(forPath: argument, isDirectory: true)
        if FileSystem.exists(direct.path) { return direct }
        if !argument.contains("/") {
            let underRuns = context.url(forPath: "runs/" + argument, isDirectory: true)
            if FileSystem.exists(underRuns.path) { return underRuns }
            throw CLIError("\(argument): no such run directory (looked for \(direct.path) and \(underRuns.path))")
        }
        throw CLIError("\(direct.path): no such run directory")
    }

    /// The runs `argument` names: one run, or a sweep directory's trials (each trial's latest
    /// attempt that made a run).
    package static func openExpandingSweeps(_ argument: String, in context: CommandContext) throws -> [LoadedRun] {
        let url = try resolve(argument, in: context)
        if !FileSystem.exists(RunLayout(url).metadata.path),
            let sweep = try LoadedRun.cliError({ () throws(LogFileError) in try SweepFile.read(from: url) })
        {
            let runs = sweep.trials.compactMap(\.run).map { url.appendingPathComponent($0, isDirectory: true) }
                .filter { FileSystem.exists(RunLayout($0).metadata.path) }
            guard !runs.isEmpty else { throw CLIError("\(url.path): sweep \(sweep.name) has no trial runs yet") }
            return try runs.map { try open($0.path, in: context) }
        }
        return [try open(argument, in: context)]
    }

    /// Opens the run `argument` names; what could not be read of it is a warning.
    package static func open(_ argument: String, in context: CommandContext) throws -> LoadedRun {
        let run = try LoadedRun.open(resolve(argument, in: context))
        for problem in run.problems { context.note("warning: \(problem)") }
        return run
    }
}

/// Writing `--json` output: canonical (sorted keys), pretty, one document and a newline.
///
/// JSON escapes C0 controls; DEL and the C1 controls (U+0080–U+009F, the 8-bit CSI among
/// them) are legal raw in JSON strings, so they are written as `\u007f`, `\u009b`… here:
/// `--json` on a terminal cannot drive it either, and the strings read back the same.
package enum JSONOutput {
    /// Writes `value` to the context's standard output.
    package static func write(_ value: JSONValue, to context: CommandContext) {
        context.write(bytes: escapingDELAndC1(value.serializedBytes(pretty: true)))
    }

    /// `json` with DEL and C1 characters as `\u` escapes. Outside strings JSON is printable
    /// ASCII, and in UTF-8 a C1 character is `C2 80`…`C2 9F`, so bytes alone tell them.
    static func escapingDELAndC1(_ json: [UInt8]) -> [UInt8] {
        guard json.contains(where: { $0 == 0x7F || $0 == 0xC2 }) else { return json }
        var out: [UInt8] = []
        out.reserveCapacity(json.count + 16)
        var i = 0
        while i < json.count {
            let byte = json[i]
            if byte == 0x7F {
                out.append(contentsOf: Array("\\u007f".utf8))
            } else if byte == 0xC2, i + 1 < json.count, (0x80...0x9F).contains(json[i + 1]) {
                out.append(contentsOf: Array("\\u00\(String(json[i + 1], radix: 16))".utf8))
                i += 1
            } else {
                out.append(byte)
            }
            i += 1
        }
        return out
    }
}
