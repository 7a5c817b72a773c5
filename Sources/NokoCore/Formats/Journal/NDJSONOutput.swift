import Foundation
import NokoPlatform
import Synchronization

/// The journal, `noko.ndjson`: one strict-JSON object per row, one `write` per row.
///
/// Every row reaches the OS before `logRow` returns, so a `kill -9` loses no logged row;
/// every other file of a run is a view that can be rebuilt from this one. A line holds the
/// row's keys plus `$table`, `$step`, `$level`, `$localtime` and `$utc_timestamp`; NaN and
/// ±Infinity are the strings `"NaN"`, `"Infinity"` and `"-Infinity"`.
package final class NDJSONOutput: LogOutput {
    package let name = "ndjson"
    package let level: LogLevel
    /// The file written.
    package let url: URL

    private struct State {
        /// The journal; a failed write is cut back off, so the file stays whole lines.
        var file: AppendOnlyFile?
        var writer = JSONWriter(capacity: 1024)
        /// Per schema: `{"$table":"…",` and each `"key":` with its separator, encoded once.
        var encodedKeys: [Int: (tableName: String, table: [UInt8], keys: [[UInt8]])] = [:]
    }

    private let state: Mutex<State>

    /// Opens (appending to) the journal at `url`. A torn last line, left by a process that
    /// died mid-write, is cut off first, so the next row starts on a line of its own.
    package init(url: URL, level: LogLevel = .trace) throws {
        self.url = url
        self.level = level
        try FileSystem.dropTornLine(url.path)
        let file = try FileDescriptor.open(url.path, .append)
        do {
            state = Mutex(State(file: AppendOnlyFile(file, size: try file.size())))
        } catch {
            file.closeIgnoringErrors()
            throw error
        }
    }

    package func write(_ row: SummarizedRow) throws {
        try state.withLock { s throws(NokoSystemError) in
            guard s.file != nil else { return }
            let cached = s.encodedKeys[row.schema.id]
            // A schema is interned per table by the logger, but rows built by hand may share one.
            let encoded = cached?.tableName == row.table ? cached! : NDJSONOutput.encodeKeys(of: row, cache: &s.encodedKeys)
            s.writer.bytes.removeAll(keepingCapacity: true)
            s.writer.appendRaw(encoded.table)
            s.writer.writeInt(Int64(row.step))
            s.writer.appendRaw(NDJSONOutput.levelKey)
            s.writer.writeInt(Int64(row.level.value))
            s.writer.appendRaw(NDJSONOutput.localTimeKey)
            s.writer.writeString(row.time.localTime)
            s.writer.appendRaw(NDJSONOutput.timestampKey)
            s.writer.writeDouble(row.time.utcTimestamp)
            for i in 0..<row.values.count {
                s.writer.appendRaw(encoded.keys[i])
                s.writer.write(row.values[i])
            }
            s.writer.append(UInt8(ascii: "}"))
            s.writer.append(UInt8(ascii: "\n"))
            try s.file!.append(s.writer.bytes)
        }
    }

    private static let levelKey = Array(",\"\(SummarizedRow.levelKey)\":".utf8)
    private static let localTimeKey = Array(",\"\(SummarizedRow.localTimeKey)\":".utf8)
    private static let timestampKey = Array(",\"\(SummarizedRow.utcTimestampKey)\":".utf8)

    private static func encodeKeys(
        of row: SummarizedRow, cache: inout [Int: (tableName: String, table: [UInt8], keys: [[UInt8]])]
    ) -> (tableName: String, table: [UInt8], keys: [[UInt8]]) {
        var writer = JSONWriter()
        writer.appendRaw(Array("{\"\(SummarizedRow.tableKey)\":".utf8))
        writer.writeString(row.table)
        writer.appendRaw(Array(",\"\(SummarizedRow.stepKey)\":".utf8))
        let table = writer.bytes
        let keys = row.keys.map { key -> [UInt8] in
            var w = JSONWriter()
            w.append(UInt8(ascii: ","))
            w.writeString(key)
            w.append(UInt8(ascii: ":"))
            return w.bytes
        }
        // Schemas change only when a table's keys change; a small cache is plenty.
        if cache.count > 256 { cache.removeAll() }
        cache[row.schema.id] = (row.table, table, keys)
        return (row.table, table, keys)
    }

    /// Nothing is buffered: rows are in the OS when `write` returns.
    package func flush() throws {}

    package func close() throws {
        try state.withLock { s throws(NokoSystemError) in
            guard let file = s.file?.descriptor else { return }
            s.file = nil
            defer { file.closeIgnoringErrors() }
            try file.sync()
        }
    }
}
