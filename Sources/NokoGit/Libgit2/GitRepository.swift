import CGit2
import Foundation

/// An open repository; owns its `git_repository *`.
///
/// libgit2 objects are not thread-safe, so each checkpoint opens its own repository and
/// never shares it: this class is deliberately not `Sendable`.
final class GitRepository {
    let pointer: OpaquePointer

    private init(pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        git_repository_free(pointer)
    }

    /// The repository containing `path`, searching upwards like `git` does; nil when `path`
    /// is in no repository.
    static func discover(containing path: String) throws(GitError) -> GitRepository? {
        ensureLibgit2()
        var raw: OpaquePointer?
        let code = path.withCString { git_repository_open_ext(&raw, $0, 0, nil) }
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try check(code, "open the repository containing \(path)")
        return GitRepository(pointer: raw!)
    }

    /// The repository whose working tree or git directory is exactly `path`.
    static func open(at path: String) throws(GitError) -> GitRepository {
        ensureLibgit2()
        var raw: OpaquePointer?
        let flags = GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue
        let code = path.withCString { git_repository_open_ext(&raw, $0, flags, nil) }
        try check(code, "open the repository at \(path)")
        return GitRepository(pointer: raw!)
    }

    /// The working tree's absolute path with a trailing `/`; nil for a bare repository.
    var workdir: String? {
        git_repository_workdir(pointer).map { String(cString: $0) }
    }

    /// The git directory that holds the references (the main one for a linked worktree),
    /// with a trailing `/`.
    var commonDirectory: String {
        String(cString: git_repository_commondir(pointer))
    }

    // MARK: HEAD

    /// What HEAD points at.
    enum Head: Equatable {
        /// On a branch with no commit yet (a new repository).
        case unborn(branch: String)
        /// Detached at a commit.
        case detached(commit: ObjectID)
        /// On a branch.
        case branch(name: String, commit: ObjectID)

        var commit: ObjectID? {
            switch self {
            case .unborn: nil
            case .detached(let commit), .branch(_, let commit): commit
            }
        }
    }

    func head() throws(GitError) -> Head {
        if git_repository_head_unborn(pointer) == 1 {
            var ref: OpaquePointer?
            try check(git_reference_lookup(&ref, pointer, "HEAD"), "read HEAD")
            defer { git_reference_free(ref) }
            let target = git_reference_symbolic_target(ref).map { String(cString: $0) } ?? ""
            return .unborn(branch: Self.shortBranchName(target))
        }
        var ref: OpaquePointer?
        try check(git_repository_head(&ref, pointer), "read HEAD")
        defer { git_reference_free(ref) }
        var peeled: OpaquePointer?
        try check(git_reference_peel(&peeled, ref, GIT_OBJECT_COMMIT), "find the commit HEAD points at")
        defer { git_object_free(peeled) }
        let commit = ObjectID(git_object_id(peeled).pointee)
        if git_repository_head_detached(pointer) == 1 {
            return .detached(commit: commit)
        }
        return .branch(name: Self.shortBranchName(String(cString: git_reference_name(ref))), commit: commit)
    }

    private static func shortBranchName(_ reference: String) -> String {
        let prefix = "refs/heads/"
        return reference.hasPrefix(prefix) ? String(reference.dropFirst(prefix.count)) : reference
    }

    // MARK: objects

    /// The repository's index as on disk, as an object private to this handle; changes to it
    /// stay in memory (nothing here ever writes an index).
    func index() throws(GitError) -> GitIndex {
        var raw: OpaquePointer?
        try check(git_repository_index(&raw, pointer), "read the index")
        return GitIndex(pointer: raw!)
    }

    func commit(_ id: ObjectID) throws(GitError) -> GitCommit {
        var raw: OpaquePointer?
        var oid = id.raw
        try check(git_commit_lookup(&raw, pointer, &oid), "find commit \(id)")
        return GitCommit(pointer: raw!)
    }

    func tree(_ id: ObjectID) throws(GitError) -> GitTree {
        var raw: OpaquePointer?
        var oid = id.raw
        try check(git_tree_lookup(&raw, pointer, &oid), "find tree \(id)")
        return GitTree(pointer: raw!)
    }

    /// Hashes and stores a working-tree file like `git add` (clean filters and all).
    func createBlob(fromWorkdirPath path: String) throws(GitError) -> ObjectID {
        var oid = git_oid()
        let code = path.withCString { git_blob_create_from_workdir(&oid, pointer, $0) }
        try check(code, "store '\(path)'")
        return ObjectID(oid)
    }

    /// Whether the object database holds `id`.
    func hasObject(_ id: ObjectID) -> Bool {
        var odb: OpaquePointer?
        guard git_repository_odb(&odb, pointer) == 0 else {
            git_error_clear()
            return false
        }
        defer { git_odb_free(odb) }
        var oid = id.raw
        return git_odb_exists(odb, &oid) == 1
    }

    /// The commit checked out in the submodule at `path`, nil when it is not checked out.
    func submoduleCheckedOutCommit(path: String) -> ObjectID? {
        var submodule: OpaquePointer?
        guard path.withCString({ git_submodule_lookup(&submodule, pointer, $0) }) == 0 else {
            git_error_clear()
            return nil
        }
        defer { git_submodule_free(submodule) }
        return git_submodule_wd_id(submodule).map { ObjectID($0.pointee) }
    }

    // MARK: references

    /// The commit a reference points at, nil when it does not exist.
    func referenceTarget(_ name: String) throws(GitError) -> ObjectID? {
        var oid = git_oid()
        let code = name.withCString { git_reference_name_to_id(&oid, pointer, $0) }
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try check(code, "read \(name)")
        return ObjectID(oid)
    }

    /// Points `name` at `id` if, and only if, it still points at `expected` (nil: does not
    /// exist yet). libgit2 holds `<name>.lock` while it compares and writes, so two writers
    /// cannot both win; the loser gets `GIT_EMODIFIED`, `GIT_EEXISTS` or `GIT_ELOCKED`.
    func compareAndSwapReference(
        _ name: String, to id: ObjectID, expected: ObjectID?, logMessage: String
    ) throws(GitError) {
        var ref: OpaquePointer?
        var new = id.raw
        let code: Int32
        if let expected {
            var old = expected.raw
            code = git_reference_create_matching(&ref, pointer, name, &new, 1, &old, logMessage)
        } else {
            code = git_reference_create(&ref, pointer, name, &new, 0, logMessage)
        }
        try check(code, "update \(name)")
        git_reference_free(ref)
    }

    func deleteReference(_ name: String) throws(GitError) {
        var ref: OpaquePointer?
        try check(git_reference_lookup(&ref, pointer, name), "find \(name)")
        defer { git_reference_free(ref) }
        try check(git_reference_delete(ref), "delete \(name)")
    }

    static func isValidReferenceName(_ name: String) -> Bool {
        ensureLibgit2()
        var valid: Int32 = 0
        return git_reference_name_is_valid(&valid, name) == 0 && valid == 1
    }

    // MARK: commits

    /// Writes a commit object without moving any reference.
    func createCommit(
        tree: GitTree, parents: [GitCommit], message: String, signature: GitSignature
    ) throws(GitError) -> ObjectID {
        var oid = git_oid()
        var parentPointers: [OpaquePointer?] = parents.map { $0.pointer }
        let code = parentPointers.withUnsafeMutableBufferPointer { buffer in
            git_commit_create(
                &oid, pointer, nil, signature.pointer, signature.pointer, nil, message, tree.pointer,
                buffer.count, buffer.baseAddress)
        }
        try check(code, "write the checkpoint commit")
        return ObjectID(oid)
    }

    // MARK: configuration

    /// A consistent, read-only view of the repository's configuration (all levels).
    func configSnapshot() throws(GitError) -> GitConfig {
        var raw: OpaquePointer?
        try check(git_repository_config_snapshot(&raw, pointer), "read the git configuration")
        return GitConfig(pointer: raw!)
    }

    /// The URL of `origin`, else of the first remote by name; nil without remotes.
    func remoteURL() throws(GitError) -> String? {
        var names = git_strarray()
        try check(git_remote_list(&names, pointer), "list remotes")
        defer { git_strarray_dispose(&names) }
        let all = (0..<names.count).compactMap { names.strings[$0].map { String(cString: $0) } }
        guard let chosen = all.contains("origin") ? "origin" : all.sorted().first else { return nil }
        var remote: OpaquePointer?
        try check(git_remote_lookup(&remote, pointer, chosen), "read remote \(chosen)")
        defer { git_remote_free(remote) }
        return git_remote_url(remote).map { String(cString: $0) }
    }

    /// Whether `.gitignore`, `.git/info/exclude` or the global excludes ignore `path`
    /// (relative to the working tree; a trailing `/` marks a directory).
    func isIgnored(_ path: String) throws(GitError) -> Bool {
        var ignored: Int32 = 0
        try check(git_ignore_path_is_ignored(&ignored, pointer, path), "check whether '\(path)' is ignored")
        return ignored == 1
    }
}

// MARK: materializing commits

extension GitRepository {
    /// Adds a linked worktree at `path`, named `name`, with HEAD detached at `commit` (what
    /// `git worktree add --detach` does). libgit2 1.5 can only add a worktree on a branch,
    /// so a temporary branch carries the checkout and is deleted once HEAD is detached.
    func addDetachedWorktree(name: String, path: String, commit: ObjectID) throws(GitError) {
        let temporaryBranch = "refs/heads/noko-checkout-\(name)-\(UInt32.random(in: 0...UInt32.max))"
        try compareAndSwapReference(temporaryBranch, to: commit, expected: nil, logMessage: "noko checkout")
        defer {
            if (try? referenceTarget(temporaryBranch)) != nil { try? deleteReference(temporaryBranch) }
        }
        var branch: OpaquePointer?
        try check(git_reference_lookup(&branch, pointer, temporaryBranch), "find \(temporaryBranch)")
        defer { git_reference_free(branch) }

        var options = git_worktree_add_options()
        try check(
            git_worktree_add_options_init(&options, UInt32(GIT_WORKTREE_ADD_OPTIONS_VERSION)), "set up a worktree")
        options.ref = branch
        options.checkout_options.checkout_strategy = GIT_CHECKOUT_FORCE.rawValue
        var worktree: OpaquePointer?
        try check(git_worktree_add(&worktree, pointer, name, path, &options), "add a worktree at \(path)")
        git_worktree_free(worktree)

        let added = try GitRepository.open(at: path)
        var id = commit.raw
        try check(git_repository_set_head_detached(added.pointer, &id), "detach the worktree's HEAD at \(commit)")
    }

    /// Writes the files of `tree` into `directory` (no `.git`), leaving this repository's
    /// index, HEAD and working tree alone.
    func export(_ tree: GitTree, to directory: String) throws(GitError) {
        var options = git_checkout_options()
        try check(git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)), "set up a checkout")
        options.checkout_strategy = GIT_CHECKOUT_FORCE.rawValue | GIT_CHECKOUT_DONT_UPDATE_INDEX.rawValue
            | GIT_CHECKOUT_DONT_WRITE_INDEX.rawValue
        let code = directory.withCString { target in
            options.target_directory = target
            return git_checkout_tree(pointer, tree.pointer, &options)
        }
        try check(code, "export \(tree.id) to \(directory)")
    }

    /// Whether a linked worktree named `name` exists (in `.git/worktrees/`).
    func hasWorktree(named name: String) -> Bool {
        var worktree: OpaquePointer?
        guard git_worktree_lookup(&worktree, pointer, name) == 0 else {
            git_error_clear()
            return false
        }
        git_worktree_free(worktree)
        return true
    }

    /// The name of the linked worktree whose working directory is `path` (canonical), if any.
    func worktreeName(at path: String) -> String? {
        var names = git_strarray()
        guard git_worktree_list(&names, pointer) == 0 else {
            git_error_clear()
            return nil
        }
        defer { git_strarray_dispose(&names) }
        for index in 0..<names.count {
            guard let cName = names.strings[index] else { continue }
            var worktree: OpaquePointer?
            guard git_worktree_lookup(&worktree, pointer, cName) == 0 else {
                git_error_clear()
                continue
            }
            defer { git_worktree_free(worktree) }
            if let cPath = git_worktree_path(worktree), FilePaths.canonical(URL(fileURLWithPath: String(cString: cPath), isDirectory: true)) == path {
                return String(cString: cName)
            }
        }
        return nil
    }

    /// Removes the linked worktree `name`: its working directory and its record in
    /// `.git/worktrees/` (what `git worktree remove --force` does).
    func removeWorktree(named name: String) throws(GitError) {
        var worktree: OpaquePointer?
        try check(git_worktree_lookup(&worktree, pointer, name), "find the worktree \(name)")
        defer { git_worktree_free(worktree) }
        var options = git_worktree_prune_options()
        try check(git_worktree_prune_options_init(&options, UInt32(GIT_WORKTREE_PRUNE_OPTIONS_VERSION)), "set up a worktree removal")
        options.flags = GIT_WORKTREE_PRUNE_VALID.rawValue | GIT_WORKTREE_PRUNE_LOCKED.rawValue | GIT_WORKTREE_PRUNE_WORKING_TREE.rawValue
        try check(git_worktree_prune(worktree, &options), "remove the worktree \(name)")
    }
}
