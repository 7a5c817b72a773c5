import Foundation
import Logging

/// Which outputs a run gets and at which levels: the defaults of `Noko.initialize` and
/// `Noko.initExtra`, matching Python noko.
public struct OutputOptions: Sendable {
    /// The journal `noko.ndjson` (always on: it is the source of truth).
    public var journalLevel: LogLevel = .trace
    /// `<table>.csv`; nil turns CSV off.
    public var csvLevel: LogLevel? = .trace
    /// `noko_pprint.log`; nil turns it off.
    public var prettyPrintLevel: LogLevel? = .results
    /// Human-readable rows on standard output; off by default.
    public var standardOutputLevel: LogLevel? = nil
    /// `summary.json`, the statistics of every table that `noko-run` reads; nil turns it off.
    public var statisticsLevel: LogLevel? = .trace

    /// The former name of ``statisticsLevel``.
    @available(*, deprecated, renamed: "statisticsLevel")
    public var summaryLevel: LogLevel? {
        get { statisticsLevel }
        set { statisticsLevel = newValue }
    }
    /// `events.out.tfevents.*`: TensorBoard scalars tagged `<table>/<key>`; nil turns it off.
    public var tensorBoardLevel: LogLevel? = .info
    /// `<table>.parquet`; off by default, on with `.trace` here or `NOKO_PARQUET=1`.
    public var parquetLevel: LogLevel? = nil
    /// Rows per Parquet row group while logging (``ParquetOutput/rowGroupRows``). Not public:
    /// the kill -9 harness (`scripts/torture`) needs row-group boundaries every few dozen rows.
    package var parquetRowGroupRows = 10_000
    /// Also write the run's config to TensorBoard's HParams dashboard (`initExtra`); off by
    /// default, as Python noko's `tb_log_hparams`.
    public var tensorBoardHyperparameters = false
    /// How often buffered views (CSV, TensorBoard, summary) reach the disk.
    public var flushInterval: Duration = .seconds(1)
    /// noko's own messages at this level and above go to stderr (all go to `debug.log`).
    public var stderrLevel: LogLevel = .warning

    /// The defaults.
    public init() {}
}

/// Builds the standard outputs of a run directory.
package enum DefaultOutputs {
    /// The outputs `options` asks for, writing into `directory`.
    package static func make(
        directory: URL, options: OutputOptions, messages: Logging.Logger,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> [any LogOutput] {
        var outputs: [any LogOutput] = [
            try NDJSONOutput(url: RunLayout(directory).journal, level: options.journalLevel)
        ]
        if let level = options.csvLevel {
            outputs.append(CSVOutput(directory: directory, level: level, messages: messages))
        }
        if let level = options.prettyPrintLevel {
            outputs.append(try PrettyPrintOutput(url: RunLayout(directory).prettyPrint, level: level))
        }
        if let level = options.standardOutputLevel {
            outputs.append(PrettyPrintOutput(standardOutputAt: level))
        }
        if let level = options.statisticsLevel {
            outputs.append(StatisticsOutput(url: RunLayout(directory).summary, level: level))
        }
        if let level = options.parquetLevel ?? (ParquetOutput.isEnabled(environment: environment) ? .trace : nil) {
            outputs.append(ParquetOutput(directory: directory, level: level, rowGroupRows: options.parquetRowGroupRows, messages: messages))
        }
        if let level = options.tensorBoardLevel {
            outputs.append(try TensorBoardOutput(directory: directory, level: level, messages: messages))
        }
        return outputs
    }
}
