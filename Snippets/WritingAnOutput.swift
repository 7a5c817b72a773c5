// An output of your own: counts rows per table and prints the count at each flush.
import Noko
import Synchronization

final class RowCounter: LogOutput {
    let name = "row-counter"
    let level = LogLevel.info
    private let counts = Mutex<[String: Int]>([:])

    // Called under the logger's lock, in row order: keep it short.
    func write(_ row: SummarizedRow) throws {
        counts.withLock { $0[row.table, default: 0] += 1 }
    }

    // Called every flush interval from the logger's background thread, and at close.
    func flush() throws {
        let snapshot = counts.withLock { $0 }
        for (table, count) in snapshot.sorted(by: { $0.key < $1.key }) {
            print("\(table): \(count) rows")
        }
    }
}

let logger = NokoLogger(outputs: [RowCounter()], flushInterval: .seconds(1))
for step in 0..<10 {
    logger.logRow("train", ["loss": 1.0 / Double(step + 1)])
}
logger.close()
