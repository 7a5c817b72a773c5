import Foundation
import NokoPlatform
import Logging

/// Rebuilds what `summary.json` would hold by reading a run's rows: for runs that have no
/// sidecar (Python noko's run directories, a run killed before its first flush).
///
/// The rows go through ``SummaryOutput`` itself, so a rebuilt summary has exactly the
/// shape and semantics of the sidecar. Reading is streamed: memory stays O(columns).
public enum SummaryRebuild {
    /// The summary JSON of every table in a journal.
    ///
    /// - Parameters:
    ///   - allowsNonFiniteLiterals: accept the bare `NaN`/`Infinity` of Python noko.
    ///   - fileStem: the file stem recorded for a table (default ``TableFileName/encode(_:)``).
    public static func fromJournal(
        _ path: String, allowsNonFiniteLiterals: Bool = false, fileStem: @escaping (String) -> String = TableFileName.encode,
        messages: Logging.Logger = NokoMessages.logger()
    ) throws -> String {
        let output = SummaryOutput(url: unwritableURL)
        var rows = 0
        let torn = try JournalScanner.forEachRow(in: path, allowsNonFiniteLiterals: allowsNonFiniteLiterals, fileStem: fileStem) { row in
            try output.write(row)
            rows += 1
            // Summarize as we go: memory stays O(columns), and the rows are still in cache.
            if rows % 256 == 0 { output.absorbPending() }
        }
        if torn > 0 {
            messages.warning("\(path): the last line is incomplete (\(torn) bytes: the writer died mid-line or is still writing it); skipped")
        }
        return output.currentJSON
    }

    /// The summary JSON of CSV tables, one file per table (noko's and Python noko's `<table>.csv`).
    ///
    /// The `$step` and `$utc_timestamp` columns give each row's step and time; without
    /// them a row's step is its index.
    public static func fromCSV(
        _ files: [(table: String, path: String)], messages: Logging.Logger = NokoMessages.logger()
    ) throws -> String {
        let output = SummaryOutput(url: unwritableURL)
        var builder = RowBuilder()
        for (table, path) in files {
            let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            try scanCSV(path, messages: messages) { index, members in
                try output.write(builder.row(table: table, fileStem: stem, members: members, fallbackStep: index))
                if index % 256 == 255 { output.absorbPending() }
            }
        }
        return output.currentJSON
    }

    /// Where the rebuilding ``SummaryOutput`` would write if it were ever flushed: a file in a
    /// directory that does not exist, so nothing can be written by mistake.
    static var unwritableURL: URL {
        URL(fileURLWithPath: "/nonexistent-noko-summary-rebuild-\(UInt64.random(in: 0...UInt64.max))/summary.json")
    }

    /// Calls `body` with each CSV record's (header key, value) pairs, empty cells left out.
    static func scanCSV(_ path: String, messages: Logging.Logger, _ body: (Int, [(String, Scalar)]) throws -> Void) throws {
        let file = try FileDescriptor.open(path, .read)
        defer { file.closeIgnoringErrors() }
        var scanner = CSVRecordScanner()
        var header: [String]?
        var index = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var members: [(String, Scalar)] = []
        while true {
            let n = try chunk.withUnsafeMutableBytes { try file.read(into: $0) }
            if n == 0 { break }
            try chunk.withUnsafeBytes { bytes in
                try scanner.feed(UnsafeRawBufferPointer(rebasing: bytes[0..<n])) { record in
                    guard let names = header else {
                        header = record.cells.indices.map(record.text)
                        return
                    }
                    if record.cells.count > names.count {
                        throw LogFileError(
                            path: path, line: record.firstLine,
                            message: "expected \(names.count) cells as in the header, found \(record.cells.count)")
                    }
                    members.removeAll(keepingCapacity: true)
                    record.bytes.withUnsafeBytes { raw in
                        let base = record.bytes.startIndex
                        for c in 0..<record.cells.count {
                            // Numbers are parsed in place; other cells by the CSV dialect's rules.
                            let lo = record.cells[c].lowerBound - base, hi = record.cells[c].upperBound - base
                            var value: Scalar
                            if hi > lo, raw[lo] == UInt8(ascii: "-") || (raw[lo] >= 0x30 && raw[lo] <= 0x39),
                                let (number, next) = DecimalNumber.parse(raw, from: lo, to: hi), next == hi
                            {
                                value = number
                            } else {
                                value = record.value(c)
                            }
                            if !value.isNull { members.append((names[c], value)) }
                        }
                    }
                    try body(index, members)
                    index += 1
                }
            }
        }
        let torn = scanner.finish { _ in }
        if torn > 0 {
            messages.warning("\(path): the last line is incomplete (\(torn) bytes: the writer died mid-line or is still writing it); skipped")
        }
    }
}

/// Turns (key, value) pairs read back from a file into rows, sharing one schema per table
/// while the keys stay the same (so ``SummaryOutput`` maps columns once per schema).
struct RowBuilder {
    private var schemas: [String: RowSchema] = [:]
    private var keys: [String] = []
    private var values: [Scalar] = []

    mutating func row(table: String, fileStem: String, members: [(String, Scalar)], fallbackStep: Int?) -> SummarizedRow {
        keys.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        var step = fallbackStep ?? 0
        var level = LogLevel.info
        // No `$utc_timestamp` (a CSV that is not noko's): no time, rather than 1970.
        var utc = Double.nan
        var local = ""
        for (key, value) in members {
            // Bookkeeping keys all start with "$"; checking that byte first spares every
            // other cell five string comparisons.
            guard key.utf8.first == UInt8(ascii: "$"), SummarizedRow.bookkeepingKeys.contains(key) else {
                keys.append(key)
                values.append(value)
                continue
            }
            switch (key, value) {
            case ("$step", .int(let v)): step = Int(v)
            case ("$step", .double(let v)): step = Int(exactly: v) ?? step
            case ("$level", .int(let v)): level = LogLevel.builtIn.first { $0.value == Int(v) } ?? LogLevel(Int(v), name: "LEVEL\(v)")
            case ("$utc_timestamp", let v): utc = v.doubleValue ?? utc
            case ("$localtime", .string(let s)): local = s
            default: break
            }
        }
        let schema: RowSchema
        if let known = schemas[table], known.keys == keys {
            schema = known
        } else {
            // A repeated key would break the schema's one-value-per-key rule; keep the last.
            if Set(keys).count != keys.count { dropRepeatedKeys() }
            schema = RowSchema(keys: keys)
            schemas[table] = schema
        }
        return SummarizedRow(
            table: table, step: step, level: level, time: RowTime(utcTimestamp: utc, localTime: local), schema: schema,
            values: values, fileStem: fileStem)
    }

    private mutating func dropRepeatedKeys() {
        var seen: [String: Int] = [:]
        var newKeys: [String] = []
        var newValues: [Scalar] = []
        for (key, value) in zip(keys, values) {
            if let at = seen[key] {
                newValues[at] = value
            } else {
                seen[key] = newKeys.count
                newKeys.append(key)
                newValues.append(value)
            }
        }
        keys = newKeys
        values = newValues
    }
}
