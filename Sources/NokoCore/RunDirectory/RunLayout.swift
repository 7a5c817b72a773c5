import Foundation

/// The names of every file and folder of a run directory, in one place.
///
/// Writers (the outputs, the run module, git's checkpoint, the remotes), readers (the
/// loaders, resume, `noko-run`) and the checks that recognize a run directory all ask this
/// type; no other code spells a run-directory file name. A run directory of rank 0 holds
/// everything below; another rank's process logs into ``rank(_:)``, a directory of the
/// same layout inside it.
package struct RunLayout: Sendable, Hashable {
    /// The run directory (or a rank's directory inside it).
    package let directory: URL

    /// The layout of the run directory at `directory`.
    package init(_ directory: URL) {
        self.directory = directory
    }

    // MARK: - Names

    /// The journal: one JSON object per row, the source of truth.
    package static let journalName = "noko.ndjson"
    /// Per-table statistics (row counts, min/max/last, downsampled series).
    package static let summaryName = "summary.json"
    /// The config as recorded (secrets redacted).
    package static let configName = "config.json"
    /// Everything about the run that is not a row; its presence marks a noko run directory.
    package static let metadataName = "metadata.json"
    /// The root seed and each generator's seed.
    package static let seedsName = "seeds.json"
    /// What the launch gave (overrides and config files, with their sources) and the code's
    /// defaults.
    package static let overridesName = "overrides.json"
    /// The prefix of a config file given at launch, copied (`launch_config_1.yaml`…).
    package static let launchConfigPrefix = "launch_config_"
    /// The package's dependency versions, copied from the package root.
    package static let packageResolvedName = "Package.resolved"
    /// The pretty-printer's rows.
    package static let prettyPrintName = "noko_pprint.log"
    /// noko's own messages (and the program's swift-log messages, when bootstrapped).
    package static let debugLogName = "debug.log"
    /// The program's console output (stdout and stderr), as it wrote it.
    package static let outputLogName = "output.log"
    /// Which stream each byte range of `output.log` came from, and when.
    package static let outputIndexName = "output.index"
    /// `output.log` once rotated away (the cap was reached).
    package static let rotatedOutputLogName = "output.1.log"
    /// `output.index` once rotated away.
    package static let rotatedOutputIndexName = "output.1.index"
    /// Written by the crash handler: the signal the process died of.
    package static let crashName = "crash"
    /// The crash marker's file while armed, renamed to ``crashName`` by the handler.
    package static let crashPendingName = ".crash-pending"
    /// The diff from HEAD to the checkpoint.
    package static let fromHeadDiffName = "from_head.diff"
    /// The diff from the previous checkpoint to this one.
    package static let fromLastCheckpointDiffName = "from_last_checkpoint.diff"
    /// The folder of the remotes' cursors and locks.
    package static let syncDirectoryName = "sync"
    /// The prefix of TensorBoard event files (`events.out.tfevents.<time>.<host>.<pid>.<n>`).
    package static let tensorBoardEventsPrefix = "events.out.tfevents."
    /// The extension of a table's CSV file.
    package static let csvExtension = ".csv"
    /// The extension of a table's Parquet file.
    package static let parquetExtension = ".parquet"
    /// The prefix of another rank's directory (`rank-1`, `rank-2`…).
    package static let rankDirectoryPrefix = "rank-"
    /// The checkpoint a launcher took for the runs it starts (a sweep's, beside the diffs
    /// `GitCheckpoint` wrote with it): metadata.json's `git` object alone.
    package static let sharedCheckpointName = "checkpoint.json"
    /// A sweep directory's record: command, axes, every trial and its status.
    package static let sweepName = "sweep.json"
    /// Held (`flock`) by the process running a sweep, so two never run one sweep at once.
    package static let sweepLockName = ".sweep.lock"
    /// A sweep directory's folder of what each trial's process wrote, as the launcher saw it.
    package static let sweepLogsName = "logs"
    /// Held (`flock`) for a moment by every process that changes `sweep.json` or a claim, on
    /// whichever machine: the read-change-write of one never interleaves with another's.
    package static let sweepUpdateLockName = ".sweep.json.lock"
    /// A sweep directory's folder of claims: `claims/<trial-id>`, created with `O_EXCL` by the
    /// process that runs the trial, touched as its heartbeat, removed when the attempt ends.
    package static let sweepClaimsName = "claims"
    /// The `sbatch` script of a sweep's latest submission to SLURM.
    package static let slurmScriptName = "slurm.sh"

    // MARK: - Paths

    /// `noko.ndjson`.
    package var journal: URL { file(Self.journalName) }
    /// `summary.json`.
    package var summary: URL { file(Self.summaryName) }
    /// `config.json`.
    package var config: URL { file(Self.configName) }
    /// `metadata.json`.
    package var metadata: URL { file(Self.metadataName) }
    /// `seeds.json`.
    package var seeds: URL { file(Self.seedsName) }
    /// `overrides.json`.
    package var overrides: URL { file(Self.overridesName) }
    /// `Package.resolved`.
    package var packageResolved: URL { file(Self.packageResolvedName) }

    /// `launch_config_<n>.<ext>`: the `n`th config file given at launch (1 is the lowest
    /// precedence), with the extension of its format (`json`, `yaml`).
    package func launchConfig(_ number: Int, extension pathExtension: String) -> URL {
        file("\(Self.launchConfigPrefix)\(number).\(pathExtension)")
    }
    /// `noko_pprint.log`.
    package var prettyPrint: URL { file(Self.prettyPrintName) }
    /// `debug.log`.
    package var debugLog: URL { file(Self.debugLogName) }
    /// `output.log`.
    package var outputLog: URL { file(Self.outputLogName) }
    /// `output.index`.
    package var outputIndex: URL { file(Self.outputIndexName) }
    /// `output.1.log`.
    package var rotatedOutputLog: URL { file(Self.rotatedOutputLogName) }
    /// `output.1.index`.
    package var rotatedOutputIndex: URL { file(Self.rotatedOutputIndexName) }
    /// `crash`.
    package var crash: URL { file(Self.crashName) }
    /// `.crash-pending`.
    package var crashPending: URL { file(Self.crashPendingName) }
    /// `from_head.diff`.
    package var fromHeadDiff: URL { file(Self.fromHeadDiffName) }
    /// `from_last_checkpoint.diff`.
    package var fromLastCheckpointDiff: URL { file(Self.fromLastCheckpointDiffName) }
    /// `checkpoint.json`.
    package var sharedCheckpoint: URL { file(Self.sharedCheckpointName) }
    /// `sweep.json`.
    package var sweep: URL { file(Self.sweepName) }
    /// `.sweep.lock`.
    package var sweepLock: URL { file(Self.sweepLockName) }
    /// `.sweep.json.lock`.
    package var sweepUpdateLock: URL { file(Self.sweepUpdateLockName) }
    /// `claims/<trial-id>`.
    package func sweepClaim(_ trial: String) -> URL {
        directory.appendingPathComponent(Self.sweepClaimsName, isDirectory: true).appendingPathComponent(trial)
    }
    /// `slurm.sh`.
    package var slurmScript: URL { file(Self.slurmScriptName) }
    /// `logs/<run>.log`: the stdout and stderr of the trial run `run`.
    package func sweepLog(_ run: String) -> URL {
        directory.appendingPathComponent(Self.sweepLogsName, isDirectory: true).appendingPathComponent(run + ".log")
    }
    /// `sync/`.
    package var syncDirectory: URL { directory.appendingPathComponent(Self.syncDirectoryName, isDirectory: true) }

    /// `sync/<remote>.json`: how far the upload to `remote` (`wandb`, `mlflow`) got.
    package func syncCursor(_ remote: String) -> URL {
        syncDirectory.appendingPathComponent("\(remote).json")
    }

    /// `sync/<remote>.lock`: held by whichever process uploads to `remote`.
    package func syncLock(_ remote: String) -> URL {
        syncDirectory.appendingPathComponent("\(remote).lock")
    }

    /// `<stem>.csv`, a table's CSV file (see ``TableFileName`` for the stem).
    package func csv(stem: String) -> URL { file(stem + Self.csvExtension) }

    /// `<stem>.parquet`, a table's Parquet file.
    package func parquet(stem: String) -> URL { file(stem + Self.parquetExtension) }

    /// The directory rank `rank` logs into: this one for rank 0, `rank-<N>/` otherwise.
    package func rank(_ rank: Int) -> RunLayout {
        rank == 0 ? self : RunLayout(directory.appendingPathComponent("\(Self.rankDirectoryPrefix)\(rank)", isDirectory: true))
    }

    /// The rank of a directory named `name` inside a run directory (`rank-3` → 3), nil for
    /// any other name.
    package static func rank(ofDirectoryNamed name: String) -> Int? {
        guard name.hasPrefix(rankDirectoryPrefix), let rank = Int(name.dropFirst(rankDirectoryPrefix.count)), rank > 0 else {
            return nil
        }
        return rank
    }

    /// `name` in the directory.
    package func file(_ name: String) -> URL {
        directory.appendingPathComponent(name)
    }

    /// Whether a file named `name`, found in a directory, is one of Python noko's or
    /// noko's row files (the journal, a table's CSV): what marks a Python noko run.
    package static func isRowFile(_ name: String) -> Bool {
        name == journalName || name.hasSuffix(csvExtension)
    }
}
