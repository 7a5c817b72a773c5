/// Writes a ``LogTable`` as CSV or NDJSON in noko's own dialects, for `noko-run export`.
///
/// CSV is what ``CSVOutput`` writes (RFC 4180, `True`/`False`, `nan`/`inf`, empty cell for
/// null, strings quoted when they would read back as another type); NDJSON is what the
/// journal holds (strict JSON, non-finite numbers as the strings `"NaN"`, `"Infinity"`,
/// `"-Infinity"`, one object per row, null cells left out). Output is handed out in chunks
/// of about `chunkSize` bytes, so a large table streams to a file without building it whole.
package enum LogTableWriter {
    /// Writes `columns` of `table` (every column when nil) as CSV: a header line, then one
    /// line per row.
    package static func writeCSV(
        _ table: LogTable, columns: [String]? = nil, chunkSize: Int = 1 << 20, _ chunk: ([UInt8]) throws -> Void
    ) rethrows {
        let names = columns ?? table.columnNames
        let data = names.map { table[$0] ?? [] }
        var out: [UInt8] = []
        out.reserveCapacity(chunkSize + 4096)
        for (i, name) in names.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            CSVFormat.appendString(name, to: &out)
        }
        out.append(0x0A)
        for row in 0..<table.rowCount {
            for (i, column) in data.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if row < column.count { CSVFormat.append(column[row], to: &out) }
            }
            out.append(0x0A)
            if out.count >= chunkSize {
                try chunk(out)
                out.removeAll(keepingCapacity: true)
            }
        }
        if !out.isEmpty { try chunk(out) }
    }

    /// Writes `columns` of `table` (every column when nil) as NDJSON, one object per row with
    /// its non-null cells in column order.
    package static func writeNDJSON(
        _ table: LogTable, columns: [String]? = nil, chunkSize: Int = 1 << 20, _ chunk: ([UInt8]) throws -> Void
    ) rethrows {
        let names = columns ?? table.columnNames
        let data = names.map { table[$0] ?? [] }
        var writer = JSONWriter(capacity: chunkSize + 4096)
        for row in 0..<table.rowCount {
            writer.append(UInt8(ascii: "{"))
            var first = true
            for (i, column) in data.enumerated() where row < column.count && !column[row].isNull {
                if !first { writer.append(UInt8(ascii: ",")) }
                first = false
                writer.writeString(names[i])
                writer.append(UInt8(ascii: ":"))
                writer.write(column[row])
            }
            writer.append(UInt8(ascii: "}"))
            writer.append(0x0A)
            if writer.bytes.count >= chunkSize {
                try chunk(writer.bytes)
                writer.bytes.removeAll(keepingCapacity: true)
            }
        }
        if !writer.bytes.isEmpty { try chunk(writer.bytes) }
    }
}
