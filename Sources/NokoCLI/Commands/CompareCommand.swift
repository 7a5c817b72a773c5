import ArgumentParser
import Foundation
import NokoCore

/// `noko-run compare RUN RUN…`: config and final metrics side by side; with `--rows`, two
/// runs compared value by value (``RunComparison``).
package struct CompareCommand: NokoCommand {
    package static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Config side by side with differences highlighted, and final metrics side by side.",
        discussion: """
            Config rows whose values differ are marked with * (and coloured on a terminal). \
            Metrics are each table's most informative columns (as in show) across the runs, or \
            the columns matching --columns; values are the last logged.

            EXAMPLES
              noko-run compare runs/a runs/b runs/c
              noko-run compare A B --differences              only the config keys that differ
              noko-run compare A B --overridden               only the keys set at launch
              noko-run compare A B --columns 'test_*' --json
              noko-run compare --rows A B                     every row, value by value
              noko-run compare --rows A B --rtol 1e-6 --ignore 'time_*'

            ROWS (--rows): two runs, table by table, rows matched by their position in the \
            table, every column: bit for bit by default (the journal's text of each value), or \
            numbers within |a - b| <= atol + rtol * |a|. $utc_timestamp, $localtime, the system \
            table and columns matching --ignore (column or table/column) are left out; \
            config.json (apart from keys recorded as <redacted>) and seeds.json are compared too. \
            Exit status 0 when the runs are the same, 1 with the first difference of each table, \
            how many values differ and the largest difference. This is the verdict of noko-run \
            reproduce, for two runs you already have (two seeds, a rerun on another machine).

            JSON (--json): {"runs": [{name, path, status, start_time, duration, overridden: \
            [config keys set at launch]}], "config": \
            [{key, values: [value or null per run], differs}], "metrics": [{table, column, \
            values: [last value or null per run], differs}]}; with --rows: {"reproduced", \
            "headline", "original", "rerun", "tolerance": {rtol, atol}, "ignored", "rows", \
            "values", "differing", "tables": [{name, identical, original_rows, rerun_rows, \
            compared_rows, values, differing, compared_up_to_lag, largest_absolute, \
            largest_relative, first_difference: {row, step, column, original, rerun, absolute, \
            relative} or null}], "skipped_tables", "config": {identical, differences: [{key, \
            original, rerun}], redacted_keys}, "seeds_identical"}
            """
    )

    @Argument(help: ArgumentHelp("Two or more run directories (paths, or names under ./runs).", valueName: "run"))
    package var runPaths: [String]

    @Flag(name: .long, help: "Only the config keys whose values differ.")
    package var differences = false

    @Flag(name: .long, help: "Only the config keys set at launch (path=value, NOKO_OVERRIDES) in any of the runs.")
    package var overridden = false

    @Option(
        name: .long,
        help: ArgumentHelp("Compare the columns matching these shell patterns, comma-separated.", valueName: "glob"))
    package var columns: String?

    @Option(name: .long, help: "How many columns of each table to compare when --columns is not given.")
    package var top: Int = 8

    @Flag(name: .long, help: "Compare two runs row by row, every value (the verdict of noko-run reproduce).")
    package var rows = false

    @OptionGroup package var tolerance: RowComparisonOptions

    @OptionGroup package var render: RenderOptions

    package init() {}

    package func validate() throws {
        if runPaths.count < 2 { throw ValidationError("compare needs at least two runs, got \(runPaths.count)") }
        if top < 0 { throw ValidationError("--top must be 0 or more, got \(top)") }
        if rows {
            if runPaths.count != 2 { throw ValidationError("compare --rows compares two runs, got \(runPaths.count)") }
            if differences || overridden || columns != nil {
                throw ValidationError("--differences, --overridden and --columns are for the config and metrics view, not --rows")
            }
        } else if tolerance.isGiven {
            throw ValidationError("--rtol, --atol and --ignore go with --rows")
        }
    }

    struct Row {
        var key: String
        var values: [JSONValue?]
        var differs: Bool
    }

    struct MetricRow {
        var table: String
        var column: String
        var values: [Scalar?]
        var differs: Bool
    }

    package func run(in context: CommandContext) throws {
        let messages = CLIMessages.logger(context)
        let runs = try runPaths.map { try RunLocator.open($0, in: context) }
        if rows { return try compareRows(runs[0], runs[1], in: context) }
        let summaries = try runs.map { try $0.loadSummary(messages: messages).summary }

        let configs = runs.map { run in
            Dictionary((run.config.map(ConfigFlattening.flatten) ?? []).map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        }
        let keys = Set(configs.flatMap(\.keys)).sorted()
        var configRows = keys.map { key -> Row in
            let values = configs.map { $0[key] }
            return Row(key: key, values: values, differs: Set(values.map { $0 ?? .null }).count > 1)
        }
        if differences { configRows = configRows.filter(\.differs) }
        if overridden {
            let launched = Set(runs.flatMap(\.overriddenKeys))
            configRows = configRows.filter { launched.contains($0.key) }
        }

        let metricRows = self.metricRows(summaries)
        if render.json {
            JSONOutput.write(json(runs, configRows: configRows, metricRows: metricRows, now: context.now), to: context)
            return
        }
        let model = textContext(runs, configRows: configRows, metricRows: metricRows, context: context)
        context.write(try Templates.renderText("compare.txt", context: model, templateFile: render.templatePath(in: context)))
    }

    /// `--rows`: the verdict, and exit status 1 when the runs differ.
    func compareRows(_ original: LoadedRun, _ rerun: LoadedRun, in context: CommandContext) throws {
        let comparison = try RunComparison.compare(original: original, rerun: rerun, options: tolerance.options)
        if render.json {
            JSONOutput.write(comparison.json, to: context)
        } else {
            context.write(
                try Templates.renderText("rows.txt", context: comparison.textContext(context.terminal), templateFile: render.templatePath(in: context)))
        }
        if !comparison.identical { throw ExitCode.failure }
    }

    /// Per table (in any run), the columns to compare: those matching `--columns`, else the
    /// union of each run's most informative ones.
    func metricRows(_ summaries: [RunStatistics]) -> [MetricRow] {
        let glob = columns.map(Glob.init)
        let tableNames = Set(summaries.flatMap { $0.tables.map(\.name) }).sorted()
        var rows: [MetricRow] = []
        for name in tableNames {
            let tables = summaries.map { $0.table(name) }
            var chosen: [String] = []
            if let glob {
                chosen = Set(tables.compactMap { $0 }.flatMap { $0.columns.map(\.name) }).filter(glob.matches).sorted()
            } else if name != SystemTable.name {
                // The system table is noko's own samples, not a result: compared only when asked for.
                for table in tables.compactMap({ $0 }) {
                    for column in ColumnRanking.informative(table.columns, limit: top) where !chosen.contains(column.name) {
                        chosen.append(column.name)
                    }
                }
                chosen = Array(chosen.prefix(top))
            }
            for column in chosen {
                let values = tables.map { $0?.column(column)?.last }
                rows.append(MetricRow(table: name, column: column, values: values, differs: Set(values.map { $0 ?? .null }).count > 1))
            }
        }
        return rows
    }

    func json(_ runs: [LoadedRun], configRows: [Row], metricRows: [MetricRow], now: Double) -> JSONValue {
        [
            "runs": .array(runs.map { run in
                [
                    "name": .string(run.name), "path": .string(run.url.path), "status": .string(run.status(now: now).rawValue),
                    "start_time": run.metadata?.startTime.map(JSONValue.double) ?? .null,
                    "duration": run.duration(now: now).map(JSONValue.double) ?? .null,
                    "overridden": .array(run.overriddenKeys.map(JSONValue.string)),
                ]
            }),
            "config": .array(configRows.map { row in
                ["key": .string(row.key), "values": .array(row.values.map { $0 ?? .null }), "differs": .bool(row.differs)]
            }),
            "metrics": .array(metricRows.map { row in
                [
                    "table": .string(row.table), "column": .string(row.column),
                    "values": .array(row.values.map { $0.map(JSONValue.init) ?? .null }), "differs": .bool(row.differs),
                ]
            }),
        ]
    }

    func textContext(_ runs: [LoadedRun], configRows: [Row], metricRows: [MetricRow], context: CommandContext) -> [String: Any] {
        let terminal = context.terminal
        let names = runs.map { RunView.cell($0.name, limit: 36) }
        let statusRow: [TerminalText] = ["status"] + runs.map {
            let s = $0.status(now: context.now).rawValue
            return terminal.paint("\(s)", Terminal.style(forStatus: s))
        }
        let startRow: [TerminalText] = ["started"] + runs.map {
            RunView.cell($0.metadata?.startTime.map { DisplayFormat.time($0, timeZone: context.timeZone) } ?? "")
        }
        let durationRow: [TerminalText] = ["duration"] + runs.map { RunView.cell($0.duration(now: context.now).map(DisplayFormat.duration) ?? "") }
        let right = [false] + runs.map { _ in false }
        let runLines = TemplateContext.alignedRows([["run"] + names, statusRow, startRow, durationRow], rightAligned: right)

        let configCells = configRows.map { row -> [TerminalText] in
            let marker: TerminalText = row.differs ? "* " : "  "
            let cells = row.values.map { value -> TerminalText in
                let cell = value.map { RunView.cell(DisplayFormat.terminalJSON($0), limit: 32) } ?? "-"
                return row.differs ? terminal.paint(cell, .yellow) : cell
            }
            return [marker + TerminalText(escaping: row.key)] + cells
        }
        let configLines = TemplateContext.alignedRows([["  key"] + names] + configCells, rightAligned: right)

        let metricCells = metricRows.map { row -> [TerminalText] in
            let values = row.values.map { value -> TerminalText in value.map { RunView.cell(DisplayFormat.scalar($0), limit: 24) } ?? "-" }
            return [TerminalText(escaping: row.table + "/" + row.column)] + values
        }
        let metricLines = TemplateContext.alignedRows(
            [["metric (last)"] + names] + metricCells, rightAligned: [false] + runs.map { _ in true })

        var model = TemplateContext.styles(terminal)
        model["runs"] = runs.map { ["name": $0.name, "path": $0.url.path] }
        model["run_header"] = runLines[0].trimmingTrailingSpaces()
        model["run_lines"] = runLines.dropFirst().map { $0.trimmingTrailingSpaces() }
        model["has_config"] = !configRows.isEmpty
        model["config_header"] = configLines[0].trimmingTrailingSpaces()
        model["config_lines"] = configLines.dropFirst().map { $0.trimmingTrailingSpaces() }
        model["differing_count"] = configRows.filter(\.differs).count
        model["has_metrics"] = !metricRows.isEmpty
        model["metric_header"] = metricLines[0].trimmingTrailingSpaces()
        model["metric_lines"] = metricLines.dropFirst().map { $0.trimmingTrailingSpaces() }
        return model
    }
}

/// `--rtol`, `--atol` and `--ignore`: what a row-by-row comparison counts as equal.
package struct RowComparisonOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Numbers are equal within this relative difference (of the original's value).", valueName: "r"))
    package var rtol: Double = 0

    @Option(name: .long, help: ArgumentHelp("Numbers are equal within this absolute difference.", valueName: "a"))
    package var atol: Double = 0

    @Option(
        name: .long,
        help: ArgumentHelp("Leave out the columns matching this shell pattern (column or table/column); repeat for more.", valueName: "glob"))
    package var ignore: [String] = []

    package init() {}

    package func validate() throws {
        for (name, value) in [("--rtol", rtol), ("--atol", atol)] where !(value >= 0 && value.isFinite) {
            throw ValidationError("\(name) must be a finite number of 0 or more, got \(value)")
        }
    }

    /// Whether any of the options was given.
    var isGiven: Bool { rtol != 0 || atol != 0 || !ignore.isEmpty }

    /// The comparison's options.
    package var options: JournalComparison.Options {
        JournalComparison.Options(
            relativeTolerance: rtol, absoluteTolerance: atol, ignored: ignore.isEmpty ? nil : Glob(ignore.joined(separator: ",")))
    }
}
