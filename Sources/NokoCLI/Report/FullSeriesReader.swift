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
                let torn = try JournalScanner.forEachRow(in: journal, allowsNonFiniteLiterals: run.source == .pythonNoko, fileStem: { $0 }) {
                    row in
                    if let tables, !tables.contains(row.table) { return }
                    reader.add(row)
                }
                messages.warnTornLine(path: journal, bytes: torn)
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
                let steps = rows[SummarizedRow.stepKey]
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

/// Feeds journal rows to one accumulator per table. A table's rows share a schema while
/// their keys stay the same (the scanner reuses it), so the columns of a schema's keys are
/// found once per schema, not per value. Rows of one table usually follow each other too, so
/// the current table is held outside the dictionary.
private struct JournalRowReader {
    private struct TableState {
        var accumulator: RowSeriesAccumulator
        var schema: RowSchema?
        /// The accumulator's column of each key of `schema`, made at its first number.
        var columns: [Int?] = []
    }

    let smoothing: Int?
    private var tables: [String: TableState] = [:]
    private var currentName = ""
    private var current: TableState?
    private var numbers: [(column: Int, value: Double)] = []

    init(smoothing: Int?) {
        self.smoothing = smoothing
    }

    mutating func add(_ row: SummarizedRow) {
        if current == nil || row.table != currentName {
            if let current { tables[currentName] = current }
            currentName = row.table
            current = tables.removeValue(forKey: row.table) ?? TableState(accumulator: RowSeriesAccumulator(smoothing: smoothing))
        }
        if current!.schema !== row.schema {
            current!.schema = row.schema
            current!.columns = Array(repeating: nil, count: row.schema.keys.count)
        }
        numbers.removeAll(keepingCapacity: true)
        for (i, value) in row.values.enumerated() {
            guard let number = value.doubleValue else { continue }
            let column = current!.columns[i] ?? current!.accumulator.column(row.schema.keys[i])
            current!.columns[i] = column
            numbers.append((column, number))
        }
        current!.accumulator.addRow(step: Double(row.step), columnValues: numbers)
    }

    /// Every table's accumulator (once the last row is in).
    var finished: [String: RowSeriesAccumulator] {
        var all = tables.mapValues(\.accumulator)
        if let current { all[currentName] = current.accumulator }
        return all
    }
}
