import Foundation
import NokoCore
import Synchronization

/// Owns a run's `metadata.json`: every change rewrites it atomically, under one lock, so
/// concurrent updates (heartbeat, wandb's record, finish) never lose each other.
final class MetadataStore: Sendable {
    private let state: Mutex<RunMetadata>
    let directory: URL

    init(_ metadata: RunMetadata, directory: URL) {
        state = Mutex(metadata)
        self.directory = directory
    }

    var current: RunMetadata { state.withLock { $0 } }

    /// Applies `change` and writes the file.
    func update(_ change: (inout RunMetadata) -> Void) throws {
        try state.withLock { metadata in
            change(&metadata)
            try metadata.write(to: directory)
        }
    }
}
