import CGit2

/// A git index (staging area); owns its `git_index *`.
///
/// noko reads the repository's index and builds its snapshot in a separate in-memory
/// index: no index here is ever written to disk.
final class GitIndex {
    let pointer: OpaquePointer

    init(pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        git_index_free(pointer)
    }

    /// An empty index that lives only in memory.
    static func inMemory() throws(GitError) -> GitIndex {
        ensureLibgit2()
        var raw: OpaquePointer?
        try check(git_index_new(&raw), "create an in-memory index")
        return GitIndex(pointer: raw!)
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

    /// Copies `entry` (path included) into this index, replacing any entry at its path.
    func add(_ entry: UnsafePointer<git_index_entry>) throws(GitError) {
        try check(git_index_add(pointer, entry), "add '\(String(cString: entry.pointee.path))' to the snapshot")
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

    /// Writes the index's trees into `repository` and returns the root tree's id.
    func writeTree(to repository: GitRepository) throws(GitError) -> ObjectID {
        var oid = git_oid()
        try check(git_index_write_tree_to(&oid, pointer, repository.pointer), "write the snapshot tree")
        return ObjectID(oid)
    }
}
