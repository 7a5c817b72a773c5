import ArgumentParser
import Foundation
import NokoCore
import NokoGit
import NokoPlatform

/// `noko-run reproduce RUN`: rebuilds a run's exact code, reruns it beside the original and
/// says whether it came out the same, value by value.
package struct ReproduceCommand: NokoCommand {
    package static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Rerun a run from its exact code and prove it came out the same.",
        discussion: """
            1. Preflight, before anything is built: the checkpoint commit must exist; files the \
            checkpoint left out (size caps, secret-looking files) stop the command unless \
            --allow-missing; config keys recorded as <redacted> are named (give their values as \
            the original run got them, e.g. NOKO_OVERRIDES='api_key=…'), and so are arguments \
            recorded as <redacted> (give argument i as NOKO_REPRODUCE_ARGV_<i>=…, or \
            --allow-missing to pass the placeholder); a run of a distributed job (world size > 1) \
            is refused: its ranks need their launcher. Recorded facts that differ here (Swift \
            compiler, OS, CPU, noko version, host) are listed: the usual reasons a rerun differs.
            2. Code: a git worktree of the checkpoint in a temporary directory (or --dir, never \
            deleted) with the run's Package.resolved restored, so dependencies resolve to the \
            recorded versions; --code current builds today's working tree instead ("does my \
            change alter the result?").
            3. Build: swift build -c <recorded configuration> --product <recorded product> in the \
            package root, or --build-command (run by /bin/sh there; the executable run is then \
            the recorded one, inside the code when it was inside the repository). Whether the \
            binary's SHA-256 equals the recorded one is said; a build at another path usually \
            differs, so it is not part of the verdict.
            4. Run: the recorded argv (overrides included) from the recorded working directory \
            inside the code, with the recorded allow-listed environment, into a new run beside \
            the original named <run>.repro-N, linked to it ({"reproduces": …} in its \
            metadata.json). No checkpoint is taken, and wandb is off unless --remote. Its output \
            streams to the terminal; Ctrl-C stops it and removes the worktree unless --keep. The \
            original run directory is never written.
            5. Compare, as noko-run compare --rows does: every table row by row, every value bit \
            for bit (or within --rtol/--atol), config.json and seeds.json. The verdict is printed \
            and recorded in the reproduction's metadata.json; noko-run show of the original lists \
            its reproductions.

            EXAMPLES
              noko-run reproduce runs/train_2026-11-27T102738
              noko-run reproduce RUN --code current              does my change alter the result?
              noko-run reproduce RUN --rtol 1e-9 --ignore 'time_*'
              noko-run reproduce RUN --scratch-path ~/.cache/noko-build   reuse one build cache
              noko-run reproduce RUN --build-command 'make build'

            EXIT STATUS
              0  reproduced; 1  the rerun differs (or could not be made); 64  usage error

            JSON (--json): the verdict of compare --rows, plus "reproduction": {run, path, code, \
            commit, worktree, build: {command, seconds, executable, sha256, recorded_sha256, \
            same_binary}, exit_status, original_exit_status, environment_differences: [{what, \
            recorded, now}], notes: [text]}
            """
    )

    @Argument(help: ArgumentHelp("The run to reproduce: a path, or a name under ./runs.", valueName: "run"))
    package var runPath: String

    @Option(name: .long, help: "Whose code to run: the run's checkpoint, or the repository's working tree as it is now.")
    package var code: ReproductionPlan.Code = .checkpoint

    @OptionGroup package var tolerance: RowComparisonOptions

    @Option(name: .long, help: ArgumentHelp("Put the worktree here (new or empty); it is kept.", valueName: "dir"))
    package var dir: String?

    @Flag(name: .long, help: "Keep the temporary worktree (its path is printed).")
    package var keep = false

    @Option(name: .long, help: ArgumentHelp("Build with this shell command (in the package root) instead of swift build.", valueName: "command"))
    package var buildCommand: String?

    @Option(
        name: .long,
        help: ArgumentHelp("swift build's --scratch-path: keep builds here, so reproductions share one build cache.", valueName: "dir"))
    package var scratchPath: String?

    @Flag(name: .long, help: "Let the rerun sync to its remotes (wandb) as the original did; off by default.")
    package var remote = false

    @Flag(name: .long, help: "Go on although the checkpoint left files out, or arguments were recorded as <redacted>.")
    package var allowMissing = false

    @Flag(name: .long, help: "Print the verdict as JSON (the rerun's output goes to standard error).")
    package var json = false

    package init() {}

    package func validate() throws {
        if code == .current && dir != nil { throw ValidationError("--dir is where the checkpoint is checked out; --code current uses the repository itself") }
        if buildCommand != nil && scratchPath != nil { throw ValidationError("--scratch-path is for swift build; give it in --build-command instead") }
    }

    package func run(in context: CommandContext) throws {
        let original = try RunLocator.open(runPath, in: context)
        let interrupts = InterruptHandling()
        if context.writesToStandardOutput { interrupts.install() }

        let toolchain = Self.toolchainVersion(environment: context.environment, in: context.workingDirectory)
        let plan = try ReproductionPlan.make(
            original, code: code, environment: context.environment, toolchainVersion: toolchain, buildsWithSwift: buildCommand == nil)
        var notes = try preflight(plan, in: context)

        // Code.
        let keepsWorktree = keep || dir != nil
        let worktree = code == .checkpoint ? try checkOut(plan, in: context) : nil
        let removeWorktree: @Sendable () -> Void = { [repository = plan.repository, temporary = dir == nil] in
            guard let worktree else { return }
            try? GitCheckout.removeWorktree(repository: repository, at: worktree)
            if temporary { try? FileManager.default.removeItem(at: worktree.deletingLastPathComponent()) }
        }
        if !keepsWorktree {
            interrupts.onInterrupt {
                removeWorktree()
                if let worktree { context.note("interrupted: removed the worktree \(worktree.path)") }
            }
        }
        defer {
            if !keepsWorktree {
                removeWorktree()
            } else if let worktree {
                context.note("the worktree is kept: \(worktree.path) (remove it with: git worktree remove --force \(ShellQuote.word(worktree.path)))")
            }
        }

        let root = plan.sourceRoot(worktree: worktree)
        let packageRoot = plan.packageRoot(in: root)
        if worktree != nil, let resolved = try FileSystem.readIfPresent(original.layout.packageResolved.path) {
            try AtomicFile.write(resolved, to: packageRoot.appendingPathComponent(RunLayout.packageResolvedName).path)
        }

        // Build.
        let built = try build(plan, packageRoot: packageRoot, root: root, context: context, interrupts: interrupts)
        notes.append(built.note)

        // Run.
        let name = plan.reproductionName()
        let (workingDirectory, cwdNote) = plan.workingDirectory(in: root)
        if let cwdNote {
            context.note("note: \(cwdNote)")
            notes.append(cwdNote)
        }
        context.note("running \(built.executable) as \(name) (in \(workingDirectory.path))")
        let output: ChildProcess.Output = !context.writesToStandardOutput ? .tail(echo: false) : json ? .standardError : .inherit
        let termination = try interrupts.run(
            built.executable, plan.arguments, in: workingDirectory,
            environment: plan.rerunEnvironment(current: context.environment, runName: name, remote: remote), output: output)

        // Compare.
        let reproduction = original.url.deletingLastPathComponent().appendingPathComponent(name, isDirectory: true)
        guard FileSystem.exists(RunLayout(reproduction).metadata.path) else {
            let tail = termination.tail.suffix(10).joined(separator: "\n")
            throw CLIError(
                "the rerun (\(termination.description)) made no run directory at \(reproduction.path): did the program start a noko run?"
                    + (tail.isEmpty ? "" : "\nits last output:\n\(tail)"))
        }
        let rerun = try LoadedRun.open(reproduction)
        let comparison = try RunComparison.compare(original: original, rerun: rerun, options: tolerance.options)
        let originalStatus = plan.metadata.exitCode.map { Int32($0) }
        if let originalStatus, termination.status != originalStatus {
            notes.append("the rerun ended with \(termination.description); the original with exit status \(originalStatus)")
        } else if termination.status != 0 {
            notes.append("the rerun ended with \(termination.description), as the original did")
        }
        let sameEnd = originalStatus.map { $0 == termination.status } ?? (termination.status == 0)
        let record = verdict(
            comparison, plan: plan, reproduction: reproduction, worktree: keepsWorktree ? worktree : nil, built: built,
            termination: termination, notes: notes, reproduced: comparison.identical && sameEnd)
        try Self.record(record, in: reproduction)

        if json {
            JSONOutput.write(record, to: context)
        } else {
            var model = comparison.textContext(context.terminal)
            model["notes"] = notes
            model["has_notes"] = !notes.isEmpty
            if !sameEnd {
                model["identical"] = false
                model["headline"] = record["headline"]?.stringValue ?? comparison.headline
            }
            context.write(try Templates.renderText("rows.txt", context: model))
        }
        if !(comparison.identical && sameEnd) { throw ExitCode.failure }
    }

    /// A worktree of the checkpoint: in `--dir`, or in a new temporary directory.
    func checkOut(_ plan: ReproductionPlan, in context: CommandContext) throws -> URL {
        let target = dir.map { context.url(forPath: $0, isDirectory: true) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent(
                "noko-reproduce-\(UUID().uuidString.prefix(8))/\(plan.repository.lastPathComponent)", isDirectory: true)
        do {
            try GitCheckout.worktree(repository: plan.repository, commit: plan.git.checkpoint, at: target)
        } catch {
            throw CLIError("\(error)")
        }
        context.note("checked out checkpoint \(plan.git.checkpoint.prefix(10)) into \(target.path)")
        return target
    }

    // MARK: - Preflight

    /// Says what the plan found; throws when something stops the reproduction. Returns the
    /// notes for the verdict.
    func preflight(_ plan: ReproductionPlan, in context: CommandContext) throws -> [String] {
        var notes: [String] = []
        let source = plan.code == .checkpoint ? "checkpoint \(plan.git.checkpoint.prefix(10))" : "the working tree"
        context.note("reproducing \(plan.run.name) from \(source) of \(plan.git.root)")
        for difference in plan.differences {
            let line = "\(difference.what) differs: \(difference.recorded) (recorded) vs \(difference.now) (here)"
            context.note("  \(line)")
            notes.append(line)
        }
        if buildCommand != nil, let configuration = plan.build.configuration {
            let line = "the run was built in \(configuration) configuration; --build-command decides how it is built here"
            context.note("  \(line)")
            notes.append(line)
        }
        if !plan.missingFiles.isEmpty {
            let list = plan.missingFiles.map { "\($0.path) (\($0.reason.rawValue.replacingOccurrences(of: "_", with: " ")), \(DisplayFormat.bytes($0.size)))" }
            guard allowMissing else {
                throw CLIError(
                    "the checkpoint left out \(plan.missingFiles.count) file\(plan.missingFiles.count == 1 ? "" : "s") the run may have used: \(list.joined(separator: ", ")); go on without them with --allow-missing (if the program reads them, the rerun may differ or fail)")
            }
            let line = "the checkpoint left out \(list.joined(separator: ", ")); going on without (--allow-missing)"
            context.note("warning: \(line)")
            notes.append(line)
        }
        if !plan.redactedConfigKeys.isEmpty {
            let keys = plan.redactedConfigKeys.joined(separator: ", ")
            let line = "config key\(plan.redactedConfigKeys.count == 1 ? "" : "s") \(keys) recorded as <redacted>: the rerun gets whatever the program is given for \(plan.redactedConfigKeys.count == 1 ? "it" : "them") now; to give the original value, set it as the original run got it (e.g. NOKO_OVERRIDES='\(plan.redactedConfigKeys[0].replacingOccurrences(of: "/", with: "."))=…'). Not compared"
            context.note("warning: \(line)")
        }
        let unsupplied = plan.redactedArguments.filter { $0.supplied == nil }
        if !unsupplied.isEmpty {
            let list = unsupplied.map { "argv[\($0.index)] (\($0.recorded))" }.joined(separator: ", ")
            let how = unsupplied.map { "\(ReproductionPlan.argumentVariable($0.index))=…" }.joined(separator: " ")
            guard allowMissing else {
                throw CLIError(
                    "the command line was recorded with secrets removed: \(list); give the values in the environment (\(how)), or pass the placeholder with --allow-missing")
            }
            let line = "\(list) recorded with <redacted>: passed as recorded (--allow-missing)"
            context.note("warning: \(line)")
            notes.append(line)
        }
        for supplied in plan.redactedArguments where supplied.supplied != nil {
            context.note("  argv[\(supplied.index)] from \(ReproductionPlan.argumentVariable(supplied.index))")
        }
        return notes
    }

    // MARK: - Build

    struct Built {
        var command: String
        var seconds: Double
        var executable: String
        var sha256: String?
        var note: String
    }

    func build(
        _ plan: ReproductionPlan, packageRoot: URL, root: URL, context: CommandContext, interrupts: InterruptHandling
    ) throws -> Built {
        let output: ChildProcess.Output = .tail(echo: context.writesToStandardOutput)
        let started = Date()
        var executable: String
        let command: String
        // The executable the build command leaves outside the code it was given.
        var notRebuilt = false
        if let buildCommand {
            command = buildCommand
            context.note("building: \(buildCommand) (in \(packageRoot.path))")
            let end = try interrupts.run("/bin/sh", ["-c", buildCommand], in: packageRoot, environment: context.environment, output: output)
            guard end.status == 0 else { throw Self.buildFailed(command, end) }
            guard let recorded = plan.build.absolutePath else {
                throw CLIError("metadata.json's build records no executable path: with --build-command, the executable to run is not known")
            }
            let inside = plan.mapped(recorded, into: root)
            executable = inside?.path ?? recorded
            notRebuilt = inside == nil
        } else {
            let configuration = plan.build.configuration ?? "debug"
            var arguments = ["build", "-c", configuration, "--product", plan.product]
            if let scratchPath { arguments += ["--scratch-path", context.url(forPath: scratchPath, isDirectory: true).path] }
            command = (["swift"] + arguments).map { ShellQuote.word($0).rendered }.joined(separator: " ")
            context.note("building: \(command) (in \(packageRoot.path))")
            let end = try interrupts.run("/usr/bin/env", ["swift"] + arguments, in: packageRoot, environment: context.environment, output: output)
            guard end.status == 0 else { throw Self.buildFailed(command, end) }
            let binPath = try ChildProcess.run(
                "/usr/bin/env", ["swift"] + arguments + ["--show-bin-path"], in: packageRoot, environment: context.environment,
                output: .tail(echo: false))
            guard binPath.status == 0, let directory = binPath.tail.last(where: { $0.hasPrefix("/") }) else {
                throw Self.buildFailed(command + " --show-bin-path", binPath)
            }
            executable = directory + "/" + plan.product
        }
        let seconds = Date().timeIntervalSince(started)
        guard FileSystem.exists(executable) else {
            throw CLIError("the build finished, but there is no executable at \(executable)")
        }
        let sha256 = try? SHA256.hashFile(executable)
        var note: String
        switch (sha256, plan.build.sha256) {
        case let (now?, recorded?) where now == recorded:
            note = "the executable's SHA-256 is the recorded one (\(now.prefix(12))…): the same binary"
        case let (now?, recorded?):
            note = "the executable's SHA-256 (\(now.prefix(12))…) is not the recorded one (\(recorded.prefix(12))…): a build at another path, or with another toolchain, usually differs"
        default:
            note = "the executable's SHA-256 could not be compared (none recorded)"
        }
        if notRebuilt {
            note += "; the executable is outside the repository, so it was not rebuilt from the code"
        }
        context.note("built in \(DisplayFormat.duration(seconds)); \(note)")
        return Built(command: command, seconds: seconds, executable: executable, sha256: sha256, note: note)
    }

    private static func buildFailed(_ command: String, _ end: ChildProcess.Termination) -> CLIError {
        let tail = end.tail.suffix(20).joined(separator: "\n")
        return CLIError("the build failed (\(end.description)): \(command)" + (tail.isEmpty ? "" : "\nits last output:\n\(tail)"))
    }

    /// The Swift toolchain on the PATH (`swift --version`), for the preflight's differences.
    static func toolchainVersion(environment: [String: String], in directory: URL) -> String? {
        guard
            let end = try? ChildProcess.run(
                "/usr/bin/env", ["swift", "--version"], in: directory, environment: environment, output: .tail(echo: false)),
            end.status == 0, let line = end.tail.first(where: { $0.contains("Swift version ") }),
            let range = line.range(of: "Swift version ")
        else { return nil }
        return String(line[range.upperBound...].prefix { $0 != " " && $0 != "(" })
    }

    // MARK: - The verdict

    func verdict(
        _ comparison: RunComparison, plan: ReproductionPlan, reproduction: URL, worktree: URL?, built: Built,
        termination: ChildProcess.Termination, notes: [String], reproduced: Bool
    ) -> JSONValue {
        var json = comparison.json.objectValue ?? [:]
        json["reproduced"] = .bool(reproduced)
        if !reproduced && comparison.identical {
            json["headline"] = .string("not reproduced: the rerun ended differently (\(termination.description))")
        }
        json["reproduction"] = [
            "run": .string(reproduction.lastPathComponent), "path": .string(reproduction.path), "code": .string(plan.code.rawValue),
            "commit": plan.code == .checkpoint ? .string(plan.git.checkpoint) : .null,
            "worktree": worktree.map { .string($0.path) } ?? .null,
            "build": [
                "command": .string(built.command), "seconds": .double((built.seconds * 1000).rounded() / 1000),
                "executable": .string(built.executable), "sha256": built.sha256.map(JSONValue.string) ?? .null,
                "recorded_sha256": plan.build.sha256.map(JSONValue.string) ?? .null,
                "same_binary": built.sha256 != nil && built.sha256 == plan.build.sha256 ? true : false,
            ],
            "exit_status": .int(Int64(termination.status)),
            "original_exit_status": plan.metadata.exitCode.map { .int(Int64($0)) } ?? .null,
            "environment_differences": .array(plan.differences.map {
                ["what": .string($0.what), "recorded": .string($0.recorded), "now": .string($0.now)]
            }),
            "notes": .array(notes.map(JSONValue.string)),
        ]
        return .object(json)
    }

    /// Writes the verdict into the reproduction's `metadata.json` (the rerun has ended: no
    /// one else writes it now), keeping every other field as it is.
    static func record(_ verdict: JSONValue, in reproduction: URL) throws {
        let url = RunLayout(reproduction).metadata
        guard case .object(var members)? = try RunFileFormat.readJSON(url) else {
            throw CLIError("\(url.path): not a JSON object; the verdict was not recorded")
        }
        members["reproduction"] = verdict
        try RunFileFormat.write(.object(members), to: url)
    }
}

extension ReproductionPlan.Code: ExpressibleByArgument {}
