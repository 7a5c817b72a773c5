import CGit2

/// A computed diff; owns its `git_diff *`.
final class GitDiff {
    let pointer: OpaquePointer

    private init(pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        git_diff_free(pointer)
    }

    /// The changes from `old` (nil: the empty tree) to `new`, with renames detected as
    /// `git diff` does by default, and binary files as `git diff --binary` shows them so
    /// that `git apply` can replay every change.
    static func trees(
        in repository: GitRepository, from old: GitTree?, to new: GitTree
    ) throws(GitError) -> GitDiff {
        var options = git_diff_options()
        try check(git_diff_options_init(&options, UInt32(GIT_DIFF_OPTIONS_VERSION)), "set up a diff")
        options.flags = GIT_DIFF_SHOW_BINARY.rawValue
        var raw: OpaquePointer?
        try check(
            git_diff_tree_to_tree(&raw, repository.pointer, old?.pointer, new.pointer, &options),
            "diff \(old.map { "\($0.id)" } ?? "the empty tree") against \(new.id)")
        let diff = GitDiff(pointer: raw!)
        var find = git_diff_find_options()
        try check(git_diff_find_options_init(&find, UInt32(GIT_DIFF_FIND_OPTIONS_VERSION)), "set up rename detection")
        find.flags = GIT_DIFF_FIND_RENAMES.rawValue
        try check(git_diff_find_similar(diff.pointer, &find), "detect renames")
        return diff
    }

    /// Every difference between `index` and the working tree: modified, deleted, type-changed
    /// and untracked (not ignored) files, one delta per file. Ignored directories are skipped
    /// whole, never walked. Files whose stat data matches the index are not read.
    static func indexToWorkdir(in repository: GitRepository, index: GitIndex) throws(GitError) -> GitDiff {
        var options = git_diff_options()
        try check(git_diff_options_init(&options, UInt32(GIT_DIFF_OPTIONS_VERSION)), "set up a diff")
        options.flags = GIT_DIFF_INCLUDE_UNTRACKED.rawValue | GIT_DIFF_RECURSE_UNTRACKED_DIRS.rawValue
            | GIT_DIFF_INCLUDE_TYPECHANGE.rawValue | GIT_DIFF_SKIP_BINARY_CHECK.rawValue
        // A submodule counts as changed when its checked-out commit moved, not when its own
        // working tree is dirty: we record the commit, and this spares a walk of its files.
        options.ignore_submodules = GIT_SUBMODULE_IGNORE_DIRTY
        var raw: OpaquePointer?
        try check(
            git_diff_index_to_workdir(&raw, repository.pointer, index.pointer, &options),
            "compare the working tree with the index")
        return GitDiff(pointer: raw!)
    }

    var count: Int { git_diff_num_deltas(pointer) }

    func delta(at position: Int) -> UnsafePointer<git_diff_delta> {
        git_diff_get_delta(pointer, position)
    }

    /// The unified patch, as bytes: files need not be UTF-8.
    func patch() throws(GitError) -> [UInt8] {
        var buffer = git_buf()
        try check(git_diff_to_buf(&buffer, pointer, GIT_DIFF_FORMAT_PATCH), "format the diff as a patch")
        defer { git_buf_dispose(&buffer) }
        guard let start = buffer.ptr, buffer.size > 0 else { return [] }
        return start.withMemoryRebound(to: UInt8.self, capacity: buffer.size) {
            Array(UnsafeBufferPointer(start: $0, count: buffer.size))
        }
    }

    /// Files changed, lines inserted and lines deleted, as `git diff --shortstat` counts them.
    func stats() throws(GitError) -> GitDiffStats {
        var raw: OpaquePointer?
        try check(git_diff_get_stats(&raw, pointer), "count the diff's changes")
        defer { git_diff_stats_free(raw) }
        return GitDiffStats(
            filesChanged: git_diff_stats_files_changed(raw),
            insertions: git_diff_stats_insertions(raw),
            deletions: git_diff_stats_deletions(raw))
    }
}
