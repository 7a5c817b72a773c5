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
        var numbers: [(key: String, value: Double)] = []
        if let journal = run.journalPath {
            do {
                try JournalScan.forEachRecord(journal, allowsNonFiniteLiterals: run.source == .pythonNoko, messages: messages) {
                    record in
                    if let tables, !tables.contains(record.table) { return true }
                    var step: Double?
                    numbers.removeAll(keepingCapacity: true)
                    for (key, value) in record.members {
                        if key.utf8.first == UInt8(ascii: "$") {
                            if key == "$step" { step = value.doubleValue }
                        } else if let number = value.doubleValue {
                            numbers.append((key, number))
                        }
                    }
                    let table = record.table
                    if accumulators[table] == nil { accumulators[table] = RowSeriesAccumulator(smoothing: smoothing) }
                    let index = Double(accumulators[table]!.rows)
                    accumulators[table]!.addRow(step: step ?? index, values: numbers)
                    return true
                }
            } catch let error as LogFileError {
                throw CLIError(error.description)
            }
        } else {
            for (table, url) in run.csvTables() where tables?.contains(table) ?? true {
                let rows: LogTable
                do {
                    rows = try LogFileLoader.load(url.path, messages: messages)
                } catch let error as LogFileError {
                    throw CLIError(error.description)
                }
                var accumulator = RowSeriesAccumulator(smoothing: smoothing)
                let keys = rows.columnNames.filter { !$0.hasPrefix("$") }
                let steps = rows["$step"]
                for i in 0..<rows.rowCount {
                    numbers.removeAll(keepingCapacity: true)
                    for key in keys {
                        if let number = rows[key]![i].doubleValue { numbers.append((key, number)) }
                    }
                    accumulator.addRow(step: steps?[i].doubleValue ?? Double(i), values: numbers)
                }
                accumulators[table] = accumulator
            }
        }
        return accumulators.mapValues(\.table)
    }
}
