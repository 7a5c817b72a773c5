import Foundation
import NokoPlatform
import Logging

/// Why a log file could not be read.
public struct LogFileError: Error, Sendable, CustomStringConvertible {
    /// The file.
    public let path: String
    /// The 1-based line, when the problem is on one line.
    public let line: Int?
    /// What was expected and what was found.
    public let message: String

    /// An error about `path` (at `line`, when one line is at fault).
    public init(path: String, line: Int? = nil, message: String) {
        self.path = path
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(path):\(line): \(message)" }
        return "\(path): \(message)"
    }
}

/// Reads noko's log files back into tables.
package enum LogFileLoader {
    /// Reads a `.ndjson` journal, a `.csv` table or a `.parquet` table.
    ///
    /// - Parameters:
    ///   - keys: the columns to keep (all when nil); for a journal, as `table.key`.
    ///   - allowsNonFiniteLiterals: for a journal, accept the bare `NaN`/`Infinity` of Python noko.
    ///   - messages: where warnings (a torn last line) go.
    package static func load(
        _ path: String, keys: [String]? = nil, allowsNonFiniteLiterals: Bool = false, messages: Logging.Logger = NokoMessages.logger()
    ) throws -> LogTable {
        let wanted = keys.map(Set.init)
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "ndjson", "jsonl", "json":
            return try loadJournal(path, keys: wanted, allowsNonFiniteLiterals: allowsNonFiniteLiterals, messages: messages)
        case "csv": return try loadCSV(path, keys: wanted, messages: messages)
        case "parquet":
            do {
                return try ParquetReader.readTable(at: URL(fileURLWithPath: path), columns: keys)
            } catch let error as ParquetError {
                throw LogFileError(path: path, message: error.message)
            }
        default:
            throw LogFileError(path: path, message: "unknown log file type; expected .ndjson, .csv or .parquet")
        }
    }

    /// Reads every row of a journal into one table whose columns are `table.key` (and
    /// `table.$step`, `table.$level`, `table.$localtime`, `table.$utc_timestamp`), plus
    /// `$table`; rows stay aligned with the journal's lines, as Python noko loads them.
    static func loadJournal(_ path: String, keys: Set<String>?, allowsNonFiniteLiterals: Bool = false, messages: Logging.Logger) throws -> LogTable {
        var builder = ColumnBuilder(keys: keys)
        try JournalScanner.forEachRecord(path, allowsNonFiniteLiterals: allowsNonFiniteLiterals, messages: messages) { record in
            builder.beginRow()
            builder.set(SummarizedRow.tableKey, .string(record.table))
            for (key, value) in record.members where key != SummarizedRow.tableKey {
                builder.set(record.table + "." + key, value)
            }
            builder.endRow()
            return true
        }
        return builder.table
    }

    /// Reads one table's rows from a journal, with plain keys (and the `$` columns).
    ///
    /// `allowsNonFiniteLiterals` accepts the bare `NaN`/`Infinity` of Python noko's journals.
    package static func loadTable(
        _ table: String, fromJournal path: String, allowsNonFiniteLiterals: Bool = false,
        messages: Logging.Logger = NokoMessages.logger()
    ) throws -> LogTable {
        var builder = ColumnBuilder(keys: nil)
        try JournalScanner.forEachRecord(path, allowsNonFiniteLiterals: allowsNonFiniteLiterals, messages: messages) { record in
            guard record.table == table else { return true }
            builder.beginRow()
            for (key, value) in record.members { builder.set(key, value) }
            builder.endRow()
            return true
        }
        return builder.table
    }

    static func loadCSV(_ path: String, keys: Set<String>?, messages: Logging.Logger) throws -> LogTable {
        var header: [String]?
        var keep: [Bool] = []
        var columns: [[Scalar]] = []
        var problem: LogFileError?
        let torn = try CSVRecordScanner.forEachRecord(inFile: path) { record in
            guard let header else {
                let names = record.cells.indices.map(record.text)
                header = names
                keep = names.map { keys?.contains($0) ?? true }
                columns = Array(repeating: [], count: names.count)
                return true
            }
            if record.cells.count > header.count {
                problem = LogFileError(
                    path: path, line: record.firstLine,
                    message: "expected \(header.count) cells as in the header, found \(record.cells.count)")
                return false
            }
            for c in 0..<header.count where keep[c] {
                columns[c].append(c < record.cells.count ? record.value(c) : .null)
            }
            return true
        }
        if let problem { throw problem }
        messages.warnTornLine(path: path, bytes: torn)
        guard let header else { return LogTable() }
        return LogTable(columns: header.indices.filter { keep[$0] }.map { (header[$0], columns[$0]) })
    }
}

/// Builds row-aligned columns cheaply: a row's missing cells are filled in when the row ends.
struct ColumnBuilder {
    private let keys: Set<String>?
    private var names: [String] = []
    private var index: [String: Int] = [:]
    private var columns: [[Scalar]] = []
    private var rows = 0

    init(keys: Set<String>?) {
        self.keys = keys
    }

    mutating func beginRow() {}

    mutating func set(_ key: String, _ value: Scalar) {
        if let keys, !keys.contains(key) { return }
        let c: Int
        if let existing = index[key] {
            c = existing
        } else {
            c = columns.count
            index[key] = c
            names.append(key)
            columns.append(Array(repeating: .null, count: rows))
        }
        // A repeated key in one row keeps the last value.
        if columns[c].count == rows + 1 {
            columns[c][rows] = value
        } else {
            columns[c].append(value)
        }
    }

    mutating func endRow() {
        rows += 1
        for c in columns.indices where columns[c].count < rows { columns[c].append(.null) }
    }

    var table: LogTable {
        LogTable(columns: zip(names, columns).map { ($0, $1) })
    }
}

/// One journal line, parsed.
package struct JournalRecord: Sendable {
    /// The row's table (`$table`).
    package var table: String
    /// Every member of the line in file order, `$` keys included, as scalars (the strings
    /// `"NaN"`, `"Infinity"`, `"-Infinity"` read back as doubles).
    package var members: [(String, Scalar)]
    /// Byte offset of the line's start in the file.
    package var offset: UInt64
    /// Byte offset just past the line's newline.
    package var endOffset: UInt64
    /// 1-based line number.
    package var line: Int

    /// The value of a member, or nil.
    package subscript(key: String) -> Scalar? { members.first { $0.0 == key }?.1 }

    /// The row's step (`$step`), or nil.
    package var step: Int? { if case .int(let v)? = self[SummarizedRow.stepKey] { return Int(v) } else { return nil } }
}
