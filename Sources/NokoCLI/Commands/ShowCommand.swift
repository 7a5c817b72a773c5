import ArgumentParser
import Foundation
import NokoCore
import NokoGit

/// `noko-run show RUN`: the one-screen story of a run.
package struct ShowCommand: NokoCommand {
    package static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "The one-screen story of a run: status, times, command, config, git, remote, tables.",
        discussion: """
            Each table is shown with its row count, step range and column count, and its most \
            informative numeric columns (varying; names like loss/acc/reward first) with last \
            value, min, max and a sparkline drawn from summary.json. A run that failed, was \
            killed or died shows the last lines of its console output (output.log) too. Without summary.json (a \
            Python noko run, or one killed before its first flush) the journal or the CSV files \
            are streamed instead. A run with a system table (noko's own samples) gets a \
            usage line: peak RSS, mean CPU of the process, mean GPU utilization.

            EXAMPLES
              noko-run show runs/train_2026-11-27T102738
              noko-run show RUN --table grad_step                every column of one table
              noko-run show RUN --columns 'loss,weights.*'       only matching columns
              noko-run show RUN --json | jq .config

            JSON (--json): one object with keys
              name, path, source ("noko" | "python-noko"), status ("running" | "finished" | \
            "failed" | "killed" | "stale" | "unknown"), start_time, end_time, duration (Unix \
            seconds / seconds, or null), metadata (metadata.json as written, or null), config \
            (flattened with "/" keys, or null), seeds (seeds.json, or null), git (the checkpoint \
            record, or null), remote ({"wandb": {entity, project, run_id, url, mode, sync}, \
            "mlflow": {tracking_uri, experiment_id, run_id, url, sync}}, each only when the run \
            went there, or null; wandb's sync: {history_lines, bytes_uploaded, bytes_total, \
            finished, complete, exit_code, last_error}, MLflow's: {rows_uploaded, \
            bytes_uploaded, bytes_total, finished, files_complete, complete, last_error}; or \
            null), overrides (overrides.json: config_files, \
            overrides [{source, text, operation, path, value}], defaults; or null), reproductions \
            (the runs noko-run reproduce made of it: [{name, path, reproduced, headline}]), summary_source ("summary.json" | "noko.ndjson" | \
            "csv" | "none"), resources ({peak_rss_bytes, mean_cpu_percent, \
            mean_gpu_utilization_percent}, each a number or null, from the system table; null \
            without one), rows_lost (metadata.json's rows_lost: {file: rows that never reached \
            it} when a write failed, e.g. a full disk; else null), last_output (for a failed, killed or dead run: the last lines of \
            output.log, [{stream ("stdout" | "stderr" | "noko"), time, text}], else null), tables: [{name, file, rows, first_step, last_step, first_time, \
            last_time, column_count, columns: [{name, type, count, null_count, nan_count, last, \
            min, max}]}] (--table and --columns filter tables and columns).
            """
    )

    @Argument(help: ArgumentHelp("The run directory: a path, or a name under ./runs.", valueName: "run"))
    package var runPath: String

    @Option(name: .long, help: ArgumentHelp("Show every column of this table.", valueName: "table"))
    package var table: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Only columns matching these shell patterns, comma-separated (e.g. 'loss,weights*').", valueName: "glob"))
    package var columns: String?

    @Option(name: .long, help: "How many numeric columns of each table the overview shows.")
    package var top: Int = 8

    @OptionGroup package var render: RenderOptions

    package init() {}

    package func validate() throws {
        if top < 0 { throw ValidationError("--top must be 0 or more, got \(top)") }
    }

    package func run(in context: CommandContext) throws {
        let run = try RunLocator.open(runPath, in: context)
        let (summary, source) = try run.loadSummary(messages: CLIMessages.logger(context))
        let glob = columns.map(Glob.init)
        var tables = summary.tables
        if let table {
            guard let found = summary.table(table) else {
                let known = summary.tables.map(\.name)
                throw CLIError(
                    "\(run.url.path): no table \"\(table)\"; the run has \(known.isEmpty ? "no tables" : known.map { "\"\($0)\"" }.joined(separator: ", "))")
            }
            tables = [found]
        }
        if let glob {
            tables = tables.map { table in
                var filtered = table
                filtered.columns = table.columns.filter { glob.matches($0.name) }
                return filtered
            }
        }
        let view = RunView(run: run, summary: summary, summarySource: source, context: context)
        if render.json {
            var json = view.json()
            json = json.replacing("tables", with: .array(tables.map { RunView.tableJSON($0, columnCount: summary.table($0.name)?.columns.count ?? 0) }))
            JSONOutput.write(json, to: context)
            return
        }
        var model = view.textContext()
        if let table = tables.first, self.table != nil {
            model["table"] = RunView.fullTableContext(table, terminal: context.terminal, columnCount: summary.table(table.name)?.columns.count ?? 0)
            context.write(try Templates.renderText("show-table.txt", context: model, templateFile: render.templatePath(in: context)))
            return
        }
        model["tables"] = tables.map {
            RunView.overviewTableContext(
                $0, top: glob == nil ? top : Int.max, allColumns: glob != nil, terminal: context.terminal,
                columnCount: summary.table($0.name)?.columns.count ?? 0)
        }
        model["has_tables"] = !tables.isEmpty
        context.write(try Templates.renderText("show.txt", context: model, templateFile: render.templatePath(in: context)))
    }
}

extension JSONValue {
    /// The object with `key` set to `value` (other values unchanged).
    func replacing(_ key: String, with value: JSONValue) -> JSONValue {
        guard case .object(var members) = self else { return self }
        members[key] = value
        return .object(members)
    }
}
