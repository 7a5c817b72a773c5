import ArgumentParser
import Noko
import NokoCore

/// The `noko-run` command: reads run directories back.
///
/// Each subcommand is one ``NokoCommand`` in `Commands/`. Exit codes: 0 success, 1 runtime
/// failure (the message names the file and what was wrong), 64 usage error.
package struct NokoRun: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "noko-run",
        abstract: "Read noko run directories back: show, list, compare, export, logs, diff, checkout, reproduce, sweep, sync.",
        discussion: """
            A run directory is what Noko.initialize / Noko.initExtra wrote (metadata.json, the \
            noko.ndjson journal, summary.json, <table>.csv …) or what Python noko wrote (noko.ndjson \
            and <table>.csv only). noko-run reads files only: it works on runs that are running, \
            finished, crashed or killed. RUN is a path, or a name under ./runs.

            EXAMPLES
              noko-run show runs/train_2026-11-27T102738      the one-screen story of a run
              noko-run show RUN --table grad_step --columns 'loss,weights*'
              noko-run list runs --metric epoch/test_accuracy --where config.lr=0.1
              noko-run compare RUN_A RUN_B                    config and final metrics side by side
              noko-run export RUN --table epoch --format csv -o epoch.csv
              noko-run logs RUN -f                            the program's stdout and stderr, followed
              noko-run diff RUN                               the code change the run ran with
              noko-run checkout RUN                           a git worktree at the run's checkpoint
              noko-run reproduce RUN                          rerun its exact code; did it come out the same?
              noko-run sweep lr lr=0.1,0.01 seed=range(3) -- .build/release/train    a grid of runs
              noko-run sync RUN                               upload a run to wandb (resumes)

            OUTPUT
              Text is rendered from Mustache templates (templates/ in the source tree, built in); \
            --template FILE renders with your own. Colour only on a terminal, never when NO_COLOR \
            is set. --json prints a stable, documented shape (see each command's help).

            EXIT CODES
              0   success
              1   runtime failure: not a run directory, a missing or malformed file (named, with \
            its line), a run written by a newer noko, a failed upload
              64  usage error: unknown option, missing or invalid argument
            """,
        version: Noko.version,
        subcommands: [
            ShowCommand.self, ListCommand.self, CompareCommand.self, ExportCommand.self, LogsCommand.self, DiffCommand.self,
            CheckoutCommand.self, ReproduceCommand.self, SweepCommand.self, SyncCommand.self,
            ReportCommand.self,
        ]
    )

    package init() {}

    /// Parses `arguments` (without the program name) into the subcommand they name, with
    /// validation; throws what `main()` would report (see ``exitStatus(for:)``).
    package static func parseCommand(_ arguments: [String]) throws -> any NokoCommand {
        let parsed = try parseAsRoot(arguments)
        guard let command = parsed as? any NokoCommand else {
            throw CLIError("\(arguments.joined(separator: " ")): expected a subcommand; see noko-run --help")
        }
        return command
    }

    /// The exit status `main()` uses for `error`: 1 for runtime failures, 64 for usage errors.
    package static func exitStatus(for error: any Error) -> Int32 {
        exitCode(for: error).rawValue
    }
}
