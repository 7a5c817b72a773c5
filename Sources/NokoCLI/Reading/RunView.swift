import Foundation
import Noko
import NokoCore
import NokoPlatform
import NokoGit
import NokoMLflow
import NokoWandb

/// One run as `show` presents it: the JSON document and the template context, built from
/// the same facts so the two never disagree.
package struct RunView {
    /// The run.
    package let run: LoadedRun
    /// Its tables.
    package let summary: RunStatistics
    /// Where the tables came from.
    package let summarySource: LoadedRun.SummarySource
    /// Clock, zone, terminal.
    package let context: CommandContext
    /// Problems met while reading optional parts (an unreadable git record…), as notes.
    package private(set) var problems: [String] = []
    private let git: GitCheckpointRecord?
    private let wandbStatus: WandbSyncStatus?
    private let mlflowStatus: MLflowSyncStatus?
    /// What the run used, from its `system` table.
    package let resources: ResourceSummary?

    /// A view of `run` at `context.now`.
    package init(run: LoadedRun, summary: RunStatistics, summarySource: LoadedRun.SummarySource, context: CommandContext) {
        self.run = run
        self.summary = summary
        self.summarySource = summarySource
        self.context = context
        var problems: [String] = []
        git = run.gitRecord { problems.append($0) }
        wandbStatus = run.wandbSyncStatus { problems.append($0) }
        mlflowStatus = run.mlflowSyncStatus { problems.append($0) }
        resources = ResourceSummary.of(run, summary: summary, messages: CLIMessages.logger(context))
        self.problems = problems
    }

    /// The inferred status.
    package var status: RunStatus { run.status(now: context.now) }

    /// The start time: `metadata.json`'s, else the first row's (Python noko).
    package var startTime: Double? { run.startTime(summary: summary) }

    /// The end time, when the run ended.
    package var endTime: Double? { run.endTime(summary: summary) }

    /// The duration (to `now` while running).
    package var duration: Double? { run.duration(now: context.now, summary: summary) }

    /// The run's path as people should see it: relative to the working directory when
    /// inside it.
    package var displayPath: String {
        let base = context.workingDirectory.standardizedFileURL.path
        let path = run.url.standardizedFileURL.path
        if path.hasPrefix(base + "/") { return String(path.dropFirst(base.count + 1)) }
        return path
    }

    // MARK: - JSON

    /// The `--json` document of `show` (see its help for the shape).
    package func json() -> JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(run.name), "path": .string(run.url.path), "source": .string(run.source.rawValue),
            "status": .string(status.rawValue), "start_time": startTime.map(JSONValue.double) ?? .null,
            "end_time": endTime.map(JSONValue.double) ?? .null, "duration": duration.map(JSONValue.double) ?? .null,
            "metadata": run.metadataJSON ?? .null, "config": run.config.map(ConfigFlattening.flattenedObject) ?? .null,
            "seeds": run.seeds?.json ?? .null, "git": gitJSON ?? .null, "remote": remoteJSON ?? .null,
            "overrides": run.overrides?.json ?? .null,
            "reproductions": .array(run.reproductions().map { reproduction in
                [
                    "name": .string(reproduction.name), "path": .string(reproduction.url.path),
                    "reproduced": reproduction.verdict?["reproduced"] ?? .null, "headline": reproduction.verdict?["headline"] ?? .null,
                ]
            }),
            "summary_source": .string(summarySource.name), "resources": resources?.json ?? .null,
            "rows_lost": run.metadata?.rowsLost.map { lost in .object(lost.mapValues { .int(Int64($0)) }) } ?? .null,
            "last_output": lastOutput.map { lines in
                .array(lines.map { line in
                    [
                        "stream": .string(line.stream.rawValue), "time": line.time.map(JSONValue.double) ?? .null,
                        "text": .string(String(decoding: line.text, as: UTF8.self)),
                    ]
                })
            } ?? .null,
        ]
        object["tables"] = .array(summary.tables.map { RunView.tableJSON($0, columnCount: $0.columns.count) })
        return .object(object)
    }

    /// How many lines of `output.log` `show` prints for a run that did not finish.
    static let lastOutputLines = 10

    /// The last lines of the console output of a run that failed, was killed or died (what
    /// it said before it ended), nil for other runs or when nothing was captured.
    var lastOutput: [ConsoleLine]? {
        // A `running` run whose process is gone from this machine (`kill -9`) reads `stale`
        // only after three heartbeats; its last words matter now.
        let gone = status == .running && run.metadata?.host == CurrentProcess.hostName
            && run.metadata?.pid.map { !CurrentProcess.isAlive(Int32($0)) } == true
        guard [.failed, .killed, .stale].contains(status) || gone, ConsoleLogReader.exists(in: run.layout) else { return nil }
        let lines = (try? ConsoleLogReader(run.layout).lastLines(Self.lastOutputLines)) ?? []
        return lines.isEmpty ? nil : lines
    }

    /// A console line for the terminal: colour passes when colour is on (every other
    /// sequence shows as text), control characters are escapes otherwise; stderr in red.
    func outputLineText(_ line: ConsoleLine) -> TerminalText {
        guard context.terminal.colour else { return "\(String(decoding: line.text, as: UTF8.self))" }
        let shown = String(decoding: TerminalText.ColourPassingFilter.filtered(line.text, passingBareCarriageReturns: false), as: UTF8.self)
        let text = TerminalText(verbatim: shown)
        return line.stream == .stderr ? TerminalText(verbatim: "\u{1B}[31m") + text + TerminalText(verbatim: "\u{1B}[0m") : text
    }

    var gitJSON: JSONValue? {
        guard let git = run.metadata?.git, git != .null else { return nil }
        return git
    }

    var remoteJSON: JSONValue? {
        var remotes: [String: JSONValue] = [:]
        if run.wandbRecord != nil || wandbStatus != nil {
            var wandb: [String: JSONValue] = run.wandbRecord?.objectValue ?? wandbStatus?.record.jsonValue.objectValue ?? [:]
            wandb["sync"] = wandbStatus.map(RunView.syncJSON) ?? .null
            remotes["wandb"] = .object(wandb)
        }
        if run.mlflowRecord != nil || mlflowStatus != nil {
            // The cursor is rewritten at every upload; metadata.json only at a heartbeat.
            var mlflow: [String: JSONValue] = mlflowStatus?.record.jsonValue.objectValue ?? run.mlflowRecord?.objectValue ?? [:]
            mlflow["sync"] = mlflowStatus.map(RunView.syncJSON) ?? .null
            remotes["mlflow"] = .object(mlflow)
        }
        return remotes.isEmpty ? nil : .object(remotes)
    }

    static func syncJSON(_ status: MLflowSyncStatus) -> JSONValue {
        [
            "rows_uploaded": .int(status.rowsUploaded), "bytes_uploaded": .int(status.bytesUploaded),
            "bytes_total": .int(status.bytesTotal), "finished": .bool(status.finished), "files_complete": .bool(status.filesComplete),
            "complete": .bool(status.isComplete), "last_error": status.lastError.map(JSONValue.string) ?? .null,
        ]
    }

    static func syncJSON(_ status: WandbSyncStatus) -> JSONValue {
        [
            "history_lines": .int(status.historyLines), "bytes_uploaded": .int(status.bytesUploaded),
            "bytes_total": .int(status.bytesTotal), "finished": .bool(status.finished), "complete": .bool(status.isComplete),
            "exit_code": status.exitCode.map(JSONValue.int) ?? .null, "last_error": status.lastError.map(JSONValue.string) ?? .null,
        ]
    }

    /// A table in `--json`: its counts and every column's statistics (no series).
    package static func tableJSON(_ table: TableStatistics, columnCount: Int) -> JSONValue {
        [
            "name": .string(table.name), "file": .string(table.fileStem), "rows": .int(Int64(table.rows)),
            "first_step": .int(Int64(table.firstStep)), "last_step": .int(Int64(table.lastStep)),
            "first_time": table.firstTime.isFinite ? .double(table.firstTime) : .null,
            "last_time": table.lastTime.isFinite ? .double(table.lastTime) : .null,
            "column_count": .int(Int64(columnCount)),
            "columns": .array(table.columns.map(columnJSON)),
        ]
    }

    /// A column in `--json`.
    package static func columnJSON(_ column: ColumnStatistics) -> JSONValue {
        [
            "name": .string(column.name), "type": .string(column.type), "count": .int(Int64(column.count)),
            "null_count": .int(Int64(column.nullCount)), "nan_count": .int(Int64(column.nanCount)),
            "last": JSONValue(column.last), "min": column.min.map(JSONValue.double) ?? .null,
            "max": column.max.map(JSONValue.double) ?? .null,
        ]
    }

    // MARK: - Text

    /// The template context of `show` (see templates/README.md).
    package func textContext() -> [String: Any] {
        var model = TemplateContext.styles(context.terminal)
        model["name"] = run.name
        model["status"] = status.rawValue
        model["status_style"] = TemplateContext.lambda(context.terminal, Terminal.style(forStatus: status.rawValue))
        if let detail = statusDetail { model["status_detail"] = detail }
        model["fields"] = TemplateContext.fields(headerFields())
        let config = run.config.map(ConfigFlattening.flatten) ?? []
        model["has_config"] = !config.isEmpty
        model["config"] = TemplateContext.fields(config.map { ($0.key.isEmpty ? "(config)" : "\($0.key)", DisplayFormat.terminalJSON($0.value)) })
            .map { entry -> [String: Any] in
                var e = entry
                e["key"] = entry["label"]
                return e
            }
        if let git { model["git"] = ["fields": TemplateContext.fields(gitFields(git))] }
        let reproductions = run.reproductions()
        if !reproductions.isEmpty {
            model["reproductions"] = [
                "fields": TemplateContext.fields(reproductions.map { reproduction -> (TerminalText, TerminalText) in
                    let headline = reproduction.verdict?["headline"]?.stringValue ?? "no verdict (running, or interrupted)"
                    let style: Terminal.Style = reproduction.verdict?["reproduced"] == true ? .green : .red
                    return ("\(reproduction.name)", context.terminal.paint("\(headline)", reproduction.verdict == nil ? .yellow : style))
                })
            ]
        }
        let remote = remoteFields()
        if !remote.isEmpty { model["remote"] = ["fields": TemplateContext.fields(remote)] }
        // Values the program set with `run.summary[key] = value`.
        if let values = run.metadata?.summary, !values.isEmpty {
            model["summary"] = ["fields": TemplateContext.fields(values.keys.sorted().map { ("\($0)", DisplayFormat.terminalJSON(values[$0]!)) })]
        }
        var notes = problems
        switch summarySource {
        case .sidecar, .none: break
        case .journal: notes.append("no summary.json: tables rebuilt by reading noko.ndjson")
        case .csv: notes.append("no summary.json or noko.ndjson: tables rebuilt by reading the CSV files")
        }
        if let lines = lastOutput {
            model["output"] = ["lines": lines.map(outputLineText), "count": lines.count]
        }
        model["notes"] = notes
        model["has_notes"] = !notes.isEmpty
        return model
    }

    var statusDetail: String? {
        let metadata = run.metadata
        switch status {
        case .finished:
            return metadata?.exitCode.map { "exit \($0)" }
        case .failed:
            var parts: [String] = []
            if let crash = run.crash { parts.append(crash.isEmpty ? "crashed" : "crashed: \(crash)") }
            if let code = metadata?.exitCode { parts.append("exit \(code)") }
            if let signal = metadata?.signal, run.crash == nil { parts.append(signal) }
            return parts.isEmpty ? nil : parts.joined(separator: ", ")
        case .killed:
            let parts = [metadata?.signal, metadata?.exitCode.map { "exit \($0)" }].compactMap { $0 }
            return parts.isEmpty ? nil : parts.joined(separator: ", ")
        case .stale:
            guard let beat = metadata?.heartbeat ?? metadata?.startTime else { return nil }
            return "no heartbeat for \(DisplayFormat.duration(context.now - beat)): the process died without a word"
        case .running:
            guard let beat = metadata?.heartbeat else { return nil }
            return "heartbeat \(DisplayFormat.duration(max(0, context.now - beat))) ago"
        case .unknown:
            return run.source == .pythonNoko ? "a Python noko run: no metadata.json" : "no status recorded"
        }
    }

    func headerFields() -> [(TerminalText, TerminalText)] {
        var fields: [(TerminalText, TerminalText)] = [("path", "\(displayPath)")]
        let metadata = run.metadata
        if let start = startTime { fields.append(("started", "\(DisplayFormat.time(start, timeZone: context.timeZone))")) }
        if let end = endTime { fields.append(("ended", "\(DisplayFormat.time(end, timeZone: context.timeZone))")) }
        if let duration {
            fields.append(("duration", "\(DisplayFormat.duration(duration))\(status == .running ? " so far" : "")"))
        }
        if let error = metadata?.error { fields.append(("error", "\(error)")) }
        // A full disk or a failing one: which files lack rows, and the first error of each.
        if let lost = metadata?.rowsLost.flatMap({ NokoLogger.lossDescription($0) }) {
            fields.append(("rows lost", context.terminal.paint("\(lost)", .yellow)))
        }
        for error in metadata?.writeErrors ?? [] { fields.append(("write error", "\(error)")) }
        if let argv = metadata?.argv, !argv.isEmpty { fields.append(("command", ShellQuote.line(argv))) }
        if let words = run.overrides?.launchWords, !words.isEmpty { fields.append(("launched with", ShellQuote.line(words))) }
        if let links = metadata?.links, !links.isEmpty {
            fields.append(("links", "\(links.keys.sorted().map { "\($0)=\(links[$0]!.serialized())" }.joined(separator: " "))"))
        }
        if let build = metadata?.build {
            let how = [build.configuration, build.compiler.map { "Swift \($0)" }, build.targetTriple].compactMap { $0 }
            let digest = build.sha256.map { ", sha256 \($0.prefix(12))" } ?? ""
            fields.append(("build", "\(build.path ?? build.product ?? "?")\(how.isEmpty ? "" : " (\(how.joined(separator: ", ")))")\(digest)"))
        }
        if let cwd = metadata?.cwd { fields.append(("cwd", "\(cwd)")) }
        if let host = metadata?.host {
            let who = [metadata?.user.map { "user \($0)" }, metadata?.pid.map { "pid \($0)" }].compactMap { $0 }
            fields.append(("host", "\(host)\(who.isEmpty ? "" : " (\(who.joined(separator: ", ")))")"))
        }
        if let world = metadata?.worldSize, world > 1 { fields.append(("rank", "\(metadata?.rank ?? 0) of \(world)")) }
        let rootSeed: TerminalText? = metadata?.seed.map { "\($0)" } ?? run.seeds.map { "\(Int64(bitPattern: $0.root))" }
        if let rootSeed { fields.append(("seed", rootSeed)) }
        if let generators = run.seeds?.generators, !generators.isEmpty {
            fields.append(("seeds", "\(generators.keys.sorted().map { "\($0)=\(generators[$0]!)" }.joined(separator: ", "))"))
        }
        let system = [
            metadata?.os, metadata?.swiftVersion.map { "Swift \($0)" }, metadata?.nokoVersion.map { "noko \($0)" },
        ].compactMap { $0 }
        if !system.isEmpty { fields.append(("system", "\(system.joined(separator: ", "))")) }
        if let text = resources?.text { fields.append(("usage", "\(text)")) }
        if let environment = metadata?.environment, !environment.isEmpty {
            fields.append(("env", "\(environment.keys.sorted().map { "\($0)=\(environment[$0]!)" }.joined(separator: " "))"))
        }
        return fields
    }

    func gitFields(_ git: GitCheckpointRecord) -> [(TerminalText, TerminalText)] {
        func short(_ id: String?) -> String { id.map { String($0.prefix(10)) } ?? "none" }
        func stats(_ s: GitDiffStats) -> String {
            "\(s.filesChanged) file\(s.filesChanged == 1 ? "" : "s"), +\(s.insertions) -\(s.deletions)"
        }
        var fields: [(TerminalText, TerminalText)] = []
        let branch: TerminalText = git.branch.map { "\($0)" } ?? "detached HEAD"
        fields.append(("branch", git.head.map { "\(branch) at \(short($0))" } ?? "\(branch) (no commit yet)"))
        fields.append(("working tree", git.dirty ? "dirty: \(stats(git.fromHead)) from HEAD" : "clean"))
        fields.append((
            "checkpoint",
            "\(short(git.checkpoint)) on \(git.checkpointBranch) (\(DisplayFormat.count(git.files)) files, \(DisplayFormat.bytes(git.bytes)))"
        ))
        if let previous = git.previousCheckpoint {
            fields.append(("since previous", "\(stats(git.fromLastCheckpoint)) from \(short(previous))"))
        }
        if !git.skipped.isEmpty {
            let shown: [TerminalText] = git.skipped.prefix(3).map {
                "\($0.path) (\($0.reason.rawValue.replacingOccurrences(of: "_", with: " ")), \(DisplayFormat.bytes($0.size)))"
            }
            let more: TerminalText = git.skipped.count > 3 ? ", and \(git.skipped.count - 3) more" : ""
            fields.append(("skipped", shown.joined(separator: ", ") + more))
        }
        if let remote = git.remoteURL { fields.append(("remote", "\(remote)")) }
        fields.append(("repository", "\(git.root)"))
        return fields
    }

    func remoteFields() -> [(TerminalText, TerminalText)] {
        wandbFields() + mlflowFields()
    }

    private func mlflowFields() -> [(TerminalText, TerminalText)] {
        guard run.mlflowRecord != nil || mlflowStatus != nil else { return [] }
        let place = mlflowStatus?.record.url ?? run.mlflowRecord?["url"]?.stringValue ?? mlflowStatus?.record.trackingURI
            ?? run.mlflowRecord?["tracking_uri"]?.stringValue ?? "?"
        let upload = mlflowStatus.map { sync in
            UploadState(
                rows: sync.rowsUploaded, bytesUploaded: sync.bytesUploaded, bytesTotal: sync.bytesTotal, isComplete: sync.isComplete,
                rest: sync.finished ? "some artifacts are not" : "the MLflow run is not ended yet", lastError: sync.lastError)
        }
        return [("mlflow", "\(place)")] + uploadFields(upload, command: ShellQuote.line(["noko-run", "sync", "--to", "mlflow", displayPath]))
    }

    private func wandbFields() -> [(TerminalText, TerminalText)] {
        guard run.wandbRecord != nil || wandbStatus != nil else { return [] }
        let record = run.wandbRecord
        let project = record?["project"]?.stringValue ?? wandbStatus?.record.project
        let runID = record?["run_id"]?.stringValue ?? wandbStatus?.record.runID
        let entity = record?["entity"]?.stringValue ?? wandbStatus?.record.entity
        let url = record?["url"]?.stringValue ?? wandbStatus?.record.url
        let mode = record?["mode"]?.stringValue ?? wandbStatus?.record.mode
        let place = url ?? [entity ?? "?", project ?? "?", runID ?? "?"].joined(separator: "/")
        let upload = wandbStatus.map { sync in
            UploadState(
                rows: sync.historyLines, bytesUploaded: sync.bytesUploaded, bytesTotal: sync.bytesTotal, isComplete: sync.isComplete,
                rest: "the remote run is not marked finished yet", lastError: sync.lastError)
        }
        return [("wandb", "\(place)\(mode.map { " (\($0))" } ?? "")")] + uploadFields(upload, command: ShellQuote.line(["noko-run", "sync", displayPath]))
    }

    /// How far an upload to a remote got, as its cursor says.
    private struct UploadState {
        var rows: Int64
        var bytesUploaded: Int64
        var bytesTotal: Int64
        var isComplete: Bool
        /// What is still missing once every row is up.
        var rest: String
        var lastError: String?
    }

    /// A remote's `sync` lines: complete, rows up but the run not ended, or behind; the last
    /// error; the command that finishes it (`upload`: nil when nothing was uploaded yet).
    private func uploadFields(_ upload: UploadState?, command: TerminalText) -> [(TerminalText, TerminalText)] {
        guard let upload else {
            return [("sync", status == .running ? "nothing uploaded yet" : "nothing uploaded yet; upload with: \(command)")]
        }
        var fields: [(TerminalText, TerminalText)] = []
        let rows = "\(DisplayFormat.count(Int(upload.rows))) rows"
        if upload.isComplete {
            fields.append(("sync", "complete: \(rows) uploaded"))
        } else if upload.bytesUploaded >= upload.bytesTotal {
            fields.append(("sync", "\(rows) uploaded; \(upload.rest)"))
        } else {
            let percent = upload.bytesTotal > 0 ? Int(Double(upload.bytesUploaded) / Double(upload.bytesTotal) * 100) : 0
            fields.append((
                "sync",
                "behind: \(DisplayFormat.bytes(upload.bytesUploaded)) of \(DisplayFormat.bytes(upload.bytesTotal)) uploaded (\(percent) %), \(rows)"
            ))
        }
        if let error = upload.lastError { fields.append(("last error", "\(error)")) }
        if !upload.isComplete && status != .running { fields.append(("finish with", command)) }
        return fields
    }

    // MARK: - Tables

    /// A table in the overview: counts, and its most informative columns (or, with
    /// `allColumns`, every column given) as aligned lines.
    package static func overviewTableContext(
        _ table: TableStatistics, top: Int, allColumns: Bool, terminal: Terminal, columnCount: Int
    ) -> [String: Any] {
        // A single row has no trend: its values are the story (a config or results table).
        let shown = allColumns ? table.columns
            : table.rows == 1 ? Array(table.columns.prefix(top)) : ColumnRanking.informative(table.columns, limit: top)
        var model = tableHeader(table, columnCount: columnCount)
        if !allColumns && shown.count < columnCount {
            let note: TerminalText = shown.isEmpty
                ? "no varying numeric column; --table \(ShellQuote.word(table.name)) lists all"
                : "showing \(shown.count) of \(columnCount); --table \(ShellQuote.word(table.name)) lists all"
            model["hidden_note"] = note
        }
        let lines: [TerminalText]
        if table.rows == 1 && !allColumns {
            let rows = shown.map { [cell($0.name, limit: 40), cell(DisplayFormat.scalar($0.last), limit: 48)] }
            lines = TemplateContext.alignedRows([["column", "value"]] + rows)
        } else {
            let header: [TerminalText] = ["column", "last", "min", "max", ""]
            let rows = shown.map { column -> [TerminalText] in
                [
                    cell(column.name, limit: 40), cell(DisplayFormat.scalar(column.last), limit: 24),
                    cell(column.min.map(DisplayFormat.number) ?? ""), cell(column.max.map(DisplayFormat.number) ?? ""),
                    cell(sparkline(column, width: 24)),
                ]
            }
            lines = TemplateContext.alignedRows([header] + rows, rightAligned: [false, true, true, true, false])
        }
        if !shown.isEmpty { model["column_header"] = lines[0].trimmingTrailingSpaces() }
        model["columns"] = zip(shown, lines.dropFirst()).map { column, line in
            columnContext(column, line: line.trimmingTrailingSpaces())
        }
        return model
    }

    /// A table with every (filtered) column and all its statistics, for `show --table`.
    package static func fullTableContext(_ table: TableStatistics, terminal: Terminal, columnCount: Int) -> [String: Any] {
        var model = tableHeader(table, columnCount: columnCount)
        let header: [TerminalText] = ["column", "type", "count", "nulls", "NaN", "last", "min", "max", ""]
        let rows = table.columns.map { column -> [TerminalText] in
            [
                cell(column.name, limit: 48), cell(column.type), cell(DisplayFormat.count(column.count)),
                cell(DisplayFormat.count(column.nullCount)), cell(DisplayFormat.count(column.nanCount)),
                cell(DisplayFormat.scalar(column.last), limit: 24), cell(column.min.map(DisplayFormat.number) ?? ""),
                cell(column.max.map(DisplayFormat.number) ?? ""), cell(sparkline(column, width: 32)),
            ]
        }
        let lines = TemplateContext.alignedRows(
            [header] + rows, rightAligned: [false, false, true, true, true, true, true, true, false])
        model["column_header"] = lines[0].trimmingTrailingSpaces()
        model["columns"] = zip(table.columns, lines.dropFirst()).map { column, line in
            columnContext(column, line: line.trimmingTrailingSpaces())
        }
        return model
    }

    static func tableHeader(_ table: TableStatistics, columnCount: Int) -> [String: Any] {
        let steps = table.rows == 0 ? "no rows" : table.firstStep == table.lastStep ? "step \(table.firstStep)" : "steps \(table.firstStep)–\(table.lastStep)"
        return [
            "name": table.name, "file": table.fileStem, "rows": DisplayFormat.count(table.rows),
            "rows_text": "\(DisplayFormat.count(table.rows)) row\(table.rows == 1 ? "" : "s")", "steps_text": steps,
            "first_step": table.firstStep, "last_step": table.lastStep, "column_count": columnCount,
            "columns_text": "\(columnCount) column\(columnCount == 1 ? "" : "s")",
        ]
    }

    /// A table cell: `value` escaped, then cut to `limit` columns.
    static func cell(_ value: String, limit: Int = .max) -> TerminalText {
        cell(TerminalText(escaping: value), limit: limit)
    }

    /// A table cell: `text` cut to `limit` columns.
    static func cell(_ text: TerminalText, limit: Int = .max) -> TerminalText {
        TextWidth.truncate(text, to: limit)
    }

    static func columnContext(_ column: ColumnStatistics, line: TerminalText) -> [String: Any] {
        var model: [String: Any] = [
            "name": column.name, "type": column.type, "count": column.count, "null_count": column.nullCount,
            "nan_count": column.nanCount, "last": DisplayFormat.scalar(column.last), "line": line,
        ]
        if let low = column.min { model["min"] = DisplayFormat.number(low) }
        if let high = column.max { model["max"] = DisplayFormat.number(high) }
        return model
    }

    /// The column's sparkline from its per-bucket last values.
    package static func sparkline(_ column: ColumnStatistics, width: Int) -> String {
        guard let series = column.series else { return "" }
        return Sparkline.draw(series.last, width: width)
    }
}

extension TerminalText {
    /// The text without the spaces that pad its end.
    func trimmingTrailingSpaces() -> TerminalText {
        var s = Substring(rendered)
        while s.last == " " { s.removeLast() }
        return TerminalText(verbatim: String(s))
    }
}
