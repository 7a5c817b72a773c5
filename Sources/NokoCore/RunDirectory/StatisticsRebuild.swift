import Foundation
import NokoPlatform
import Logging

/// Rebuilds what `summary.json` would hold by reading a run's rows: for runs that have no
/// such file (Python noko's run directories, a run killed before its first flush).
///
/// The rows go through the same ``StatisticsAccumulator`` as ``StatisticsOutput``'s, so rebuilt
/// statistics have exactly the file's shape and semantics. Reading is streamed: memory stays
/// O(columns).
package enum StatisticsRebuild {
    /// The statistics of every table in a journal.
    ///
    /// - Parameters:
    ///   - allowsNonFiniteLiterals: accept the bare `NaN`/`Infinity` of Python noko.
    ///   - fileStem: the file stem recorded for a table (default ``TableFileName/encode(_:)``).
    package static func fromJournal(
        _ path: String, allowsNonFiniteLiterals: Bool = false, fileStem: @escaping (String) -> String = TableFileName.encode,
        messages: Logging.Logger = NokoMessages.logger()
    ) throws -> RunStatistics {
        var statistics = StatisticsAccumulator()
        let torn = try JournalScanner.forEachRow(in: path, allowsNonFiniteLiterals: allowsNonFiniteLiterals, fileStem: fileStem) {
            statistics.add($0)
        }
        messages.warnTornLine(path: path, bytes: torn)
        return statistics.statistics
    }

    /// The statistics of CSV tables, one file per table (noko's and Python noko's `<table>.csv`).
    ///
    /// The `$step` and `$utc_timestamp` columns give each row's step and time; without
    /// them a row's step is its index.
    package static func fromCSV(
        _ files: [(table: String, path: String)], messages: Logging.Logger = NokoMessages.logger()
    ) throws -> RunStatistics {
        var statistics = StatisticsAccumulator()
        var builder = RowBuilder()
        for (table, path) in files {
            let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            try scanCSV(path, messages: messages) { index, members in
                statistics.add(builder.row(table: table, fileStem: stem, members: members, fallbackStep: index))
            }
        }
        return statistics.statistics
    }

    /// Calls `body` with each CSV record's (header key, value) pairs, empty cells left out.
    static func scanCSV(_ path: String, messages: Logging.Logger, _ body: (Int, [(String, Scalar)]) throws -> Void) throws {
        var header: [String]?
        var index = 0
        var members: [(String, Scalar)] = []
        let torn = try CSVRecordScanner.forEachRecord(inFile: path) { record in
            guard let names = header else {
                header = record.cells.indices.map(record.text)
                return true
            }
            if record.cells.count > names.count {
                throw LogFileError(
                    path: path, line: record.firstLine,
                    message: "expected \(names.count) cells as in the header, found \(record.cells.count)")
            }
            members.removeAll(keepingCapacity: true)
            for c in 0..<record.cells.count {
                let value = record.value(c)
                if !value.isNull { members.append((names[c], value)) }
            }
            try body(index, members)
            index += 1
            return true
        }
        messages.warnTornLine(path: path, bytes: torn)
    }
}

/// Turns (key, value) pairs read back from a file into rows, sharing one schema per table
/// while the keys stay the same (so ``StatisticsOutput`` maps columns once per schema).
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
            case (SummarizedRow.stepKey, .int(let v)): step = Int(v)
            case (SummarizedRow.stepKey, .double(let v)): step = Int(exactly: v) ?? step
            case (SummarizedRow.levelKey, .int(let v)): level = LogLevel.builtIn.first { $0.value == Int(v) } ?? LogLevel(Int(v), name: "LEVEL\(v)")
            case (SummarizedRow.utcTimestampKey, let v): utc = v.doubleValue ?? utc
            case (SummarizedRow.localTimeKey, .string(let s)): local = s
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
