import Foundation
import Noko
import NokoCore
import NokoGit
import NokoPlatform

/// What `noko-run reproduce` will do with a run, worked out before anything is built: where
/// the code comes from, what to build and run with which arguments and environment, and
/// what stands in the way (the preflight).
package struct ReproductionPlan {
    /// Whose code the rerun runs.
    package enum Code: String, Sendable, CaseIterable {
        /// The run's checkpoint commit, in a new worktree.
        case checkpoint
        /// The repository's working tree as it is now ("does my change alter the result?").
        case current
    }

    /// A recorded fact that differs on this machine.
    package struct Difference: Sendable, Equatable {
        package var what: String
        package var recorded: String
        package var now: String
    }

    package let run: LoadedRun
    package let metadata: RunMetadata
    package let git: GitCheckpointRecord
    package let build: RunMetadata.Build
    /// The recorded product: the executable's name.
    package var product: String { build.product ?? "" }
    package let code: Code
    /// The repository the run was checkpointed in.
    package var repository: URL { URL(fileURLWithPath: git.root, isDirectory: true) }
    /// Files the checkpoint left out.
    package let missingFiles: [GitSkippedFile]
    /// Config keys recorded as `<redacted>` (config.json, overrides.json).
    package let redactedConfigKeys: [String]
    /// Arguments recorded as (or with) `<redacted>`, by index in argv, with the value
    /// supplied through `NOKO_REPRODUCE_ARGV_<index>` when it is set.
    package let redactedArguments: [(index: Int, recorded: String, supplied: String?)]
    /// Recorded facts that differ here: the usual reasons a rerun differs.
    package let differences: [Difference]

    /// The variable that supplies a redacted argument's value.
    package static func argumentVariable(_ index: Int) -> String { "NOKO_REPRODUCE_ARGV_\(index)" }

    /// Works out the plan; what makes a reproduction impossible is an error saying why.
    package static func make(
        _ run: LoadedRun, code: Code, environment: [String: String], toolchainVersion: String?, buildsWithSwift: Bool
    ) throws -> ReproductionPlan {
        guard let metadata = run.metadata else {
            throw CLIError("\(run.url.path): the run has no readable metadata.json: nothing says how it was run")
        }
        var problem: String?
        guard let git = run.gitRecord(problem: { problem = $0 }) else {
            throw CLIError(
                problem.map { "\($0)" }
                    ?? "\(run.url.path): the run has no git checkpoint (metadata.json has no \"git\" record: it ran outside a git repository, or checkpoints were off), so its exact code is not known")
        }
        if let worldSize = metadata.worldSize, worldSize > 1 {
            throw CLIError(
                "\(run.name): the run was one of \(worldSize) processes of a distributed job (world size \(worldSize)); noko-run reproduce starts one process, and a job needs its launcher (torchrun, srun, mpirun) to start every rank. Rerun it with that launcher and NOKO_RUN_NAME=\(run.name).repro-1, then compare with: noko-run compare --rows \(run.name) \(run.name).repro-1")
        }
        guard let argv = metadata.argv, !argv.isEmpty else {
            throw CLIError("\(run.url.path): metadata.json records no argv: the command line to rerun is not known")
        }
        guard let build = metadata.build, build.product?.isEmpty == false else {
            throw CLIError("\(run.url.path): metadata.json records no \"build\" (a run made by an older noko): the product to build is not known")
        }
        if code == .checkpoint {
            switch GitCheckout.hasCommit(repository: URL(fileURLWithPath: git.root, isDirectory: true), commit: git.checkpoint) {
            case nil:
                throw CLIError("\(git.root): the run's repository is gone (or no longer a git repository); the checkpoint \(git.checkpoint.prefix(10)) cannot be found")
            case false?:
                throw CLIError(
                    "\(git.root): the checkpoint commit \(git.checkpoint) is not in the repository (was the \(git.checkpointBranch) branch deleted, or the repository cloned without it?)")
            case true?:
                break
            }
        }
        if buildsWithSwift, let root = build.packageRoot, !isInside(root, git.root) {
            throw CLIError(
                "\(run.name): the package that was built (\(root)) is outside the checkpointed repository (\(git.root)): the checkpoint does not hold its code. Give --build-command to build the program yourself")
        }

        var redactedConfig = Set<String>()
        for leaf in run.config.map(ConfigFlattening.flatten) ?? [] where leaf.value == .string(SecretRedactor.placeholder) {
            redactedConfig.insert(leaf.key)
        }
        for override in run.overrides?.overrides ?? [] where override.value == .string(SecretRedactor.placeholder) {
            redactedConfig.insert(override.key)
        }
        let redactedArguments = argv.enumerated().dropFirst().filter { $0.element.contains(SecretRedactor.placeholder) }.map {
            (index: $0.offset, recorded: $0.element, supplied: environment[argumentVariable($0.offset)])
        }
        return ReproductionPlan(
            run: run, metadata: metadata, git: git, build: build, code: code, missingFiles: code == .checkpoint ? git.skipped : [],
            redactedConfigKeys: redactedConfig.sorted(), redactedArguments: redactedArguments,
            differences: differences(metadata, build: build, toolchainVersion: toolchainVersion))
    }

    private init(
        run: LoadedRun, metadata: RunMetadata, git: GitCheckpointRecord, build: RunMetadata.Build, code: Code,
        missingFiles: [GitSkippedFile], redactedConfigKeys: [String], redactedArguments: [(index: Int, recorded: String, supplied: String?)],
        differences: [Difference]
    ) {
        self.run = run
        self.metadata = metadata
        self.git = git
        self.build = build
        self.code = code
        self.missingFiles = missingFiles
        self.redactedConfigKeys = redactedConfigKeys
        self.redactedArguments = redactedArguments
        self.differences = differences
    }

    /// The recorded environment against this machine's.
    private static func differences(_ metadata: RunMetadata, build: RunMetadata.Build, toolchainVersion: String?) -> [Difference] {
        var found: [Difference] = []
        func compare(_ what: String, _ recorded: String?, _ now: String?) {
            guard let recorded, let now, recorded != now else { return }
            found.append(Difference(what: what, recorded: recorded, now: now))
        }
        compare("Swift compiler", build.compiler, toolchainVersion)
        compare("OS", metadata.os, SystemInfo.operatingSystem.os)
        compare("kernel", metadata.kernel, SystemInfo.operatingSystem.kernel)
        compare("CPU", build.cpu, CurrentProcess.cpuModel)
        compare("CPU cores", build.cores.map(String.init), String(ProcessInfo.processInfo.processorCount))
        compare("noko-run version", metadata.nokoVersion, Noko.version)
        compare("host", metadata.host, CurrentProcess.hostName)
        return found
    }

    // MARK: - Where things are

    /// The directory holding the code the rerun builds: the worktree, or the repository itself.
    package func sourceRoot(worktree: URL?) -> URL {
        worktree ?? repository
    }

    /// `path` (absolute, recorded) mapped into `root` when it was inside the repository.
    package func mapped(_ path: String, into root: URL) -> URL? {
        guard Self.isInside(path, git.root) else { return nil }
        let relative = String(path.dropFirst(git.root.count)).drop { $0 == "/" }
        return relative.isEmpty ? root : root.appendingPathComponent(String(relative), isDirectory: true)
    }

    /// Where the package is built: the recorded package root inside `root`.
    package func packageRoot(in root: URL) -> URL {
        build.packageRoot.flatMap { mapped($0, into: root) } ?? root
    }

    /// Where the rerun starts: the recorded working directory inside `root`, else `root`
    /// (with a note saying so).
    package func workingDirectory(in root: URL) -> (URL, note: String?) {
        guard let cwd = metadata.cwd else { return (root, "metadata.json records no working directory; the rerun starts in \(root.path)") }
        if let inside = mapped(cwd, into: root) { return (inside, nil) }
        return (root, "the run started in \(cwd), outside the repository; the rerun starts in \(root.path)")
    }

    /// The rerun's arguments: the recorded argv without argv[0], a redacted argument
    /// replaced by its supplied value.
    package var arguments: [String] {
        var arguments = metadata.argv ?? []
        for redacted in redactedArguments {
            if let supplied = redacted.supplied { arguments[redacted.index] = supplied }
        }
        return Array(arguments.dropFirst())
    }

    /// The rerun's environment: this process's, with the recorded allow-listed variables,
    /// the run placed beside the original, no checkpoint, remotes off unless `remote`,
    /// `NOKO_OVERRIDES` as the original got it (before this process's own).
    package func rerunEnvironment(current: [String: String], runName: String, remote: Bool) -> [String: String] {
        var environment = current
        for (name, value) in metadata.environment ?? [:] { environment[name] = value }
        let recordedOverrides = (run.overrides?.overrides ?? []).filter { $0.source == LaunchSource.overridesEnvironment.rawValue }.map(\.text)
        if !recordedOverrides.isEmpty {
            let words = recordedOverrides.map { ShellQuote.word($0).rendered }.joined(separator: " ")
            environment["NOKO_OVERRIDES"] = [words, current["NOKO_OVERRIDES"]].compactMap { $0 }.joined(separator: " ")
        }
        environment["NOKO_RUNS_DIR"] = run.url.deletingLastPathComponent().standardizedFileURL.path
        environment["NOKO_RUN_NAME"] = runName
        environment["NOKO_NO_CHECKPOINT"] = "1"
        var reproduces: [String: JSONValue] = [
            "run": .string(run.name), "path": .string(run.url.standardizedFileURL.path), "code": .string(code.rawValue),
        ]
        if code == .checkpoint { reproduces["checkpoint"] = .string(git.checkpoint) }
        environment["NOKO_RUN_LINKS"] = JSONValue.object(["reproduces": .object(reproduces)]).serialized()
        if !remote { environment["WANDB_MODE"] = "disabled" }
        return environment
    }

    /// The first unused `<name>.repro-N` beside the original.
    package func reproductionName() -> String {
        let parent = run.url.deletingLastPathComponent()
        var n = 1
        while FileSystem.exists(parent.appendingPathComponent("\(run.name).repro-\(n)").path) { n += 1 }
        return "\(run.name).repro-\(n)"
    }

    private static func isInside(_ path: String, _ root: String) -> Bool {
        path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/")
    }
}
