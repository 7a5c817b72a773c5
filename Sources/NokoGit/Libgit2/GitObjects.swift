import CGit2

/// A commit object; owns its `git_commit *`.
final class GitCommit {
    let pointer: OpaquePointer

    init(pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        git_commit_free(pointer)
    }

    var treeID: ObjectID { ObjectID(git_commit_tree_id(pointer).pointee) }

    func tree() throws(GitError) -> GitTree {
        var raw: OpaquePointer?
        try check(git_commit_tree(&raw, pointer), "read the tree of commit \(ObjectID(git_commit_id(pointer).pointee))")
        return GitTree(pointer: raw!)
    }
}

/// A tree object; owns its `git_tree *`.
final class GitTree {
    let pointer: OpaquePointer

    init(pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        git_tree_free(pointer)
    }

    var id: ObjectID { ObjectID(git_tree_id(pointer).pointee) }
}

/// A read-only configuration snapshot; owns its `git_config *`.
final class GitConfig {
    let pointer: OpaquePointer

    init(pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        git_config_free(pointer)
    }

    /// The configuration in one file only (no system, global or repository levels).
    static func file(at path: String) throws(GitError) -> GitConfig {
        ensureLibgit2()
        var raw: OpaquePointer?
        try check(git_config_open_ondisk(&raw, path), "read the configuration file \(path)")
        defer { git_config_free(raw) }
        // git_config_get_string only works on snapshots.
        var snapshot: OpaquePointer?
        try check(git_config_snapshot(&snapshot, raw), "read the configuration file \(path)")
        return GitConfig(pointer: snapshot!)
    }

    /// The value of `name` (e.g. `user.name`), nil when unset.
    func string(_ name: String) throws(GitError) -> String? {
        var value: UnsafePointer<CChar>?
        let code = git_config_get_string(&value, pointer, name)
        if code == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            return nil
        }
        try check(code, "read \(name) from the git configuration")
        return value.map { String(cString: $0) }
    }
}

/// An author or committer with the current time; owns its `git_signature *`.
final class GitSignature {
    let pointer: UnsafeMutablePointer<git_signature>

    init(name: String, email: String) throws(GitError) {
        ensureLibgit2()
        var raw: UnsafeMutablePointer<git_signature>?
        try check(git_signature_now(&raw, name, email), "make the signature \(name) <\(email)>")
        pointer = raw!
    }

    deinit {
        git_signature_free(pointer)
    }
}
