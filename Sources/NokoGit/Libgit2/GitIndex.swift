import CGit2

/// A git index (staging area); owns its `git_index *`.
///
/// noko changes an index only in memory, to build its snapshot: no index is ever written
/// to disk here (there is deliberately no `write`).
final class GitIndex {
    let pointer: OpaquePointer

    init(pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        git_index_free(pointer)
    }

    var count: Int { git_index_entrycount(pointer) }

    /// The entry at `position` in path order; valid until the index changes.
    func entry(at position: Int) -> UnsafePointer<git_index_entry>? {
        git_index_get_byindex(pointer, position)
    }

    /// The merged (stage 0) entry for `path`, if any; valid until the index changes.
    func entry(path: String) -> UnsafePointer<git_index_entry>? {
        git_index_get_bypath(pointer, path, 0)
    }

    /// Adds an entry for `path` with the given object, mode and size.
    func add(path: String, id: ObjectID, mode: UInt32, size: UInt64) throws(GitError) {
        var entry = git_index_entry()
        entry.id = id.raw
        entry.mode = mode
        // The index stores sizes modulo 2^32, as git does.
        entry.file_size = UInt32(truncatingIfNeeded: size)
        let code = path.withCString { cPath in
            entry.path = cPath
            return git_index_add(pointer, &entry)
        }
        try check(code, "add '\(path)' to the snapshot")
    }

    func remove(path: String) throws(GitError) {
        let code = git_index_remove(pointer, path, 0)
        if code == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            return
        }
        try check(code, "remove '\(path)' from the snapshot")
    }

    /// Drops every conflict entry (stages 1-3), in memory.
    func removeConflicts() throws(GitError) {
        try check(git_index_conflict_cleanup(pointer), "set conflicts aside")
    }

    /// Writes the index's trees into `repository` and returns the root tree's id.
    func writeTree(to repository: GitRepository) throws(GitError) -> ObjectID {
        var oid = git_oid()
        try check(git_index_write_tree_to(&oid, pointer, repository.pointer), "write the snapshot tree")
        return ObjectID(oid)
    }
}
