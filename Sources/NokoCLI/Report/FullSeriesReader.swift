import Foundation
import Logging
import NokoCore

/// Reads every row of a run's tables (`report --full`) into chart series, streaming the
/// journal (or, for runs without one, the `<table>.csv` files) so memory stays
/// O(columns × buckets) for any number of rows.
enum FullSeriesReader {
    /// The series of the run's tables named in `tables` (all when nil).
    static func series(
        of run: LoadedRun, tables: Set<String>?, smoothing: Int?, messages: Logging.Logger
    ) throws -> [String: TableSeries] {
        var accumulators: [String: RowSeriesAccumulator] = [:]
        var reader = JournalRowReader(smoothing: smoothing)
        if let journal = run.journalPath {
            do {
                try JournalScan.forEachRecord(journal, allowsNonFiniteLiterals: run.source == .pythonNoko, messages: messages) {
                    record in
                    if let tables, !tables.contains(record.table) { return true }
                    reader.add(record)
                    return true
                }
            } catch let error as LogFileError {
                throw CLIError("\(error)")
            }
            accumulators = reader.finished
        } else {
            for (table, url) in run.csvTables() where tables?.contains(table) ?? true {
                let rows: LogTable
                do {
                    rows = try LogFileLoader.load(url.path, messages: messages)
                } catch let error as LogFileError {
                    throw CLIError("\(error)")
                }
                var accumulator = RowSeriesAccumulator(smoothing: smoothing)
                let keys = rows.columnNames.filter { !$0.hasPrefix("$") }
                let columns = keys.map { accumulator.column($0) }
                let steps = rows["$step"]
                var numbers: [(column: Int, value: Double)] = []
                for i in 0..<rows.rowCount {
                    numbers.removeAll(keepingCapacity: true)
                    for (key, column) in zip(keys, columns) {
                        if let number = rows[key]![i].doubleValue { numbers.append((column, number)) }
                    }
                    accumulator.addRow(step: steps?[i].doubleValue ?? Double(i), columnValues: numbers)
                }
                accumulators[table] = accumulator
            }
        }
        return accumulators.mapValues(\.table)
    }
}

/// Feeds journal records to one accumulator per table. Rows of a table usually repeat the
/// keys of the row before, so their column numbers are remembered per table and reused while
/// the keys stay the same: a string comparison per value instead of a hash lookup. Rows of one
/// table usually follow each other too, so the current table is held outside the dictionary.
private struct JournalRowReader {
    private struct TableState {
        var accumulator: RowSeriesAccumulator
        var lastKeys: [String] = []
        var lastColumns: [Int] = []
    }

    let smoothing: Int?
    private var tables: [String: TableState] = [:]
    private var currentName = ""
    private var current: TableState?
    private var keys: [String] = []
    private var numbers: [(column: Int, value: Double)] = []

    init(smoothing: Int?) {
        self.smoothing = smoothing
    }

    mutating func add(_ record: JournalRecord) {
        if current == nil || record.table != currentName {
            if let current { tables[currentName] = current }
            currentName = record.table
            current = tables.removeValue(forKey: record.table) ?? TableState(accumulator: RowSeriesAccumulator(smoothing: smoothing))
        }
        var step: Double?
        keys.removeAll(keepingCapacity: true)
        numbers.removeAll(keepingCapacity: true)
        for (key, value) in record.members {
            if key.utf8.first == UInt8(ascii: "$") {
                if key == "$step" { step = value.doubleValue }
            } else if let number = value.doubleValue {
                keys.append(key)
                numbers.append((0, number))
            }
        }
        if keys != current!.lastKeys {
            current!.lastColumns = keys.map { current!.accumulator.column($0) }
            current!.lastKeys = keys
        }
        for i in numbers.indices { numbers[i].column = current!.lastColumns[i] }
        current!.accumulator.addRow(step: step ?? Double(current!.accumulator.rows), columnValues: numbers)
    }

    /// Every table's accumulator (once the last record is in).
    var finished: [String: RowSeriesAccumulator] {
        var all = tables.mapValues(\.accumulator)
        if let current { all[currentName] = current.accumulator }
        return all
    }
}
