import Foundation
import Logging
import NokoCore

import NokoPlatform

/// A git checkpoint of the exact code a run uses: the working tree (tracked files as they
/// are on disk, untracked non-ignored files, within size caps) committed onto the branch
/// `noko-checkpoints`, plus two patches in the run directory.
///
/// HEAD, the index, the working tree and hooks are never touched; the only things written
/// to the repository are objects and the checkpoint branch (with its reflog).
/// All calls block (file system, hashing): call them from a plain thread, not from Swift's
/// cooperative pool.
package enum GitCheckpoint {
    /// Whether the environment turns checkpoints off (`NOKO_NO_CHECKPOINT=1`, or `true`/`yes`).
    package static func isDisabled(environment: [String: String]) -> Bool {
        guard let value = environment["NOKO_NO_CHECKPOINT"]?.lowercased() else { return false }
        return ["1", "true", "yes", "on"].contains(value)
    }

    /// The variable a launcher sets to the directory of the checkpoint it took for the runs
    /// it starts (a sweep directory): `checkpoint.json` and the two diffs.
    package static let sharedVariable = "NOKO_CHECKPOINT"

    /// Writes a launcher's checkpoint (`record`) into `directory` as `checkpoint.json`,
    /// beside the diffs `checkpoint(runDirectory:…)` already wrote there.
    package static func share(_ record: GitCheckpointRecord, in directory: URL) throws {
        try AtomicFile.write([UInt8](try JSONEncoder().encode(record)), to: RunLayout(directory).sharedCheckpoint.path)
    }

    /// Takes the checkpoint shared in `directory` for the run in `runDirectory` instead of
    /// taking one: its record, and copies of its diffs. Errors name the file.
    package static func adopt(sharedIn directory: URL, runDirectory: URL) throws -> GitCheckpointRecord {
        let shared = RunLayout(directory), run = RunLayout(runDirectory)
        guard let bytes = try FileSystem.readIfPresent(shared.sharedCheckpoint.path) else {
            throw GitError(operation: "checkpoint", message: "\(shared.sharedCheckpoint.path): no such file")
        }
        let record: GitCheckpointRecord
        do {
            record = try JSONDecoder().decode(GitCheckpointRecord.self, from: Data(bytes))
        } catch {
            throw GitError(operation: "checkpoint", message: "\(shared.sharedCheckpoint.path): not a checkpoint record: \(error)")
        }
        try FileSystem.makeDirectories(runDirectory.path)
        for (from, to) in [(shared.fromHeadDiff, run.fromHeadDiff), (shared.fromLastCheckpointDiff, run.fromLastCheckpointDiff)] {
            try AtomicFile.write(try FileSystem.readIfPresent(from.path) ?? [], to: to.path)
        }
        return record
    }

    /// Whether the working tree holds, as a checkpoint would take it now, exactly the code
    /// of checkpoint commit `checkpoint` (a resumed sweep runs its trials only then). Nil
    /// when the search path is in no repository with a working tree.
    package static func workingTreeMatches(
        checkpoint: String, runDirectory: URL, options: CheckpointOptions, messages: Logger
    ) throws(GitError) -> Bool? {
        let searchPath = FilePaths.canonical(options.searchPath)
        guard let repository = try GitRepository.discover(containing: searchPath),
            let workdir = repository.workdir.map(FilePaths.canonical(directory:))
        else { return nil }
        let excluded = try excludedDirectories(
            repository: repository, workdir: workdir, runDirectory: FilePaths.canonical(runDirectory), options: options,
            messages: messages)
        let snapshot = try WorkingTreeSnapshot.make(
            repository: repository, workdir: workdir, excluding: excluded.directories, options: options, messages: messages)
        return try repository.commit(try ObjectID(hex: checkpoint)).tree().id == snapshot.tree
    }

    /// Checkpoints the repository containing `options.searchPath` and writes
    /// `from_head.diff` and `from_last_checkpoint.diff` into `runDirectory` (made if missing).
    ///
    /// - Returns: what goes under `"git"` in `metadata.json`, or nil (after one warning on
    ///   `messages`) when the search path is in no repository or in a bare one.
    /// - Throws: `GitError` when the repository cannot be read or the checkpoint cannot be
    ///   written (the branch stayed locked for 60 s, a corrupt object…). The caller should
    ///   warn and let the run go on.
    package static func checkpoint(
        runDirectory: URL, runName: String, options: CheckpointOptions, messages: Logger
    ) throws -> GitCheckpointRecord? {
        let branchReference = "refs/heads/" + options.branch
        guard GitRepository.isValidReferenceName(branchReference) else {
            throw GitError(operation: "checkpoint", message: "'\(options.branch)' is not a valid branch name")
        }
        let searchPath = FilePaths.canonical(options.searchPath)
        guard let repository = try GitRepository.discover(containing: searchPath) else {
            messages.warning("\(searchPath) is not in a git repository: no code checkpoint for this run.")
            return nil
        }
        guard let workdir = repository.workdir.map(FilePaths.canonical(directory:)) else {
            messages.warning("\(searchPath) is in a bare git repository (no working tree): no code checkpoint.")
            return nil
        }

        let head = try repository.head()
        let runDirectoryPath = FilePaths.canonical(runDirectory)
        let excluded = try excludedDirectories(
            repository: repository, workdir: workdir, runDirectory: runDirectoryPath, options: options,
            messages: messages)
        let snapshot = try WorkingTreeSnapshot.make(
            repository: repository, workdir: workdir, excluding: excluded.directories, options: options,
            messages: messages)
        if !excluded.warned, let first = snapshot.unignoredRunDirectories.first {
            messages.warning(
                "noko run directories inside the repository are not ignored (e.g. \(first)); they are left out of checkpoints. Add their parent directory (e.g. `runs/`) to .gitignore.")
        }

        let tree = try repository.tree(snapshot.tree)
        let headTree = try head.commit.map { id throws(GitError) in try repository.commit(id).tree() }
        let identity = try CheckpointIdentity(config: repository.configSnapshot())
        let runLocation = FilePaths.relative(runDirectoryPath, to: workdir) ?? runDirectoryPath
        let message = "noko checkpoint of \(runLocation)\n\nRun: \(runName)\n"
        let landed = try commitWithRetry(
            repository: repository, reference: branchReference, tree: tree, head: head.commit,
            message: message, signature: identity.signature(), messages: messages)

        let fromHead = try GitDiff.trees(in: repository, from: headTree, to: tree)
        let previousTree = try landed.previous.map { id throws(GitError) in try repository.commit(id).tree() }
        let fromLast = try GitDiff.trees(in: repository, from: previousTree, to: tree)
        try FileSystem.makeDirectories(runDirectory.path)
        let layout = RunLayout(runDirectory)
        let fromHeadStats = try write(fromHead, to: layout.fromHeadDiff)
        let fromLastStats = try write(fromLast, to: layout.fromLastCheckpointDiff)

        let branch: String?
        switch head {
        case .unborn(let name), .branch(let name, _): branch = name
        case .detached: branch = nil
        }
        // A remote is a nicety: a broken remote configuration must not cost the checkpoint.
        let remoteURL = (try? repository.remoteURL())?.map(SecretRedactor.strippingCredentials)
        let treeDiffers = headTree.map { $0.id != snapshot.tree } ?? (snapshot.files > 0)
        return GitCheckpointRecord(
            root: String(workdir.dropLast()), branch: branch, detached: branch == nil,
            head: head.commit?.hex, dirty: treeDiffers || !snapshot.skipped.isEmpty,
            checkpoint: landed.commit.hex, checkpointBranch: options.branch,
            previousCheckpoint: landed.previous?.hex, files: snapshot.files, bytes: snapshot.bytes,
            skipped: snapshot.skipped, remoteURL: remoteURL, fromHead: fromHeadStats,
            fromLastCheckpoint: fromLastStats)
    }

    private static func write(_ diff: GitDiff, to url: URL) throws -> GitDiffStats {
        var stats = GitDiffStats(filesChanged: 0)
        try AtomicFile.write(to: url.path) { file in
            stats = try diff.writePatch { bytes in try file.writeAll(bytes) }
        }
        return stats
    }

    /// The runs directory and this run's directory, when inside the working tree; warns once
    /// when one of them is not ignored.
    private static func excludedDirectories(
        repository: GitRepository, workdir: String, runDirectory: String, options: CheckpointOptions,
        messages: Logger
    ) throws(GitError) -> (directories: ExcludedDirectories, warned: Bool) {
        var excluded = ExcludedDirectories()
        var warned = false
        let runsDirectory = options.runsDirectory.map(FilePaths.canonical)
        for path in [runsDirectory, runDirectory].compactMap({ $0 }) {
            guard let relative = FilePaths.relative(path, to: workdir) else { continue }
            if excluded.contains(relative + "/") { continue }
            excluded.insert(relative)
            if !warned, try !repository.isIgnored(relative + "/") {
                warned = true
                messages.warning(
                    "\(relative)/ is inside the repository and not ignored; noko leaves it out of checkpoints, but git sees it. Add `\(relative)/` to .gitignore.")
            }
        }
        return (excluded, warned)
    }

    /// Writes the checkpoint commit and moves the branch to it with compare-and-swap,
    /// retrying when another checkpoint moved or locked the branch meanwhile, so concurrent
    /// runs land as one linear chain.
    private static func commitWithRetry(
        repository: GitRepository, reference: String, tree: GitTree, head: ObjectID?, message: String,
        signature: GitSignature, messages: Logger
    ) throws(GitError) -> (commit: ObjectID, previous: ObjectID?) {
        let deadline = DispatchTime.now().uptimeNanoseconds + 60_000_000_000
        var attempt = 0
        while true {
            let previous = try repository.referenceTarget(reference)
            let parent = previous ?? head
            let parents = try parent.map { id throws(GitError) in [try repository.commit(id)] } ?? []
            let commit = try repository.createCommit(tree: tree, parents: parents, message: message, signature: signature)
            do {
                try repository.compareAndSwapReference(
                    reference, to: commit, expected: previous, logMessage: "noko checkpoint")
                return (commit, previous)
            } catch where error.isContention && DispatchTime.now().uptimeNanoseconds < deadline {
                if removeStaleLock(of: reference, in: repository, messages: messages) { continue }
                attempt += 1
                // Exponential backoff with jitter, capped: contenders rarely collide twice.
                let base = min(1 << min(attempt, 7), 100)
                CurrentProcess.sleep(seconds: Double(base * 1000 + Int.random(in: 0..<2000)) / 1e6)
            }
        }
    }
}

extension GitCheckpoint {
    /// A reference lock untouched for this long was left by a process that died holding it:
    /// git and libgit2 hold one only for the instant of an update, and a `kill -9` in that
    /// instant would otherwise make every later checkpoint of the repository wait out its
    /// deadline and fail.
    static let staleLockAge = 10.0

    /// Removes the lock file of `reference` when it is stale; true when it removed one.
    fileprivate static func removeStaleLock(of reference: String, in repository: GitRepository, messages: Logger) -> Bool {
        let lock = repository.commonDirectory + reference + ".lock"
        guard let info = FileSystem.info(lock) else { return false }
        let age = Date().timeIntervalSince1970 - info.modificationTime
        // Not atomic with the check: a checkpoint that found the same stale lock could, in the
        // microseconds between its check and its removal, remove the new lock of one that
        // removed it first. POSIX has no unlink-if-unchanged; the stale age makes two such
        // processes racing for one lock in one instant unlikely enough.
        guard age > staleLockAge, (try? FileSystem.remove(lock)) == true else { return false }
        messages.warning("removed \(lock), left \(Int(age)) s ago by a process that died while moving \(reference)")
        return true
    }
}

extension FilePaths {
    /// A directory path from libgit2 (ending in `/`), canonical and still ending in `/`.
    static func canonical(directory: String) -> String {
        let resolved = canonical(URL(fileURLWithPath: directory, isDirectory: true))
        return resolved.hasSuffix("/") ? resolved : resolved + "/"
    }
}
