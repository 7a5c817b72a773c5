import Foundation
import Logging
import NokoCore

/// The `system` table's series against wall-clock time: x is seconds since the run
/// started, so samples of runs with different intervals, or of a resumed run, line up.
///
/// Its rows are read whole (one per sample: small) from the table's CSV file, else from
/// the journal.
enum SystemSeriesReader {
    static let xTitle = "seconds since start"

    /// The run's system table, nil when it cannot be read (the chart then keeps its steps).
    static func series(of run: LoadedRun, fileStem: String, smoothing: Int?, messages: Logging.Logger) -> TableSeries? {
        let csv = run.layout.csv(stem: fileStem).path
        let rows: LogTable
        do {
            if FileManager.default.fileExists(atPath: csv) {
                rows = try LogFileLoader.load(csv, messages: messages)
            } else if let journal = run.journalPath {
                rows = try LogFileLoader.loadTable(SystemTable.name, fromJournal: journal, messages: messages)
            } else {
                return nil
            }
        } catch {
            messages.warning("\(run.name): the system table cannot be read against time (\(error)); drawn against its steps")
            return nil
        }
        guard let times = rows[SummarizedRow.utcTimestampKey], rows.rowCount > 0 else { return nil }
        let origin = run.metadata?.startTime ?? times.lazy.compactMap(\.doubleValue).first ?? 0
        var accumulator = RowSeriesAccumulator(smoothing: smoothing)
        let keys = rows.columnNames.filter { !$0.hasPrefix("$") }
        let columns = keys.map { accumulator.column($0) }
        var numbers: [(column: Int, value: Double)] = []
        for i in 0..<rows.rowCount {
            guard let time = times[i].doubleValue else { continue }
            numbers.removeAll(keepingCapacity: true)
            for (key, column) in zip(keys, columns) {
                if let number = rows[key]![i].doubleValue { numbers.append((column, number)) }
            }
            accumulator.addRow(step: time - origin, columnValues: numbers)
        }
        return accumulator.table
    }
}
