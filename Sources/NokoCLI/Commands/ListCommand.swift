import ArgumentParser
import Foundation
import NokoCore

/// `noko-run list [RUNS_DIR]`: one line per run.
package struct ListCommand: NokoCommand {
    package static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "One line per run: name, status, start, duration, the config values that differ, chosen metrics.",
        discussion: """
            Runs are the directories directly inside RUNS_DIR that have a metadata.json, and \
            Python noko's (a noko.ndjson or CSV files; status unknown, times from their rows). \
            Config columns are the keys whose values differ between the listed runs (--config \
            picks them instead; --overridden shows the keys set at launch by path=value or \
            NOKO_OVERRIDES, in any listed run); metrics are read from summary.json (O(columns) per run), or \
            rebuilt from the rows when a run has none.

            EXAMPLES
              noko-run list                                        ./runs, oldest first
              noko-run list runs --metric epoch/test_accuracy --metric max:epoch/test_accuracy
              noko-run list --where config.lr=0.1 --where 'epoch/test_loss<0.2'
              noko-run list --status failed --status killed
              noko-run list --sort epoch/test_accuracy --reverse
              noko-run list --overridden                           the keys given at launch

            --where FIELD OP VALUE: FIELD is config.KEY (nested keys joined by /), metadata.KEY, \
            name, status, or a metric (table/key, min:table/key, max:table/key); OP is =, !=, <, \
            <=, >, >= or ~ (shell pattern). Numbers compare as numbers. A run without the field \
            matches only !=. Several --where must all hold.

            JSON (--json): {"runs_dir", "config_keys": [shown config keys], "metrics": [metric \
            references], "runs": [{name, path, status, start_time, end_time, duration, config \
            (every flattened key), overridden: [config keys set at launch], metrics: {reference: \
            value or null}}], "sweeps": [{name, path, trials, counts: {status: n}, metric, best: \
            {trial, value} or null}]}

            A sweep directory (noko-run sweep) is one line after the runs: its trials finished \
            and the best by the first --metric (or the sweep's own); list RUNS_DIR/NAME lists \
            its trials.
            """
    )

    @Argument(help: ArgumentHelp("The directory that holds the runs.", valueName: "runs-dir"))
    package var runsDirectory: String = "runs"

    @Option(name: .long, help: ArgumentHelp("Show this metric's last value (or min:/max:); repeatable.", valueName: "table/key"))
    package var metric: [String] = []

    @Option(name: .customLong("where"), help: ArgumentHelp("Keep runs where FIELD OP VALUE holds; repeatable.", valueName: "condition"))
    package var conditions: [String] = []

    @Option(name: .long, help: ArgumentHelp("Keep runs with this status; repeatable.", valueName: "status"))
    package var status: [String] = []

    @Option(
        name: .customLong("config"),
        help: ArgumentHelp("Show config keys matching these shell patterns instead of the differing ones.", valueName: "glob"))
    package var configKeys: String?

    @Flag(name: .long, help: "Show the config keys set at launch (path=value, NOKO_OVERRIDES) instead of the differing ones.")
    package var overridden = false

    @Option(
        name: .long,
        help: ArgumentHelp("Sort by start, name, status, duration, config.KEY or a metric.", valueName: "key"))
    package var sort: String = "start"

    @Flag(name: .long, help: "Reverse the order.")
    package var reverse = false

    @OptionGroup package var render: RenderOptions

    package init() {}

    package func validate() throws {
        if overridden && configKeys != nil { throw ValidationError("--overridden and --config both choose the config columns; give one") }
        let known = RunStatus.allCases.map(\.rawValue)
        for s in status where !known.contains(s) {
            throw ValidationError("--status \(TerminalText.escaped(s)): expected one of \(known.joined(separator: ", "))")
        }
        do {
            _ = try metric.map(MetricReference.init)
            _ = try conditions.map(RunFilter.init)
            _ = try SortKey(sort)
        } catch let error as CLIError {
            throw ValidationError(error.description)
        }
    }

    /// What a list can be sorted by.
    enum SortKey {
        case start, name, status, duration
        case config(String)
        case metric(MetricReference)

        init(_ text: String) throws {
            switch text {
            case "start": self = .start
            case "name": self = .name
            case "status": self = .status
            case "duration": self = .duration
            default:
                if text.hasPrefix("config.") {
                    self = .config(String(text.dropFirst("config.".count)))
                } else if text.contains("/") {
                    self = .metric(try MetricReference(text))
                } else {
                    throw CLIError("--sort \(text): expected start, name, status, duration, config.KEY or table/key")
                }
            }
        }
    }

    /// One run's line.
    struct Entry {
        var run: LoadedRun
        var status: RunStatus
        var config: [String: JSONValue]
        var summary: RunStatistics?

        var startTime: Double? { run.startTime(summary: summary) }
        var endTime: Double? { run.endTime(summary: summary) }
        func duration(now: Double) -> Double? { run.duration(now: now, summary: summary) }

        func value(of field: RunFilter.Field) -> JSONValue? {
            switch field {
            case .name: return .string(run.name)
            case .status: return .string(status.rawValue)
            case .config(let key): return config[key]
            case .metadata(let key): return run.metadataJSON?[key]
            case .metric(let reference): return summary.flatMap { reference.value(in: $0) }.map(JSONValue.init)
            }
        }
    }

    package func run(in context: CommandContext) throws {
        let directory = context.url(forPath: runsDirectory, isDirectory: true)
        let metrics = try metric.map(MetricReference.init)
        let filters = try conditions.map(RunFilter.init)
        let sortKey = try SortKey(sort)
        let messages = CLIMessages.logger(context)
        var needsSummary = !metrics.isEmpty || filters.contains { if case .metric = $0.field { true } else { false } }
        if case .metric = sortKey { needsSummary = true }

        var entries: [Entry] = []
        for url in try LoadedRun.runDirectories(in: directory) {
            do {
                let run = try LoadedRun.open(url)
                for problem in run.problems { context.note("warning: \(url.lastPathComponent): \(problem)") }
                let config = run.config.map { Dictionary(ConfigFlattening.flatten($0).map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }) } ?? [:]
                var entry = Entry(run: run, status: run.status(now: context.now), config: config, summary: nil)
                if needsSummary {
                    entry.summary = try run.loadSummary(messages: messages).summary
                } else if run.source == .pythonNoko {
                    // A Python noko run's times are its rows'; rows that cannot be read leave
                    // them blank, not the run out.
                    do {
                        entry.summary = try run.loadSummary(messages: messages).summary
                    } catch {
                        context.note("warning: \(url.lastPathComponent): no start or duration: \(error)")
                    }
                }
                entries.append(entry)
            } catch {
                context.note("warning: skipping \(url.lastPathComponent): \(error)")
            }
        }
        entries = entries.filter { entry in
            (status.isEmpty || status.contains(entry.status.rawValue)) && filters.allSatisfy { $0.matches(entry.value(of: $0.field)) }
        }
        entries = sorted(entries, by: sortKey, now: context.now)
        if reverse { entries.reverse() }

        let configKeys = shownConfigKeys(entries)
        let sweeps = Self.sweeps(in: directory, metric: metrics.first, context: context)
        if render.json {
            var document = json(entries, directory: directory, configKeys: configKeys, metrics: metrics, now: context.now)
            if case .object(var members) = document {
                members["sweeps"] = .array(sweeps.map(\.json))
                document = .object(members)
            }
            JSONOutput.write(document, to: context)
            return
        }
        var model = textContext(entries, directory: directory, configKeys: configKeys, metrics: metrics, context: context)
        let sweepLines = TemplateContext.alignedRows(sweeps.map(\.cells), rightAligned: [false, false, false, false])
            .map { $0.trimmingTrailingSpaces() }
        model["has_sweeps"] = !sweeps.isEmpty
        model["sweeps"] = zip(sweeps, sweepLines).map { sweep, line -> [String: Any] in
            ["name": sweep.results.sweep.name, "path": sweep.results.directory.path, "line": line]
        }
        context.write(try Templates.renderText("list.txt", context: model, templateFile: render.templatePath(in: context)))
    }

    /// One sweep directory's line: its trials' status and its best trial.
    struct SweepEntry {
        var results: SweepResults
        var reference: MetricReference?
        var best: SweepResults.Trial?

        var countsText: String {
            let counts = results.sweep.counts
            var text = "\(counts[.finished, default: 0])/\(results.sweep.trials.count) finished"
            for status in [SweepFile.Status.failed, .running, .killed] {
                if let n = counts[status] { text += ", \(n) \(status.rawValue)" }
            }
            return text
        }

        var cells: [TerminalText] {
            let bestText = best.map { "best \(reference!) \(DisplayFormat.number($0.value!)) (\($0.trial.id))" } ?? ""
            return [RunView.cell(results.sweep.name), RunView.cell("sweep"), RunView.cell(countsText), RunView.cell(bestText)]
        }

        var json: JSONValue {
            var counts: [String: JSONValue] = [:]
            for (status, n) in results.sweep.counts { counts[status.rawValue] = .int(Int64(n)) }
            return [
                "name": .string(results.sweep.name), "path": .string(results.directory.path),
                "trials": .int(Int64(results.sweep.trials.count)), "counts": .object(counts),
                "metric": reference.map { .string($0.description) } ?? .null,
                "best": best.map { ["trial": .string($0.trial.id), "value": .double($0.value!)] } ?? .null,
            ]
        }
    }

    /// The sweep directories inside `directory` (a `sweep.json`, no `metadata.json`), best
    /// trial by `metric` or the sweep's own.
    static func sweeps(in directory: URL, metric: MetricReference?, context: CommandContext) -> [SweepEntry] {
        let names = (try? FileSystem.contentsOfDirectory(directory.path)) ?? []
        return names.sorted().compactMap { name -> SweepEntry? in
            let url = directory.appendingPathComponent(name, isDirectory: true)
            guard !FileSystem.exists(RunLayout(url).metadata.path), FileSystem.exists(RunLayout(url).sweep.path) else { return nil }
            do {
                guard let sweep = try SweepFile.read(from: url) else { return nil }
                let reference = metric ?? sweep.metric.flatMap { try? MetricReference($0) }
                let goal = metric == nil ? sweep.goal.flatMap(SweepGoal.init(rawValue:)) : nil
                let results = SweepResults.load(sweep, in: url, reference: reference, warn: { context.note("warning: \(name): \($0)") })
                return SweepEntry(
                    results: results, reference: reference,
                    best: results.best(goal ?? reference.map(SweepGoal.inferred) ?? .max))
            } catch {
                context.note("warning: skipping \(name): \(error)")
                return nil
            }
        }
    }

    /// The config keys shown: those set at launch with `--overridden`, those matching
    /// `--config`, else those whose values differ.
    func shownConfigKeys(_ entries: [Entry]) -> [String] {
        let all = Set(entries.flatMap(\.config.keys)).sorted()
        if overridden { return Set(entries.flatMap(\.run.overriddenKeys)).sorted() }
        if let configKeys {
            let glob = Glob(configKeys)
            return all.filter(glob.matches)
        }
        // Runs without a config (Python noko's) would make every key look different.
        let configured = entries.filter { !$0.config.isEmpty }
        guard configured.count > 1 else { return [] }
        return all.filter { key in Set(configured.map { $0.config[key] ?? .null }).count > 1 }
    }

    func sorted(_ entries: [Entry], by key: SortKey, now: Double) -> [Entry] {
        // Runs without the value go last; ties keep name order (the directory listing's).
        func ordered(_ value: (Entry) -> JSONValue?) -> [Entry] {
            let keyed = entries.enumerated().map { ($0.offset, $0.element, value($0.element)) }
            return keyed.sorted { a, b in
                switch (a.2, b.2) {
                case (nil, nil): return a.0 < b.0
                case (nil, _): return false
                case (_, nil): return true
                case (let x?, let y?):
                    if let dx = x.doubleValue, let dy = y.doubleValue, x.stringValue == nil, y.stringValue == nil {
                        return dx != dy ? dx < dy : a.0 < b.0
                    }
                    let sx = DisplayFormat.jsonExact(x), sy = DisplayFormat.jsonExact(y)
                    return sx != sy ? sx < sy : a.0 < b.0
                }
            }.map(\.1)
        }
        switch key {
        case .start: return ordered { $0.startTime.map(JSONValue.double) }
        case .name: return ordered { .string($0.run.name) }
        case .status: return ordered { .string($0.status.rawValue) }
        case .duration: return ordered { $0.duration(now: now).map(JSONValue.double) }
        case .config(let k): return ordered { $0.config[k] }
        case .metric(let reference): return ordered { $0.value(of: .metric(reference)) }
        }
    }

    func json(_ entries: [Entry], directory: URL, configKeys: [String], metrics: [MetricReference], now: Double) -> JSONValue {
        [
            "runs_dir": .string(directory.path),
            "config_keys": .array(configKeys.map(JSONValue.string)),
            "metrics": .array(metrics.map { .string($0.description) }),
            "runs": .array(entries.map { entry in
                let run = entry.run
                var metricValues: [String: JSONValue] = [:]
                for reference in metrics {
                    metricValues[reference.description] = entry.value(of: .metric(reference)) ?? .null
                }
                return [
                    "name": .string(run.name), "path": .string(run.url.path), "status": .string(entry.status.rawValue),
                    "start_time": entry.startTime.map(JSONValue.double) ?? .null,
                    "end_time": entry.endTime.map(JSONValue.double) ?? .null,
                    "duration": entry.duration(now: now).map(JSONValue.double) ?? .null,
                    "config": .object(entry.config), "metrics": .object(metricValues),
                    "overridden": .array(run.overriddenKeys.map(JSONValue.string)),
                ]
            }),
        ]
    }

    func textContext(
        _ entries: [Entry], directory: URL, configKeys: [String], metrics: [MetricReference], context: CommandContext
    ) -> [String: Any] {
        let terminal = context.terminal
        let header = (["run", "status", "started", "duration"] + configKeys + metrics.map(\.description)).map { RunView.cell($0) }
        let rows: [[TerminalText]] = entries.map { entry in
            let run = entry.run
            var cells = [
                RunView.cell(run.name),
                terminal.paint("\(entry.status.rawValue)", Terminal.style(forStatus: entry.status.rawValue)),
                RunView.cell(entry.startTime.map { DisplayFormat.time($0, timeZone: context.timeZone) } ?? ""),
                RunView.cell(entry.duration(now: context.now).map(DisplayFormat.duration) ?? ""),
            ]
            cells += configKeys.map { key in RunView.cell(entry.config[key].map(DisplayFormat.terminalJSON) ?? "-", limit: 24) }
            cells += metrics.map { reference in
                RunView.cell(entry.value(of: .metric(reference)).map { $0 == .null ? "" : DisplayFormat.terminalJSON($0) } ?? "-")
            }
            return cells
        }
        let right = [false, false, false, true] + configKeys.map { _ in true } + metrics.map { _ in true }
        let lines = TemplateContext.alignedRows([header] + rows, rightAligned: right).map { $0.trimmingTrailingSpaces() }
        var model = TemplateContext.styles(terminal)
        model["runs_dir"] = runsDirectory
        model["count"] = entries.count
        model["count_text"] = "\(entries.count) run\(entries.count == 1 ? "" : "s")"
        model["header"] = lines[0]
        model["config_keys"] = configKeys
        model["has_runs"] = !entries.isEmpty
        model["runs"] = zip(entries, lines.dropFirst()).map { entry, line -> [String: Any] in
            [
                "name": entry.run.name, "status": entry.status.rawValue, "path": entry.run.url.path, "line": line,
            ]
        }
        return model
    }
}
