import CGit2
import Foundation
import Logging

/// The working tree as a tree object: every tracked file as it is on disk plus every
/// untracked file that is not ignored, within the size caps, without secrets and without
/// noko's run directories.
///
/// It starts from the index and applies only what `git diff` (index → working tree)
/// reports, so files whose stat data matches the index are never read, ignored directories
/// are never walked, and only the directories that changed get new trees. The index is
/// changed in memory only; the file on disk is never written.
struct WorkingTreeSnapshot {
    /// The root tree, written to the object database.
    var tree: ObjectID
    /// Entries in the tree (files, symbolic links, submodules).
    var files: Int
    /// Their total size.
    var bytes: Int64
    var skipped: [GitSkippedFile]
    /// Untracked, non-ignored noko run directories found in the tree (relative, ending `/`).
    var unignoredRunDirectories: [String]

    /// One path where the working tree differs from the index.
    private struct Change {
        enum Kind {
            /// Tracked, gone from disk.
            case deleted
            /// Tracked, with other content, type or mode on disk (or in conflict).
            case changed
            /// Not in the index, not ignored.
            case untracked
            /// An untracked directory holding its own repository (`git add` makes it a gitlink).
            case embeddedRepository
        }

        var kind: Kind
        var path: String
        var mode: UInt32
        var size: Int64
        /// The content's id when the diff computed it, else nil.
        var workdirID: ObjectID?
    }

    static func make(
        repository: GitRepository, workdir: String, excluding configured: ExcludedDirectories,
        options: CheckpointOptions, messages: Logger
    ) throws(GitError) -> WorkingTreeSnapshot {
        // This repository handle belongs to this checkpoint alone, so its index object is a
        // private in-memory copy: changed below, never written to disk (nothing here calls
        // git_index_write). Keeping it, rather than a fresh index, keeps its cache of tree
        // ids, so unchanged directories are not rebuilt.
        let snapshot = try repository.index()
        var excluded = configured
        for position in 0..<snapshot.count {
            guard let entry = snapshot.entry(at: position), git_index_entry_stage(entry) == 0 else { continue }
            if let runDirectory = trackedRunDirectory(entry, workdir: workdir) {
                excluded.insert(runDirectory)
            }
        }

        let changes = try workingTreeChanges(repository: repository, index: snapshot)
        // Conflicted paths (stages 1-3) get their working-tree version below.
        try snapshot.removeConflicts()
        var unignoredRunDirectories: [String] = []
        for change in changes where change.kind == .untracked {
            if let runDirectory = ExcludedDirectories.runDirectory(ofMetadataFile: change.path, workdir: workdir),
                !excluded.contains(change.path)
            {
                excluded.insert(runDirectory)
                unignoredRunDirectories.append(runDirectory)
            }
        }

        // Removals first: a file may have become a directory, or the reverse.
        for change in changes where change.kind == .deleted && !excluded.contains(change.path) {
            try snapshot.remove(path: change.path)
        }

        var skipped: [GitSkippedFile] = []
        var candidates: [Change] = []
        for change in changes where change.kind != .deleted && !excluded.contains(change.path) {
            switch change.kind {
            case .embeddedRepository:
                let path = String(change.path.dropLast())
                if let commit = try? GitRepository.open(at: workdir + path).head().commit {
                    try snapshot.add(path: path, id: commit, mode: UInt32(GIT_FILEMODE_COMMIT.rawValue), size: 0)
                }
            case _ where change.mode == UInt32(GIT_FILEMODE_COMMIT.rawValue):
                guard let commit = repository.submoduleCheckedOutCommit(path: change.path) ?? change.workdirID else { continue }
                try snapshot.add(path: change.path, id: commit, mode: change.mode, size: 0)
            case .untracked where !options.includeSecrets && SecretFileNames.matches(change.path):
                skipped.append(GitSkippedFile(path: change.path, reason: .secret, size: change.size))
                messages.warning(
                    "not checkpointing '\(change.path)': it looks like a secret. Add it to .gitignore, or opt in to checkpointing secret-looking files (CheckpointOptions.includeSecrets).")
            case _ where change.size > options.maxFileSize:
                // A tracked file keeps its indexed version: the diffs must not show it deleted.
                skipped.append(GitSkippedFile(path: change.path, reason: .tooLarge, size: change.size))
            default:
                candidates.append(change)
            }
        }

        // Smallest first, so that the total cap drops the largest files.
        candidates.sort { ($0.size, $0.path) < ($1.size, $1.path) }
        var capturedBytes: Int64 = 0
        for change in candidates {
            guard capturedBytes + change.size <= options.maxTotalSize else {
                skipped.append(GitSkippedFile(path: change.path, reason: .overTotal, size: change.size))
                continue
            }
            do {
                // The diff may have hashed the file already (same size, other time stamps);
                // if that content is stored, as after an earlier checkpoint, reuse it.
                let blob =
                    if let known = change.workdirID, repository.hasObject(known) { known } else {
                        try repository.createBlob(fromWorkdirPath: change.path)
                    }
                try snapshot.add(path: change.path, id: blob, mode: blobMode(change.mode), size: UInt64(change.size))
                capturedBytes += change.size
            } catch {
                // Typically deleted or replaced while we looked: the index version stays, if any.
                messages.warning("could not checkpoint '\(change.path)': \(error.message)")
            }
        }

        if !skipped.isEmpty {
            let bySize = skipped.filter { $0.reason != .secret }
            if !bySize.isEmpty {
                messages.warning(
                    "\(bySize.count) file(s) over the checkpoint size caps were not captured (see metadata.json git.skipped): \(bySize.prefix(5).map(\.path).joined(separator: ", "))\(bySize.count > 5 ? ", …" : "")")
            }
        }

        var bytes: Int64 = 0
        for position in 0..<snapshot.count {
            bytes += Int64(snapshot.entry(at: position)?.pointee.file_size ?? 0)
        }
        skipped.sort { $0.path < $1.path }
        return WorkingTreeSnapshot(
            tree: try snapshot.writeTree(to: repository), files: snapshot.count, bytes: bytes, skipped: skipped,
            unignoredRunDirectories: unignoredRunDirectories)
    }

    /// The run directory holding a tracked `metadata.json`, if it is one.
    private static func trackedRunDirectory(_ entry: UnsafePointer<git_index_entry>, workdir: String) -> String? {
        let path = entry.pointee.path!
        let length = strlen(path)
        let suffix = "/metadata.json"
        guard length > suffix.utf8.count else { return nil }
        let tail = path + (length - suffix.utf8.count)
        guard strcmp(tail, suffix) == 0 else { return nil }
        return ExcludedDirectories.runDirectory(ofMetadataFile: String(cString: path), workdir: workdir)
    }

    private static func workingTreeChanges(repository: GitRepository, index: GitIndex) throws(GitError) -> [Change] {
        let diff = try GitDiff.indexToWorkdir(in: repository, index: index)
        var changes: [Change] = []
        changes.reserveCapacity(diff.count)
        for position in 0..<diff.count {
            let delta = diff.delta(at: position).pointee
            var kind: Change.Kind
            switch delta.status {
            case GIT_DELTA_DELETED:
                kind = .deleted
            case GIT_DELTA_UNTRACKED:
                let path = String(cString: delta.new_file.path)
                kind = path.hasSuffix("/") ? .embeddedRepository : .untracked
            case GIT_DELTA_MODIFIED, GIT_DELTA_TYPECHANGE, GIT_DELTA_CONFLICTED, GIT_DELTA_ADDED:
                kind = .changed
            default:
                continue
            }
            // A conflicted path missing from disk has nothing to capture.
            if kind == .changed && delta.new_file.mode == 0 { kind = .deleted }
            let file = kind == .deleted ? delta.old_file : delta.new_file
            changes.append(
                Change(
                    kind: kind, path: String(cString: file.path), mode: UInt32(file.mode),
                    size: Int64(clamping: file.size),
                    workdirID: file.flags & GIT_DIFF_FLAG_VALID_ID.rawValue != 0 ? ObjectID(file.id) : nil))
        }
        return changes
    }

    /// The mode git would store for a working-tree file of mode `mode`.
    private static func blobMode(_ mode: UInt32) -> UInt32 {
        switch mode {
        case UInt32(GIT_FILEMODE_BLOB_EXECUTABLE.rawValue), UInt32(GIT_FILEMODE_LINK.rawValue):
            mode
        default:
            UInt32(GIT_FILEMODE_BLOB.rawValue)
        }
    }
}
