/// Why `noko-run sync` could not upload a run. Messages never contain the API key.
package enum WandbSyncError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The directory is not a noko run (no `metadata.json`).
    case notARunDirectory(String)
    /// The run's own process is alive, or another sync holds the lock.
    case busy(String)
    /// No API key in `WANDB_API_KEY` or the netrc file for this host.
    case noAPIKey(host: String)
    /// `WANDB_MODE=disabled` (or `WANDB_DISABLED`) is set.
    case disabled
    /// `sync/wandb.json` or `metadata.json` cannot be read or written.
    case state(String)
    /// The server refused the upload, or it could not be completed.
    case uploadFailed(String)

    package var description: String {
        switch self {
        case .notARunDirectory(let path): return "\(path) is not a noko run directory (no metadata.json)"
        case .busy(let reason): return reason
        case .noAPIKey(let host): return "no wandb API key for \(host): set WANDB_API_KEY or run `wandb login`"
        case .disabled: return "wandb is disabled by WANDB_MODE=disabled (or WANDB_DISABLED)"
        case .state(let reason): return reason
        case .uploadFailed(let reason): return reason
        }
    }
}
