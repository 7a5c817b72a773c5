import ArgumentParser
import Foundation
import NokoCore

/// `noko-run report RUN… -o report.html`: one self-contained HTML page of charts.
package struct ReportCommand: NokoCommand {
    package static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML page with line charts of runs, overlaid.",
        discussion: """
            For each table, one chart per numeric column (grouped by the keys' first "/" part, \
            as TensorBoard groups tags), x = step, every run in its own colour. Charts are drawn \
            from summary.json's downsampled min/max series, so spikes survive at any row count; \
            --full reads every row instead. NaN and ±Infinity show as gaps with a marker. A \
            chart whose values span three or more orders of magnitude gets a log-scale toggle. \
            Above the charts: each run's status, times, host, seed and git checkpoint, and the \
            configs side by side with the values that differ highlighted.

            --group-by KEY (repeatable) draws one curve per value of KEY instead of one line per \
            run: the mean of the runs that share it, with a band of ± one sample standard deviation \
            (n − 1), the runs faint behind; --over KEY draws one curve per set of every other \
            setting, averaging over KEY (e.g. the seed). A sweep's trials are grouped by their \
            overrides (a --group-by key that is not an axis is read from their config), other runs \
            by their config (nested keys as optimizer.lr or optimizer/lr). Runs line up row by \
            row (the i-th row of each run's table together, x the step of the group's longest \
            run); a row only some runs reach is the mean of those, and the band needs two. NaN and \
            ±Infinity are left out of the mean (the run's faint line marks them). With --smooth, \
            the runs' moving averages are averaged. A group of one run is a plain line. A key no \
            run has is an error; one some runs lack is a warning, those runs a group of their own. \
            Give --group-by or --over, not both.

            The page needs no server and no network (no external scripts, fonts or styles) and \
            reads fully with scripts disabled; a small inline script adds hover tooltips.

            EXAMPLES
              noko-run report runs/train_a runs/train_b -o report.html
              noko-run report RUN --tables epoch --columns 'test_*' --smooth 50
              noko-run report RUN --full -o - > report.html
              noko-run report runs/lr                         a sweep directory: every trial
              noko-run report runs/lr --over seed             a curve per lr: mean ± std over seeds
              noko-run report runs/a runs/b runs/c --group-by optimizer.lr
            """
    )

    /// The runs, in the order their colours are given.
    @Argument(help: ArgumentHelp("Run directories (a sweep's directory for all its trials): paths, or names under ./runs.", valueName: "run"))
    package var runPaths: [String] = []

    /// The page's path, or `-` for standard output.
    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the page ('-' for standard output).", valueName: "file"))
    package var output = "report.html"

    /// Table names (each argument may hold several, comma-separated).
    @Option(
        name: .long, parsing: .upToNextOption,
        help: ArgumentHelp("Only these tables (space- or comma-separated; put the runs first).", valueName: "table"))
    package var tables: [String] = []

    /// Comma-separated shell patterns matched against `key` and `table/key`.
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Only columns whose key or table/key matches these shell patterns, comma-separated (e.g. 'loss,train/*').",
            valueName: "glob"))
    package var columns: String?

    /// The moving average's window in rows.
    @Option(name: .long, help: ArgumentHelp("Draw a moving average over N rows, the raw series faint behind.", valueName: "n"))
    package var smooth: Int?

    /// Read rows instead of `summary.json`'s series.
    @Flag(name: .long, help: "Read every row from the journal (or CSV files) instead of summary.json's series.")
    package var full = false

    /// Config keys or sweep axes whose values make the groups.
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Draw one curve per value of this config key or sweep axis: the mean of its runs ± std; repeatable.",
            valueName: "key"))
    package var groupBy: [String] = []

    /// Keys averaged over: the groups are made by every other setting.
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Draw one curve per set of the other overrides (or config values), the mean ± std over this key (e.g. seed); repeatable.",
            valueName: "key"))
    package var over: [String] = []

    /// A Mustache template file used instead of the built-in `report.html`.
    @Option(
        name: .long, help: ArgumentHelp("Render with this Mustache template instead of the built-in one.", valueName: "file"),
        completion: .file(extensions: ["mustache"]))
    package var template: String?

    /// The command with its defaults (ArgumentParser fills in the options).
    package init() {}

    package func validate() throws {
        if let smooth, smooth < 1 { throw ValidationError("--smooth must be 1 or more rows, got \(smooth)") }
        if !groupBy.isEmpty && !over.isEmpty {
            // One names the keys that make the groups, the other the keys that don't: together they contradict.
            let by = TerminalText.escaped(groupBy.joined(separator: " ")), others = TerminalText.escaped(over.joined(separator: " "))
            throw ValidationError(
                "--group-by and --over cannot be combined: --group-by \(by) averages over every other key, "
                    + "--over \(others) groups by every other key; give one")
        }
        for key in groupBy + over where key.isEmpty || key.contains("=") {
            let option = groupBy.contains(key) ? "--group-by" : "--over"
            throw ValidationError("\(option) '\(TerminalText.escaped(key))': expected a key (lr, optimizer.lr), not a value")
        }
        if runPaths.isEmpty {
            if let table = tables.first(where: { FileSystem.exists($0) }) {
                throw ValidationError("'\(TerminalText.escaped(table))' looks like a run, not a table: put the runs before --tables, or write --tables a,b")
            }
            throw ValidationError("give at least one run directory")
        }
    }

    package func run(in context: CommandContext) throws {
        let runs = try runPaths.flatMap { try RunLocator.openExpandingSweeps($0, in: context) }
        let tableNames = tables.flatMap { $0.split(separator: ",").map { String($0).trimmingWhitespace() } }.filter { !$0.isEmpty }
        let request = ReportRequest(
            tables: tableNames.isEmpty ? nil : tableNames, columns: columns.map(Glob.init), smoothing: smooth, full: full,
            grouping: !groupBy.isEmpty ? .by(groupBy) : !over.isEmpty ? .over(over) : nil)
        let report = try HTMLReport.render(
            runs: runs, request: request, context: context, templateFile: template.map { context.url(forPath: $0).path },
            messages: CLIMessages.logger(context))
        for warning in report.warnings { context.note("warning: \(warning)") }
        let bytes = Array(report.html.utf8)
        if output == "-" {
            context.write(bytes: bytes)
            return
        }
        let url = context.url(forPath: output)
        do {
            try FileSystem.makeDirectories(url.deletingLastPathComponent().path)
            try AtomicFile.write(bytes, to: url.path)
        } catch {
            throw CLIError("\(url.path): cannot write the report: \(error)")
        }
        let groups = report.groups.map { ", \($0) group\($0 == 1 ? "" : "s")" } ?? ""
        context.note(
            "wrote \(url.path) (\(DisplayFormat.bytes(Int64(bytes.count))), \(report.charts) chart\(report.charts == 1 ? "" : "s") of \(runs.count) run\(runs.count == 1 ? "" : "s")\(groups))")
    }
}
