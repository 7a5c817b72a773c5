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
    private let target: Mutex<Target>

    private enum Target {
        /// `noko_pprint.log`: a block that fails half-written is cut back off.
        case file(AppendOnlyFile)
        case standardOutput
        case closed
    }

    /// Appends to the file at `url`.
    package init(url: URL, level: LogLevel = .results) throws {
        self.level = level
        let file = try FileDescriptor.open(url.path, .append)
        do {
            target = Mutex(.file(AppendOnlyFile(file, size: try file.size())))
        } catch {
            file.closeIgnoringErrors()
            throw error
        }
    }

    /// Writes to standard output.
    package init(standardOutputAt level: LogLevel = .results) {
        self.level = level
        target = Mutex(.standardOutput)
    }

    package func write(_ row: SummarizedRow) throws {
        let bytes = Array(PrettyPrintOutput.format(row).utf8)
        try target.withLock { target throws(NokoSystemError) in
            switch target {
            case .file(var file):
                defer { target = .file(file) }
                try file.append(bytes)
            case .standardOutput: try FileDescriptor.standardOutput.writeAll(bytes)
            case .closed: break
            }
        }
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
        try target.withLock { target throws(NokoSystemError) in
            guard case .file(let file) = target else { return }
            target = .closed
            defer { file.descriptor.closeIgnoringErrors() }
            try file.descriptor.sync()
        }
    }
}
