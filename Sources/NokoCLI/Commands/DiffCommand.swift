import ArgumentParser
import Foundation
import NokoCore
import NokoGit
import NokoPlatform

/// `noko-run diff RUN`: the code change the run ran with.
package struct DiffCommand: NokoCommand {
    package static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Print the diff from HEAD to the run's git checkpoint (or from the previous checkpoint).",
        discussion: """
            The diff is the run's from_head.diff (what was not committed when the run started) \
            or, with --from-last, from_last_checkpoint.diff (what changed since the previous \
            run's checkpoint). On a terminal it is coloured and paged through $GIT_PAGER, \
            $PAGER or less -FRX, and escape sequences other than colour in it are shown as \
            text (\\e[2J); into a pipe or a file the bytes are written as they are (files need \
            not be UTF-8).

            EXAMPLES
              noko-run diff RUN
              noko-run diff RUN --from-last | git apply --stat
            """
    )

    @Argument(help: ArgumentHelp("The run directory: a path, or a name under ./runs.", valueName: "run"))
    package var runPath: String

    @Flag(name: .long, help: "The diff from the previous checkpoint instead of from HEAD.")
    package var fromLast = false

    @Flag(name: .long, help: "Never start a pager.")
    package var noPager = false

    package init() {}

    package func run(in context: CommandContext) throws {
        let run = try RunLocator.open(runPath, in: context)
        let name = fromLast ? RunLayout.fromLastCheckpointDiffName : RunLayout.fromHeadDiffName
        let url = run.url.appendingPathComponent(name)
        guard let bytes = (try? FileSystem.readIfPresent(url.path)) ?? nil else {
            if run.metadata?.git == nil || run.metadata?.git == .null {
                throw CLIError(
                    "\(run.url.path): the run has no git checkpoint (metadata.json has no \"git\" record: it ran outside a git repository, or checkpoints were off), so there is no \(name)")
            }
            throw CLIError("\(url.path): missing, though metadata.json records a checkpoint")
        }
        if bytes.isEmpty {
            let what = fromLast ? "the checkpoint equals the previous one" : "the checkpoint equals HEAD (nothing uncommitted)"
            context.note("\(name) is empty: \(what)")
            return
        }
        var output = context.terminal.colour ? DiffColouring.colour(bytes) : bytes
        // File names and contents may hold escape sequences: on a terminal (pager or not) only
        // colour, tabs and line ends pass, as with `less -R`; a pipe gets the exact bytes
        // (`| git apply`).
        if context.terminal.isInteractive {
            output = TerminalText.ColourPassingFilter.filtered(output, passingBareCarriageReturns: false)
        }
        if !noPager, context.terminal.isInteractive, context.writesToStandardOutput, Pager.page(output, environment: context.environment) {
            return
        }
        context.write(bytes: output)
    }
}

/// Colours a unified diff line by line, by its first bytes, leaving the bytes themselves
/// untouched (a diff of a Latin-1 file stays Latin-1).
package enum DiffColouring {
    /// The diff with ANSI colours: file headers bold, hunk headers cyan, additions green,
    /// removals red.
    package static func colour(_ diff: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(diff.count + diff.count / 8)
        var start = 0
        while start < diff.count {
            let end = diff[start...].firstIndex(of: 0x0A) ?? diff.count
            // A CRLF file's `\r` belongs to the line end, outside the colour.
            let contentEnd = end > start && diff[end - 1] == 0x0D ? end - 1 : end
            let line = diff[start..<contentEnd]
            if let code = code(for: line) {
                out.append(contentsOf: Array("\u{1B}[\(code)m".utf8))
                out.append(contentsOf: line)
                out.append(contentsOf: Array("\u{1B}[0m".utf8))
            } else {
                out.append(contentsOf: line)
            }
            out.append(contentsOf: diff[contentEnd..<end])
            if end < diff.count { out.append(0x0A) }
            start = end + 1
        }
        return out
    }

    static func code(for line: ArraySlice<UInt8>) -> String? {
        func starts(_ prefix: String) -> Bool { line.starts(with: prefix.utf8) }
        if starts("diff --git") || starts("index ") || starts("--- ") || starts("+++ ") || starts("new file")
            || starts("deleted file") || starts("similarity") || starts("rename ") || starts("old mode") || starts("new mode")
            || starts("Binary files")
        {
            return "1"
        }
        if starts("@@") { return "36" }
        if starts("+") { return "32" }
        if starts("-") { return "31" }
        return nil
    }
}

/// Pages output the way git does: `$GIT_PAGER`, else `$PAGER`, else `less -FRX`, through
/// `sh -c`, only when standard output is a terminal.
package enum Pager {
    /// Sends `bytes` to the pager and waits for it; false when no pager could be started
    /// (the caller prints the bytes itself) or the pager is `cat`.
    package static func page(_ bytes: [UInt8], environment: [String: String]) -> Bool {
        let command = (environment["GIT_PAGER"] ?? environment["PAGER"] ?? "less -FRX").trimmingCharacters(in: .whitespaces)
        guard !command.isEmpty, command != "cat" else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        var env = environment
        if env["LESS"] == nil { env["LESS"] = "FRX" }
        process.environment = env
        let pipe = Pipe()
        process.standardInput = pipe
        do {
            try process.run()
        } catch {
            return false
        }
        // A pager quit early (q in less) closes the pipe: stop writing, without SIGPIPE.
        CurrentProcess.ignoreBrokenPipe()
        try? pipe.fileHandleForWriting.write(contentsOf: bytes)
        try? pipe.fileHandleForWriting.close()
        process.waitUntilExit()
        return true
    }
}
