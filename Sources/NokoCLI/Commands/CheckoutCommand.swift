import ArgumentParser
import Foundation
import NokoCore
import NokoGit

/// `noko-run checkout RUN [DIR]`: the run's exact code, as a git worktree or a plain copy.
package struct CheckoutCommand: NokoCommand {
    package static let configuration = CommandConfiguration(
        commandName: "checkout",
        abstract: "Check out the run's git checkpoint into a new worktree (or export its files).",
        discussion: """
            The worktree has HEAD detached at the checkpoint commit; the repository's own HEAD, \
            index and working tree are not touched. DIR must be new or empty; by default it is \
            <repository>-<run name> next to the repository. --export writes a plain copy of the \
            files instead (no .git).

            EXAMPLES
              noko-run checkout RUN                     then: cd ../myrepo-RUN && swift run …
              noko-run checkout RUN /tmp/code --export
              git worktree remove ../myrepo-RUN         when done

            JSON (--json): {"run", "directory", "commit", "mode": "worktree" | "export", \
            "repository"}
            """
    )

    @Argument(help: ArgumentHelp("The run directory: a path, or a name under ./runs.", valueName: "run"))
    package var runPath: String

    @Argument(help: ArgumentHelp("Where to put the code (new or empty).", valueName: "dir"))
    package var directory: String?

    @Flag(name: .long, help: "Write a plain copy of the files instead of a git worktree.")
    package var export = false

    @Flag(name: .long, help: "Print what was done as JSON.")
    package var json = false

    package init() {}

    package func run(in context: CommandContext) throws {
        let run = try RunLocator.open(runPath, in: context)
        var problem: String?
        guard let record = run.gitRecord(problem: { problem = $0 }) else {
            throw CLIError(
                problem.map { "\($0)" }
                    ?? "\(run.url.path): the run has no git checkpoint (metadata.json has no \"git\" record: it ran outside a git repository, or checkpoints were off)")
        }
        let repository = URL(fileURLWithPath: record.root, isDirectory: true)
        let target = directory.map { context.url(forPath: $0, isDirectory: true) }
            ?? GitCheckout.defaultWorktreeDirectory(repositoryRoot: repository, runName: run.name)
        do {
            if export {
                try GitCheckout.export(repository: repository, commit: record.checkpoint, to: target)
            } else {
                try GitCheckout.worktree(repository: repository, commit: record.checkpoint, at: target)
            }
        } catch {
            throw CLIError("\(error)")
        }
        if json {
            JSONOutput.write(
                [
                    "run": .string(run.name), "directory": .string(target.path), "commit": .string(record.checkpoint),
                    "mode": .string(export ? "export" : "worktree"), "repository": .string(record.root),
                ], to: context)
            return
        }
        let commit = String(record.checkpoint.prefix(10))
        if export {
            context.write("exported the files of checkpoint \(commit) (run \(run.name)) into \(target.path)\n")
        } else {
            context.write("checked out checkpoint \(commit) (run \(run.name)) into \(target.path) (detached HEAD)\n")
            context.write("remove it with: git worktree remove \(ShellQuote.word(target.path))\n")
        }
    }
}
