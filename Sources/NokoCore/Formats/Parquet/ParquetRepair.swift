import Foundation
import NokoPlatform

/// What ``ParquetOutput/repair(file:)`` found and did.
package struct ParquetRepairResult: Sendable, Equatable {
    /// What the file's end looked like.
    package enum Outcome: Sendable, Equatable {
        /// The file ended with a valid footer; nothing was changed.
        case intact
        /// A torn tail after the last valid footer was removed.
        case truncated
        /// No valid footer was found (empty, not Parquet, or torn before its first row group);
        /// the file was left as it is.
        case noValidFooter
    }

    /// What was found.
    package var outcome: Outcome
    /// Bytes removed from the end.
    package var removedBytes: Int64
    /// Row groups in the file afterwards.
    package var rowGroups: Int
    /// Rows in the file afterwards.
    package var rows: Int64
}

enum ParquetRepair {
    static func repair(file url: URL) throws -> ParquetRepairResult {
        let file = try FileDescriptor.open(url.path, .update)
        defer { file.closeIgnoringErrors() }
        do {
            let size = Int64(try file.size())
            guard let footer = try ParquetFooterLocator.locate(in: file, size: size) else {
                return ParquetRepairResult(outcome: .noValidFooter, removedBytes: 0, rowGroups: 0, rows: 0)
            }
            let metadata = footer.metadata
            guard footer.end < size else {
                return ParquetRepairResult(
                    outcome: .intact, removedBytes: 0, rowGroups: metadata.rowGroups.count, rows: metadata.numRows)
            }
            try file.truncate(to: UInt64(footer.end))
            try file.sync()
            return ParquetRepairResult(
                outcome: .truncated, removedBytes: size - footer.end, rowGroups: metadata.rowGroups.count,
                rows: metadata.numRows)
        } catch let error as ParquetError {
            throw error.naming(url.path)
        }
    }
}
