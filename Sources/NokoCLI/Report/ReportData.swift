import Foundation
import Logging
import NokoCore

/// The runs of a report with their charts: everything the page shows, before it becomes HTML.
struct ReportData: Sendable {
    /// One table's charts, grouped by key prefix.
    struct TableCharts: Sendable {
        let name: String
        /// Rows per run (nil where the run lacks the table).
        let rows: [Int?]
        let groups: [(name: String, figures: [ChartFigure])]
        /// For a table with at most one row in every run (a chart of one point says nothing):
        /// its values by key, one per run (nil where the run lacks it); `groups` is empty then.
        let values: [(key: String, cells: [String?])]
    }

    let runs: [LoadedRun]
    /// The groups drawn as curves (`--group-by`, `--over`); nil for a report of runs.
    let groups: RunGroups?
    let tables: [TableCharts]
    /// Each run's summary (nil with `--full`, which reads rows instead): the header's start
    /// time for runs without metadata comes from it.
    let summaries: [RunStatistics?]
    /// Where each run's series came from (`summary.json`, `noko.ndjson`, `csv`, `none`).
    let sources: [LoadedRun.SummarySource]
    /// Problems met on the way (also printed to standard error).
    let warnings: [String]
    /// Facts about how the charts were made that the reader should know.
    let notes: [String]

    /// Reads the runs' series and draws one chart per selected numeric column.
    ///
    /// Throws when a run cannot be read at all, or when the request selects nothing (a table
    /// no run has, a pattern no column matches, a group key no run has): a report without
    /// charts is almost always a typo, and an empty page would hide it.
    init(runs: [LoadedRun], request: ReportRequest, messages: Logging.Logger) throws {
        var warnings: [String] = []
        var notes: [String] = []
        let groups = try request.grouping.map { try RunGroups(runs: runs, grouping: $0, warn: { warnings.append($0) }) }
        var perRun: [[String: TableSeries]] = []
        var sources: [LoadedRun.SummarySource] = []
        var summaries: [RunStatistics?] = []
        let wantedTables = request.tables.map(Set.init)
        for run in runs {
            if request.full {
                perRun.append(try FullSeriesReader.series(of: run, tables: wantedTables, smoothing: request.smoothing, messages: messages))
                summaries.append(nil)
                sources.append(run.journalPath != nil ? .journal : .csv)
            } else {
                let (summary, source) = try run.loadSummary(messages: messages)
                let tables = Self.summarySeries(
                    run: run, summary: summary, source: source, request: request, messages: messages, warnings: &warnings,
                    notes: &notes)
                perRun.append(tables)
                summaries.append(summary)
                sources.append(source)
            }
        }
        // noko's own samples are drawn against time, not their step.
        for i in runs.indices where runs[i].source == .noko && perRun[i][SystemTable.name] != nil {
            let stem = summaries[i]?.table(SystemTable.name)?.fileStem ?? SystemTable.name
            if let series = SystemSeriesReader.series(of: runs[i], fileStem: stem, smoothing: request.smoothing, messages: messages) {
                perRun[i][SystemTable.name] = series
            }
        }
        let present = Set(perRun.flatMap(\.keys))
        if let wanted = request.tables {
            let missing = wanted.filter { !present.contains($0) }
            if missing.count == wanted.count {
                throw CLIError("no run has the table\(wanted.count == 1 ? "" : "s") \(wanted.map { "\"\($0)\"" }.joined(separator: ", "))")
            }
            for table in missing { warnings.append("no run has the table \"\(table)\"; left out") }
        }
        var tables: [TableCharts] = []
        var charted = 0
        for name in present.sorted() {
            let rows = perRun.map { $0[name]?.rows }
            if rows.allSatisfy({ ($0 ?? 0) <= 1 }) {
                let values = Self.singleRowValues(table: name, perRun: perRun, summaries: summaries, request: request)
                charted += values.count
                if values.isEmpty && request.columns != nil { continue }
                tables.append(TableCharts(name: name, rows: rows, groups: [], values: values))
                continue
            }
            let keys = Set(perRun.flatMap { $0[name]?.columns.keys.map { $0 } ?? [] })
                .filter { request.selects(table: name, key: $0) }
            let groups = ColumnGroups.group(Array(keys)).map { group in
                (name: group.name, figures: group.keys.map { key in
                    ChartFigure(
                        table: name, key: key,
                        columns: runs.indices.compactMap { i in
                            perRun[i][name].flatMap { table in
                                table.columns[key].map {
                                    ChartFigure.RunColumn(
                                        run: i, name: runs[i].name, series: $0, firstStep: table.firstStep, rows: table.rows,
                                        rowsPerBucket: table.rowsPerBucket)
                                }
                            }
                        },
                        smoothed: request.smoothing != nil,
                        xTitle: name == SystemTable.name ? SystemSeriesReader.xTitle : "step",
                        groups: groups?.groups ?? [])
                })
            }
            charted += keys.count
            if keys.isEmpty && request.columns != nil { continue }
            tables.append(TableCharts(name: name, rows: rows, groups: groups, values: []))
        }
        if let columns = request.columns, charted == 0 {
            throw CLIError(
                "--columns '\(columns.patterns.joined(separator: ","))' matches no numeric column of the selected tables")
        }
        self.runs = runs
        self.groups = groups
        // Charts first; tables of single values (a config logged as a row…) after them.
        self.tables = tables.filter(\.values.isEmpty) + tables.filter { !$0.values.isEmpty }
        self.sources = sources
        self.summaries = summaries
        self.warnings = warnings
        self.notes = notes
    }

    /// The selected values of a table that has at most one row per run: every column from the
    /// summary when there is one (strings too), else the numeric ones read from the rows.
    private static func singleRowValues(
        table: String, perRun: [[String: TableSeries]], summaries: [RunStatistics?], request: ReportRequest
    ) -> [(key: String, cells: [String?])] {
        let cellsByRun: [[String: String]] = perRun.indices.map { i in
            if let summary = summaries[i]?.table(table) {
                return Dictionary(
                    summary.columns.map { ($0.name, DisplayFormat.scalar($0.last)) }, uniquingKeysWith: { first, _ in first })
            }
            return (perRun[i][table]?.columns ?? [:]).compactMapValues { column in
                column.buckets.last(where: \.hasNumber).map { bucket in
                    bucket.last.map(DisplayFormat.number) ?? (bucket.marks.contains(.nan) ? "NaN" : bucket.marks.contains(.positiveInfinity) ? "inf" : "-inf")
                }
            }
        }
        let keys = Set(cellsByRun.flatMap(\.keys)).filter { request.selects(table: table, key: $0) }.sorted()
        return keys.map { key in (key, cellsByRun.map { $0[key] }) }
    }

    /// A run's series from its summary; tables whose NaN the summary only counts are read
    /// again row by row (streamed), so every NaN shows where it happened.
    private static func summarySeries(
        run: LoadedRun, summary: RunStatistics, source: LoadedRun.SummarySource, request: ReportRequest,
        messages: Logging.Logger, warnings: inout [String], notes: inout [String]
    ) -> [String: TableSeries] {
        let path = source == .sidecar ? run.layout.summary.path : run.url.path
        var tables: [String: TableSeries] = [:]
        for table in summary.tables where request.tables?.contains(table.name) ?? true {
            tables[table.name] = SummarySeriesReader.series(
                of: table, path: path, smoothing: request.smoothing, warn: { warnings.append($0) })
        }
        let unplaced = Set(tables.filter(\.value.hasUnplacedNaN).keys)
        guard !unplaced.isEmpty else { return tables }
        let names = unplaced.sorted().joined(separator: ", ")
        let file = source == .sidecar ? RunLayout.summaryName : "the summary rebuilt from the rows"
        do {
            let reread = try FullSeriesReader.series(of: run, tables: unplaced, smoothing: request.smoothing, messages: messages)
            if reread.isEmpty {
                notes.append("\(run.name): \(names): \(file) counts NaN values it cannot place, and there are no rows to read")
            } else {
                tables.merge(reread) { _, rows in rows }
                notes.append("\(run.name): \(names) read row by row to place NaN values that \(file) only counts")
            }
        } catch {
            warnings.append("\(error); \(names) drawn from \(file), some NaN values not marked")
        }
        return tables
    }
}
