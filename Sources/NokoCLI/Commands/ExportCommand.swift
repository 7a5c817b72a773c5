import ArgumentParser
import Foundation
import Logging
import NokoCore
import NokoPlatform

/// `noko-run export RUN --table T --format csv|ndjson|parquet`: one table, from any of the
/// run's files.
package struct ExportCommand: NokoCommand {
    package static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write one table as CSV, NDJSON or Parquet, rebuilt from the journal (or read from its CSV or Parquet file).",
        discussion: """
            By default the rows come from the journal (noko.ndjson), which holds every row \
            logged: a <table>.csv that trails after kill -9 is regenerated complete (write it back \
            with -o RUN/<table>.csv). --from csv or --from parquet reads that file instead; a \
            Python noko run's journal (bare NaN) is read too. The bookkeeping columns ($step, \
            $level, $localtime, $utc_timestamp, $table) are always kept; --columns filters the \
            others. CSV and NDJSON are noko's own dialects (columns sorted, $ columns first, as \
            in <table>.csv; NaN as nan in CSV and "NaN" in NDJSON).

            EXAMPLES
              noko-run export RUN --table epoch --format csv > epoch.csv
              noko-run export RUN --table grad_step --format ndjson --columns 'loss,weights.*'
              noko-run export RUN --table grad_step --format parquet -o grad_step.parquet
              noko-run export RUN --table epoch --format csv -o RUN/epoch.csv    repair a trailing CSV
            """
    )

    /// The output formats.
    package enum Format: String, ExpressibleByArgument, CaseIterable, Sendable {
        case csv, ndjson, parquet
    }

    /// Where rows are read from.
    package enum Source: String, ExpressibleByArgument, CaseIterable, Sendable {
        case auto, journal, csv, parquet
    }

    @Argument(help: ArgumentHelp("The run directory: a path, or a name under ./runs.", valueName: "run"))
    package var runPath: String

    @Option(name: .long, help: "The table to export.")
    package var table: String

    @Option(name: .long, help: "csv, ndjson or parquet.")
    package var format: Format

    @Option(name: .long, help: ArgumentHelp("Only columns matching these shell patterns, comma-separated.", valueName: "glob"))
    package var columns: String?

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
    package var output: String?

    @Option(name: .customLong("from"), help: "Read rows from: auto (the journal if present), journal, csv or parquet.")
    package var source: Source = .auto

    package init() {}

    package func validate() throws {
        if format == .parquet && output == nil { throw ValidationError("--format parquet needs -o FILE (Parquet is not written to a pipe)") }
    }

    package func run(in context: CommandContext) throws {
        let run = try RunLocator.open(runPath, in: context)
        let messages = CLIMessages.logger(context)
        var loaded = try load(run, messages: messages)
        if loaded.columnNames.isEmpty {
            throw CLIError("\(run.url.path): no rows of table \"\(table)\"\(knownTables(run, messages: messages))")
        }
        loaded = selected(loaded)
        let names = loaded.columnNames.sorted()
        switch format {
        case .parquet:
            let url = context.url(forPath: output!)
            do {
                try ParquetExport.write(table: loaded, name: table, to: url, messages: messages)
            } catch {
                throw CLIError("\(url.path): cannot write Parquet: \(error)")
            }
            context.note("wrote \(DisplayFormat.count(loaded.rowCount)) rows of \(table) to \(output!)")
        case .csv, .ndjson:
            if let output {
                let url = context.url(forPath: output)
                try AtomicFile.write(to: url.path) { file in
                    try emit(loaded, names: names) { try file.writeAll($0) }
                }
                context.note("wrote \(DisplayFormat.count(loaded.rowCount)) rows of \(table) to \(output)")
            } else {
                try emit(loaded, names: names) { context.write(bytes: $0) }
            }
        }
    }

    private func emit(_ loaded: LogTable, names: [String], _ chunk: ([UInt8]) throws -> Void) throws {
        if format == .csv {
            try LogTableWriter.writeCSV(loaded, columns: names, chunk)
        } else {
            try LogTableWriter.writeNDJSON(loaded, columns: names, chunk)
        }
    }

    /// The table's rows from the chosen file.
    func load(_ run: LoadedRun, messages: Logging.Logger) throws -> LogTable {
        let stem = fileStem(run)
        let csv = run.layout.csv(stem: stem)
        let parquet = run.layout.parquet(stem: stem)
        var source = self.source
        if source == .auto {
            if run.journalPath != nil {
                source = .journal
            } else if FileSystem.exists(csv.path) {
                source = .csv
            } else if FileSystem.exists(parquet.path) {
                source = .parquet
            } else {
                throw CLIError(
                    "\(run.url.path): no \(RunLayout.journalName), \(csv.lastPathComponent) or \(parquet.lastPathComponent) to read table \"\(table)\" from")
            }
        }
        do {
            switch source {
            case .journal, .auto:
                guard let journal = run.journalPath else {
                    throw CLIError("\(run.layout.journal.path): missing; try --from csv")
                }
                return try LogFileLoader.loadTable(
                    table, fromJournal: journal, allowsNonFiniteLiterals: run.source == .pythonNoko, messages: messages)
            case .csv:
                guard FileSystem.exists(csv.path) else { throw CLIError("\(csv.path): missing") }
                return try LogFileLoader.load(csv.path, messages: messages)
            case .parquet:
                guard FileSystem.exists(parquet.path) else { throw CLIError("\(parquet.path): missing") }
                return try LogFileLoader.load(parquet.path, messages: messages)
            }
        } catch let error as LogFileError {
            throw CLIError("\(error)")
        }
    }

    /// The table's file stem: `summary.json`'s record, else noko's encoding (Python noko
    /// uses the table name as it is).
    func fileStem(_ run: LoadedRun) -> String {
        if run.source == .noko, let statistics = try? RunStatistics.read(from: run.url), let found = statistics.table(table) {
            return found.fileStem
        }
        return run.source == .pythonNoko ? table : TableFileName.encode(table)
    }

    func knownTables(_ run: LoadedRun, messages: Logging.Logger) -> String {
        guard let summary = try? run.loadSummary(messages: messages).summary else { return "" }
        let names = summary.tables.map { "\"\($0.name)\"" }
        return names.isEmpty ? "; the run has no tables" : "; the run has \(names.joined(separator: ", "))"
    }

    /// The columns `--columns` keeps, plus the `$` bookkeeping columns.
    func selected(_ loaded: LogTable) -> LogTable {
        guard let columns else { return loaded }
        let glob = Glob(columns)
        let keep = loaded.columnNames.filter { $0.hasPrefix("$") || glob.matches($0) }
        return LogTable(columns: keep.map { ($0, loaded[$0]!) })
    }
}
