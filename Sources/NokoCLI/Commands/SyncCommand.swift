import ArgumentParser
import Foundation
import NokoCore
import NokoMLflow
import NokoRemoteSync
import NokoWandb

/// `noko-run sync RUN…`: upload runs to wandb (or an MLflow tracking server), resuming where
/// the last upload stopped.
package struct SyncCommand: NokoCommand {
    package static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Upload runs to wandb and MLflow: continue from sync/<remote>.json, or create the remote run.",
        discussion: """
            Uploads every journal row the server has not acknowledged, then marks the remote \
            run finished with the run's exit code. Safe to repeat: a run already uploaded is \
            left alone. Needs an API key (WANDB_API_KEY or ~/.netrc); WANDB_BASE_URL, \
            WANDB_ENTITY and WANDB_PROJECT apply to runs that never synced. A progress bar is \
            drawn on a terminal.

            A run goes where it was mirrored (its sync/wandb.json, sync/mlflow.json), and to \
            wandb when it was mirrored nowhere; --to wandb, --to mlflow or --to all (both) \
            choose. MLflow: the tracking server of MLFLOW_TRACKING_URI for a run that never \
            went there (experiment MLFLOW_EXPERIMENT_NAME; credentials \
            MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN), \
            continuing from sync/mlflow.json: the config as params, rows as metrics, the run's \
            files as artifacts, the run's status at the end.

            EXAMPLES
              noko-run sync runs/train_2026-11-27T102738
              noko-run sync runs/*                      every run; exit 1 if any failed
              MLFLOW_TRACKING_URI=http://127.0.0.1:5000 noko-run sync --to mlflow runs/exp1
              noko-run sync --to all runs/exp1          wandb and MLflow

            JSON (--json): {"runs": [...]}, an entry per run and remote: wandb's {run, path, \
            remote: "wandb", ok, url, entity, project, run_id, rows_uploaded, history_lines, \
            already_synced, exit_code, error}, MLflow's {run, path, remote: "mlflow", ok, url, \
            experiment_id, run_id, rows_uploaded, already_synced, error}
            """
    )

    @Argument(help: ArgumentHelp("Run directories (paths, or names under ./runs).", valueName: "run"))
    package var runPaths: [String]

    @Flag(name: .long, help: "Print the outcome per run as JSON.")
    package var json = false

    /// Where the runs go.
    package enum Destination: String, ExpressibleByArgument, CaseIterable, Sendable {
        case wandb, mlflow, all
    }

    @Option(name: .long, help: "The remote: wandb, mlflow or all (default: where each run was mirrored; wandb if nowhere).")
    package var to: Destination?

    package init() {}

    package func validate() throws {
        if runPaths.isEmpty { throw ValidationError("sync needs at least one run") }
    }

    package func run(in context: CommandContext) throws {
        var results: [JSONValue] = []
        var failedRuns = 0
        for path in runPaths {
            let name = URL(fileURLWithPath: path).lastPathComponent
            let url: URL
            do {
                url = try RunLocator.resolve(path, in: context)
            } catch {
                failedRuns += 1
                results.append(Self.failure(error, run: name, path: path, remote: nil, context: context))
                continue
            }
            var failed = false
            for remote in Self.destinations(to, of: url) {
                do {
                    switch remote {
                    case .mlflow:
                        let report = try syncToMLflow(url, context: context)
                        results.append(Self.json(report, run: name, path: url.path))
                        if !json { context.write("\(Self.describe(report, run: name))\n") }
                    case .wandb, .all:
                        let report = try sync(url, context: context)
                        results.append(Self.json(report, run: name, path: url.path))
                        if !json { context.write("\(Self.describe(report, run: name))\n") }
                    }
                } catch {
                    failed = true
                    results.append(Self.failure(error, run: name, path: url.path, remote: remote, context: context))
                }
            }
            if failed { failedRuns += 1 }
        }
        if json { JSONOutput.write(["runs": .array(results)], to: context) }
        if failedRuns > 0 {
            throw CLIError("\(failedRuns) of \(runPaths.count) run\(runPaths.count == 1 ? "" : "s") did not sync")
        }
    }

    /// The remotes a run goes to: those asked for, else those it was mirrored to (a cursor in
    /// `sync/`), else wandb.
    static func destinations(_ asked: Destination?, of run: URL) -> [Destination] {
        switch asked {
        case .wandb?: return [.wandb]
        case .mlflow?: return [.mlflow]
        case .all?: return [.wandb, .mlflow]
        case nil:
            let layout = RunLayout(run)
            let mirrored = [Destination.wandb, .mlflow].filter { FileManager.default.fileExists(atPath: layout.syncCursor($0.rawValue).path) }
            return mirrored.isEmpty ? [.wandb] : mirrored
        }
    }

    /// A run that did not sync to `remote` (nil: not found), said on stderr, as a JSON entry.
    private static func failure(_ error: any Error, run name: String, path: String, remote: Destination?, context: CommandContext) -> JSONValue {
        let place: TerminalText = remote.map { " (\($0.rawValue))" } ?? ""
        let message: TerminalText = error is WandbSyncError || error is SyncJobError ? "\(name)\(place): \(error)" : "\(error)"
        context.note("error: \(message)")
        // JSON keeps the message's values as they are; the terminal gets them escaped.
        let raw = (error as? CLIError)?.message.raw ?? "\(error)"
        return ["run": .string(name), "path": .string(path), "remote": remote.map { .string($0.rawValue) } ?? .null, "ok": false, "error": .string(raw)]
    }

    private func sync(_ url: URL, context: CommandContext) throws -> WandbSyncReport {
        let drawsBar = context.terminal.isInteractive && !json
        var progress: (@Sendable (WandbSyncProgress) -> Void)?
        if drawsBar {
            progress = { (p: WandbSyncProgress) in context.note("\r\(p.bar(width: 30))\u{1B}[K", newline: false) }
        }
        defer { if drawsBar { context.note("") } }
        return try WandbSync.syncRun(
            directory: url, environment: context.environment,
            messages: { message in
                guard message.level >= .info else { return }
                context.note("\(message.level >= .warning ? "warning: " : "")\(message)")
            },
            progress: progress)
    }

    private func syncToMLflow(_ url: URL, context: CommandContext) throws -> MLflowSync.Report {
        try MLflowSync.syncRun(
            directory: url, environment: context.environment,
            messages: { message in
                guard message.level >= .info else { return }
                context.note("\(message.level >= .warning ? "warning: " : "")mlflow: \(message.text)")
            })
    }

    static func describe(_ report: MLflowSync.Report, run: String) -> TerminalText {
        let place = report.record.url ?? report.record.trackingURI
        if report.alreadySynced { return "\(run): already synced \(place)" }
        return "\(run): uploaded \(DisplayFormat.count(Int(report.rowsUploaded))) rows: \(place)"
    }

    static func json(_ report: MLflowSync.Report, run: String, path: String) -> JSONValue {
        [
            "run": .string(run), "path": .string(path), "remote": "mlflow", "ok": true, "url": report.record.url.map(JSONValue.string) ?? .null,
            "experiment_id": report.record.experimentID.map(JSONValue.string) ?? .null,
            "run_id": report.record.runID.map(JSONValue.string) ?? .null, "rows_uploaded": .int(report.rowsUploaded),
            "already_synced": .bool(report.alreadySynced), "error": .null,
        ]
    }

    static func describe(_ report: WandbSyncReport, run: String) -> TerminalText {
        let place = report.record.url ?? "\(report.record.entity ?? "?")/\(report.record.project)/\(report.record.runID)"
        if report.alreadySynced { return "\(run): already synced (\(DisplayFormat.count(Int(report.historyLines))) rows) \(place)" }
        return "\(run): uploaded \(DisplayFormat.count(Int(report.rowsUploaded))) rows (\(DisplayFormat.count(Int(report.historyLines))) in total), finished with exit code \(report.exitCode): \(place)"
    }

    static func json(_ report: WandbSyncReport, run: String, path: String) -> JSONValue {
        [
            "run": .string(run), "path": .string(path), "remote": "wandb", "ok": true, "url": report.record.url.map(JSONValue.string) ?? .null,
            "entity": report.record.entity.map(JSONValue.string) ?? .null, "project": .string(report.record.project),
            "run_id": .string(report.record.runID), "rows_uploaded": .int(report.rowsUploaded),
            "history_lines": .int(report.historyLines), "already_synced": .bool(report.alreadySynced),
            "exit_code": .int(Int64(report.exitCode)), "error": .null,
        ]
    }
}
