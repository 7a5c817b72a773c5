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

    /// Hands the unified patch to `sink` in pieces and counts it, generating each file's patch
    /// once (libgit2's own stats would generate them all a second time). Bytes, not text:
    /// files need not be UTF-8.
    func writePatch(into sink: (UnsafeRawBufferPointer) throws -> Void) throws -> GitDiffStats {
        var stats = GitDiffStats(filesChanged: count)
        for position in 0..<count {
            var patch: OpaquePointer?
            try check(git_patch_from_diff(&patch, pointer, position), "diff \(describe(position))")
            guard let patch else { continue }
            defer { git_patch_free(patch) }
            var context = 0
            var insertions = 0
            var deletions = 0
            try check(git_patch_line_stats(&context, &insertions, &deletions, patch), "count \(describe(position))")
            stats.insertions += insertions
            stats.deletions += deletions
            var buffer = git_buf()
            try check(git_patch_to_buf(&buffer, patch), "format the patch of \(describe(position))")
            defer { git_buf_dispose(&buffer) }
            if let start = buffer.ptr, buffer.size > 0 {
                try sink(UnsafeRawBufferPointer(start: start, count: buffer.size))
            }
        }
        return stats
    }

    private func describe(_ position: Int) -> String {
        let delta = self.delta(at: position).pointee
        return "'" + String(cString: delta.new_file.path ?? delta.old_file.path) + "'"
    }
}
