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

    /// Opens the run `argument` names.
    package static func open(_ argument: String, in context: CommandContext) throws -> LoadedRun {
        try LoadedRun.open(resolve(argument, in: context))
    }
}

/// Writing `--json` output: canonical (sorted keys), pretty, one document and a newline.
package enum JSONOutput {
    /// Writes `value` to the context's standard output.
    package static func write(_ value: JSONValue, to context: CommandContext) {
        context.write(bytes: value.serializedBytes(pretty: true))
    }
}
