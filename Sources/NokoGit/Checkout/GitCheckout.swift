import Foundation
import NokoPlatform

/// Materializes a run's checkpoint commit so the exact code can be rebuilt and rerun.
///
/// Both entry points refuse a directory that exists and is not empty, and never touch the
/// repository's HEAD, index or working tree.
package enum GitCheckout {
    /// Adds a `git worktree` at `directory` with HEAD detached at `commit`, like
    /// `git worktree add --detach <directory> <commit>`. Remove it later with
    /// `git worktree remove <directory>`.
    ///
    /// - Parameters:
    ///   - repository: any path inside the repository (a run's `git.root`).
    ///   - commit: the full commit id (a run's `git.checkpoint`).
    ///   - directory: where to put the worktree; created if missing, must be empty if present.
    package static func worktree(repository: URL, commit: String, at directory: URL) throws {
        let (repo, id) = try open(repository, commit: commit)
        let target = try prepare(directory)
        // git names a worktree after its directory; keep the name unique in .git/worktrees.
        let base = sanitizedName(directory.lastPathComponent)
        var name = base
        var suffix = 1
        while repo.hasWorktree(named: name) {
            suffix += 1
            name = "\(base)-\(suffix)"
        }
        // libgit2 creates the directory itself and wants it absent.
        _ = try? FileSystem.removeDirectory(target)
        try repo.addDetachedWorktree(name: name, path: target, commit: id)
    }

    /// Writes the files of `commit` into `directory` as a plain copy, without `.git`.
    ///
    /// - Parameters:
    ///   - repository: any path inside the repository (a run's `git.root`).
    ///   - commit: the full commit id (a run's `git.checkpoint`).
    ///   - directory: created if missing, must be empty if present.
    package static func export(repository: URL, commit: String, to directory: URL) throws {
        let (repo, id) = try open(repository, commit: commit)
        let tree = try repo.commit(id).tree()
        let target = try prepare(directory)
        try repo.export(tree, to: target)
    }

    /// Removes the worktree at `directory` that ``worktree(repository:commit:at:)`` added: its
    /// files and the repository's record of it, like `git worktree remove --force`. A
    /// directory that is not one of the repository's worktrees is left alone (an error).
    package static func removeWorktree(repository: URL, at directory: URL) throws {
        let path = FilePaths.canonical(repository)
        guard let repo = try GitRepository.discover(containing: path) else {
            throw GitError(operation: "remove the worktree \(directory.path)", message: "\(path) is not in a git repository")
        }
        let target = FilePaths.canonical(directory)
        guard let name = repo.worktreeName(at: target) else {
            throw GitError(operation: "remove the worktree \(target)", message: "it is not a worktree of \(path)")
        }
        try repo.removeWorktree(named: name)
        // libgit2 leaves the directory itself when it held files it did not check out (a build).
        if FileSystem.exists(target) { try FileManager.default.removeItem(atPath: target) }
    }

    /// Whether the repository at `repository` holds the commit `commit` (nil: it is not a
    /// git repository any more).
    package static func hasCommit(repository: URL, commit: String) -> Bool? {
        guard let repo = try? GitRepository.discover(containing: FilePaths.canonical(repository)) else { return nil }
        guard let id = try? ObjectID(hex: commit) else { return false }
        return (try? repo.commit(id)) != nil
    }

    /// Where `noko-run checkout` puts a worktree by default: next to the repository, named
    /// `<repository>-<run name>`.
    package static func defaultWorktreeDirectory(repositoryRoot: URL, runName: String) -> URL {
        let root = repositoryRoot.standardizedFileURL
        return root.deletingLastPathComponent()
            .appendingPathComponent("\(root.lastPathComponent)-\(sanitizedName(runName))", isDirectory: true)
    }

    private static func open(_ repository: URL, commit: String) throws(GitError) -> (GitRepository, ObjectID) {
        let path = FilePaths.canonical(repository)
        guard let repo = try GitRepository.discover(containing: path) else {
            throw GitError(operation: "check out \(commit)", message: "\(path) is not in a git repository")
        }
        let id = try ObjectID(hex: commit)
        _ = try repo.commit(id)
        return (repo, id)
    }

    /// Checks that `directory` is absent or empty, creates it (and its parents), and returns
    /// its canonical path.
    private static func prepare(_ directory: URL) throws -> String {
        let path = FilePaths.canonical(directory)
        if let existing = FileSystem.info(path) {
            guard existing.isDirectory else {
                throw GitError(operation: "check out into \(path)", message: "it exists and is not a directory")
            }
            let contents = (try? FileSystem.contentsOfDirectory(path)) ?? []
            guard contents.isEmpty else {
                throw GitError(
                    operation: "check out into \(path)",
                    message: "the directory is not empty (\(contents.count) entries); choose a new or empty directory")
            }
        }
        try FileSystem.makeDirectories(path)
        return path
    }

    /// `name` with characters git does not allow in worktree or branch names replaced by `-`.
    private static func sanitizedName(_ name: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        var result = String(name.map { allowed.contains($0) ? $0 : "-" })
        while result.hasPrefix(".") || result.hasPrefix("-") { result.removeFirst() }
        while result.hasSuffix(".") || result.hasSuffix(".lock") { result.removeLast() }
        result = result.replacingOccurrences(of: "..", with: "-")
        return result.isEmpty ? "checkout" : result
    }
}
