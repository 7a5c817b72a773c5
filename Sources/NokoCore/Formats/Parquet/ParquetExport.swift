import Foundation
import NokoPlatform
import Logging

/// Writes complete Parquet files in one go, for `noko-run export --format parquet`: from the
/// rows of one table (as replayed from the journal) or from a loaded ``LogTable``.
///
/// The file has the same columns and types as the live ``ParquetOutput`` would write, one
/// footer and no dead bytes. It is written through the atomic writer, so `url` is never seen
/// half-written.
package enum ParquetExport {
    /// Rows per row group in exported files (pyarrow and DuckDB read row groups of this order
    /// in parallel).
    package static let defaultRowGroupRows = 65_536

    /// Writes `rows` (all of table `table`, in order) to `url`.
    package static func write<Rows: Sequence<SummarizedRow>>(
        rows: Rows, table: String, to url: URL, compression: ParquetCompression = .snappy,
        rowGroupRows: Int = defaultRowGroupRows, messages: Logger = NokoMessages.logger()
    ) throws {
        try writeAtomically(to: url, table: table, compression: compression, rowGroupRows: rowGroupRows, messages: messages) {
            writer in
            var batch: [SummarizedRow] = []
            batch.reserveCapacity(min(rowGroupRows, 4096))
            var wroteAny = false
            for row in rows {
                batch.append(row)
                if batch.count == rowGroupRows {
                    try writer.append(ParquetBatchBuilder.build(rows: batch))
                    batch.removeAll(keepingCapacity: true)
                    wroteAny = true
                }
            }
            if !batch.isEmpty {
                try writer.append(ParquetBatchBuilder.build(rows: batch))
            } else if !wroteAny {
                writer.declareColumns(ParquetBatchBuilder.build(rows: []).columns)
            }
        }
    }

    /// Writes `table` (rows of the table named `name`) to `url`. Bookkeeping columns (`$step`,
    /// `$level`, `$utc_timestamp`, `$localtime`) come first when present; `$table` is left
    /// out. A column with values of several types is written as the widest, with one warning.
    package static func write(
        table: LogTable, name: String, to url: URL, compression: ParquetCompression = .snappy,
        rowGroupRows: Int = defaultRowGroupRows, messages: Logger = NokoMessages.logger()
    ) throws {
        let types = ParquetBatchBuilder.observedTypes(of: table)
        try writeAtomically(to: url, table: name, compression: compression, rowGroupRows: rowGroupRows, messages: messages) {
            writer in
            guard table.rowCount > 0 else {
                writer.declareColumns(ParquetBatchBuilder.build(table: table, rows: 0..<0, types: types).columns)
                return
            }
            for start in stride(from: 0, to: table.rowCount, by: rowGroupRows) {
                let range = start..<min(start + rowGroupRows, table.rowCount)
                try writer.append(ParquetBatchBuilder.build(table: table, rows: range, types: types))
            }
        }
    }

    private static func writeAtomically(
        to url: URL, table: String, compression: ParquetCompression, rowGroupRows: Int, messages: Logger,
        _ body: (ParquetFileWriter) throws -> Void
    ) throws {
        precondition(rowGroupRows > 0, "row groups need rows")
        let options = ParquetFileWriter.Options(
            compression: compression, footerAfterEveryRowGroup: false, compactedRowGroupRows: rowGroupRows,
            table: table, warn: { messages.warning("\($0)") })
        try AtomicFile.write(to: url.path) { file in
            let writer = ParquetFileWriter(writingTo: file, path: url.path, options: options)
            try body(writer)
            try writer.finish()
        }
    }
}
