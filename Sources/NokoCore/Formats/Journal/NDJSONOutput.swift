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
        var line = RowText(capacity: 1024)
        /// Each value's start and end in `line`, when the line's text is kept for views.
        var bounds = RowText(capacity: 256)
        /// Per schema: its table's name, `{"$table":"…","$step":`, and each `,"key":`.
        var encodedKeys: [Int: EncodedKeys] = [:]
    }

    /// A schema's key text, encoded once: all keys in one buffer, so a row's line copies
    /// each from it without reference counting per key.
    private struct EncodedKeys {
        var tableName: String
        var table: [UInt8]
        /// `,"key":` of every key, one after the other; key `i` ends at `ends[i]`.
        var keys: [UInt8]
        var ends: [Int]
    }

    private let state: Mutex<State>
    /// True when a view writes numbers as the journal does (CSV): each row then keeps the
    /// journal's text of its values, and the view copies it instead of formatting again.
    private let keepsValueText = Atomic(false)

    /// Makes rows keep their values' journal text (see ``keepsValueText``).
    package func keepValueText(_ keep: Bool) { keepsValueText.store(keep, ordering: .relaxed) }

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
            let keepsText = keepsValueText.load(ordering: .relaxed)
            s.bounds.removeAll()
            NDJSONOutput.format(row, keys: encoded, into: &s.line, bounds: &s.bounds, recording: keepsText)
            try s.file!.append(s.line.bytes)
            // Only a row in the journal is one its views write.
            if keepsText { row.keepValueText(ValueText(line: s.line.bytes, bounds: s.bounds.bytes)) }
        }
    }

    /// The row's line: what `JSONWriter` would write for the same keys and values.
    /// `recording`: `bounds` gets each value's start and end offset in the line.
    private static func format(
        _ row: SummarizedRow, keys encoded: EncodedKeys, into line: inout RowText, bounds: inout RowText, recording: Bool
    ) {
        line.removeAll()
        line.append(encoded.table)
        line.appendInt(Int64(row.step))
        line.append(NDJSONOutput.levelKey)
        line.appendInt(Int64(row.level.value))
        line.append(NDJSONOutput.localTimeKey)
        line.appendJSONString(row.time.localTime)
        line.append(NDJSONOutput.timestampKey)
        line.appendJSONDouble(row.time.utcTimestamp)
        encoded.keys.withUnsafeBytes { keys in
            encoded.ends.withUnsafeBufferPointer { ends in
                row.values.withUnsafeBufferPointer { values in
                    var start = 0
                    for i in 0..<values.count {
                        line.append(UnsafeRawBufferPointer(rebasing: keys[start..<ends[i]]))
                        let valueStart = line.count
                        line.appendJSON(values[i])
                        if recording { bounds.appendBounds(UInt32(valueStart), UInt32(line.count)) }
                        start = ends[i]
                    }
                }
            }
        }
        line.append(UInt8(ascii: "}"))
        line.append(UInt8(ascii: "\n"))
    }

    /// The line `write` would append for `row` (tests compare it with `JSONWriter`'s).
    static func line(of row: SummarizedRow) -> [UInt8] {
        var cache: [Int: EncodedKeys] = [:]
        var line = RowText()
        var bounds = RowText(capacity: 256)
        format(row, keys: encodeKeys(of: row, cache: &cache), into: &line, bounds: &bounds, recording: false)
        return line.array
    }

    private static let levelKey = Array(",\"\(SummarizedRow.levelKey)\":".utf8)
    private static let localTimeKey = Array(",\"\(SummarizedRow.localTimeKey)\":".utf8)
    private static let timestampKey = Array(",\"\(SummarizedRow.utcTimestampKey)\":".utf8)

    private static func encodeKeys(of row: SummarizedRow, cache: inout [Int: EncodedKeys]) -> EncodedKeys {
        var writer = JSONWriter()
        writer.appendRaw(Array("{\"\(SummarizedRow.tableKey)\":".utf8))
        writer.writeString(row.table)
        writer.appendRaw(Array(",\"\(SummarizedRow.stepKey)\":".utf8))
        let table = writer.bytes
        var keys = JSONWriter()
        var ends: [Int] = []
        ends.reserveCapacity(row.keys.count)
        for key in row.keys {
            keys.append(UInt8(ascii: ","))
            keys.writeString(key)
            keys.append(UInt8(ascii: ":"))
            ends.append(keys.bytes.count)
        }
        let encoded = EncodedKeys(tableName: row.table, table: table, keys: keys.bytes, ends: ends)
        // Schemas change only when a table's keys change; a small cache is plenty.
        if cache.count > 256 { cache.removeAll() }
        cache[row.schema.id] = encoded
        return encoded
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
