/// A destination for rows: the journal, a CSV file per table, TensorBoard, your own.
///
/// This is noko's extension point, in the spirit of swift-log's `LogHandler`. A logger owns
/// a list of outputs and hands each accepted row to every output whose ``level`` admits it.
///
/// The contract:
/// - ``write(_:)`` is called under the logger's lock, so every output sees rows in one order
///   and calls never overlap for one logger. Keep it short: format into a buffer, or keep
///   the row (it is immutable and cheap to retain) and do the work in ``flush()``.
/// - ``flush()`` is called from the logger's background flusher every flush interval
///   (default 1 s), and from `NokoLogger.flush()`; it may run concurrently with
///   ``write(_:)``, so guard shared state with a lock. After `flush()` returns, every row
///   written before it must be in the OS (a view may trail the journal by one interval).
/// - ``close()`` flushes, `fsync`s and releases files. It is called once; rows after it
///   are not delivered.
/// - Errors thrown by any method are reported by the logger as warnings naming the output;
///   logging goes on.
public protocol LogOutput: AnyObject, Sendable {
    /// A short name for messages, like `"csv"` or `"ndjson"`.
    var name: String { get }
    /// The lowest level this output receives.
    var level: LogLevel { get }
    /// Receives one row.
    func write(_ row: SummarizedRow) throws
    /// Writes buffered rows through to the OS.
    func flush() throws
    /// Flushes, syncs to disk and releases resources.
    func close() throws
    /// Writes out everything buffered, without the pacing `flush()` may apply (spaced CSV
    /// rewrites, a throttled summary), and keeps the output open: for a process about to be
    /// ended by a signal.
    func flushCompletely() throws
}

extension LogOutput {
    public func flush() throws {}
    public func close() throws { try flush() }
    public func flushCompletely() throws { try flush() }
}

/// An output whose files are views of the journal, which `noko-run export` can rebuild (CSV,
/// `summary.json`, TensorBoard, Parquet).
///
/// The logger hands a view only the rows the journal kept: a row the journal could not write
/// (a full disk) goes to no view either, so a view never holds a row the journal lacks, and the
/// journal stays the source of truth. A view whose file cannot be written keeps its rows in
/// memory, up to a bound, and writes them at the next flush that succeeds.
///
/// A `kill -9` leaves a view short: it holds rows for a flush interval or a row group before
/// they reach its files, and those rows die with the process. A resumed run writes into it,
/// from the journal, the rows its files lack (``JournalReplay``); without that, every crash
/// would leave a hole in the view for good.
package protocol JournalView: LogOutput {
    /// Rows this view will never write, per file name in the run directory (`train.csv`):
    /// rows it could not keep while its file could not be written (beyond its memory bound,
    /// or still waiting when it was closed). The journal has every one of them.
    var rowsLost: [String: Int] { get }

    /// Decides, for each of the journal's rows at this output's level in journal order,
    /// whether the output's files lack it. Called once, before the output has written
    /// anything: its files hold a prefix of the rows it was given, in order.
    func rowsMissingFromFiles() throws -> (SummarizedRow) throws -> Bool
}
