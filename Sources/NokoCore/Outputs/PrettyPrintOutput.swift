import Foundation
import NokoPlatform
import Synchronization

/// Human-readable rows, to a file (`noko_pprint.log`) or standard output.
///
/// RESULTS and above by default: the rows worth reading as they happen. Each row is one
/// block with aligned keys in sorted order, written with one `write`, so blocks from threads
/// never mix.
///
/// ```
/// epoch · step 3 · RESULTS · 2026-11-27T10:27:38
///   accuracy  0.93
///   loss      0.2134
/// ```
package final class PrettyPrintOutput: LogOutput {
    package let name = "pprint"
    package let level: LogLevel
    private let file: Mutex<FileDescriptor?>
    private let ownsFile: Bool

    /// Appends to the file at `url`.
    package init(url: URL, level: LogLevel = .results) throws {
        self.level = level
        file = Mutex(try FileDescriptor.open(url.path, .append))
        ownsFile = true
    }

    /// Writes to standard output.
    package init(standardOutputAt level: LogLevel = .results) {
        self.level = level
        file = Mutex(FileDescriptor.standardOutput)
        ownsFile = false
    }

    package func write(_ row: SummarizedRow) throws {
        let text = PrettyPrintOutput.format(row)
        try file.withLock { fd throws(NokoSystemError) in try fd?.writeAll(Array(text.utf8)) }
    }

    /// The text block for one row.
    package static func format(_ row: SummarizedRow) -> String {
        var text = "\(row.table) · step \(row.step) · \(row.level) · \(row.time.localTime)\n"
        let width = row.keys.map(\.count).max() ?? 0
        for (key, value) in row.pairs.sorted(by: { $0.0 < $1.0 }) {
            let shown: String
            if case .string(let s) = value {
                shown = s.contains("\n") ? s.debugDescription : s
            } else {
                shown = value.description
            }
            text += "  " + key + String(repeating: " ", count: width - key.count) + "  " + shown + "\n"
        }
        return text
    }

    package func close() throws {
        try file.withLock { fd throws(NokoSystemError) in
            guard let current = fd, ownsFile else { return }
            fd = nil
            defer { current.closeIgnoringErrors() }
            try current.sync()
        }
    }
}
