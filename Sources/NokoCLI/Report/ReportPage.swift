import Foundation
import Noko
import NokoCore
import NokoGit

/// The template context of `report.html.mustache`: plain dictionaries, arrays, strings and
/// booleans, so a user's `--template` sees exactly the names documented here.
///
/// Top level: `title`, `generated` (time), `noko_version`, `source_note`, `smoothing`
/// (text or absent), `runs`, `has_config`, `config_rows`, `config_differs` (count text),
/// `tables`, `warnings`, `has_warnings`, `notes` (how some charts were made); in a grouped
/// report (`--group-by`, `--over`) `grouped` (true), `grouping` (`by lr`, `over seed`) and
/// `run_groups`.
/// - `runs[]`: `index`, `colour` (its group's when grouped), `dash` (SVG dash pattern or ""),
///   `name`, `path`, `status`, `status_detail`, `started`, `duration`, `host`, `seed`,
///   `branch`, `commit`, `commit_short`, `head_short`, `dirty`, `source`; when grouped,
///   `group` (its group's `label`) and `group_index`.
/// - `run_groups[]`: `index`, `colour`, `dash`, `name` (`lr=0.1`), `label` (`lr=0.1 (n=3)`),
///   `count`, `runs[]` (names).
/// - `config_rows[]`: `key`, `differs`, `cells[]` (`value`, `missing`, `differs`, `run`).
/// - `tables[]`: `name`, `id`, `rows` (text), `has_charts`, `groups[]` (`name`, `has_name`,
///   `legend[]` (`index`, `colour`, `name`, `toggle`: the id of the checkbox that shows it,
///   `show-<run>`, or `group-<group>` for a group's `label`), `charts[]`); a table with at
///   most one row per run has `has_values` and `values[]` (`key`, `differs`, `cells[]` as in
///   `config_rows`) instead of charts.
/// - `charts[]`: `column` (`table/key`), `key`, `id`, `svg` (markup), `has_log`, `log_svg`,
///   `min`, `max` (exact, for scripts and tests), `range` (text), `notes[]`.
struct ReportPage {
    let data: ReportData
    let request: ReportRequest
    let context: CommandContext

    var model: [String: Any] {
        let names = data.runs.map(\.name)
        var warnings = data.warnings
        let runs = self.runs(problems: &warnings)
        var model: [String: Any] = [
            "title": names.count == 1 ? names[0] : "\(names.count) runs",
            "generated": DisplayFormat.time(context.now, timeZone: context.timeZone),
            "noko_version": Noko.version,
            "source_note": sourceNote,
            "runs": runs,
            "tables": tables,
            "warnings": warnings,
            "notes": data.notes,
            "has_warnings": !warnings.isEmpty,
        ]
        if let smoothing = request.smoothing {
            model["smoothing"] = "moving average over \(DisplayFormat.count(smoothing)) row\(smoothing == 1 ? "" : "s")"
        }
        let comparison = ConfigComparison(data.runs.map(\.config))
        model["has_config"] = !comparison.rows.isEmpty
        model["config_rows"] = comparison.rows.map { row -> [String: Any] in
            [
                "key": row.key.isEmpty ? "(config)" : row.key, "differs": row.differs,
                "cells": row.values.enumerated().map { i, value -> [String: Any] in
                    ["value": value ?? "—", "missing": value == nil, "differs": row.differs, "run": i]
                },
            ]
        }
        if let groups = data.groups {
            model["grouped"] = true
            model["grouping"] = groups.caption
            model["run_groups"] = groups.groups.enumerated().map { g, group -> [String: Any] in
                let style = RunStyle(index: g)
                return [
                    "index": g, "colour": style.colour, "dash": style.dash ?? "", "name": group.name, "label": group.label,
                    "count": group.runs.count, "runs": group.runs.map { data.runs[$0].name },
                ]
            }
        }
        let differing = comparison.differingCount
        model["config_differs"] = data.runs.count < 2
            ? "" : differing == 0 ? "identical in every run" : "\(differing) of \(comparison.rows.count) differ"
        model["has_differences"] = differing > 0
        return model
    }

    private var sourceNote: String {
        if request.full { return "every row (read from the journal or CSV files)" }
        let rebuilt = data.sources.filter { $0 != .sidecar && $0 != .none }
        let base = "summary.json's series (min/max/last of ≤ \(StatisticsOutput.maxBuckets) buckets per column: every spike kept)"
        return rebuilt.isEmpty ? base : base + "; rebuilt from the rows for runs without one"
    }

    private func runs(problems: inout [String]) -> [[String: Any]] {
        data.runs.enumerated().map { i, run in
            let view = RunView(
                run: run, summary: data.summaries[i] ?? RunStatistics(tables: []),
                summarySource: data.sources[i], context: context)
            let group = data.groups?.groupOfRun[i]
            let style = RunStyle(index: group ?? i)
            let git = run.gitRecord { problems.append($0) }
            let seed = run.metadata?.seed.map { String($0) } ?? run.seeds.map { String(Int64(bitPattern: $0.root)) }
            var entry: [String: Any] = [
                "index": i, "colour": style.colour, "dash": style.dash ?? "", "name": run.name, "path": view.displayPath,
                "status": view.status.rawValue, "status_detail": view.statusDetail ?? "",
                "started": view.startTime.map { DisplayFormat.time($0, timeZone: context.timeZone) } ?? "—",
                "duration": duration(view, summary: data.summaries[i]),
                "host": run.metadata?.host ?? "—", "seed": seed ?? "—", "source": run.source.rawValue,
            ]
            entry["branch"] = git.map { $0.branch ?? "detached HEAD" } ?? "—"
            entry["commit"] = git?.checkpoint ?? ""
            entry["commit_short"] = git.map { String($0.checkpoint.prefix(10)) } ?? "—"
            entry["head_short"] = git?.head.map { String($0.prefix(10)) } ?? ""
            entry["dirty"] = git?.dirty ?? false
            if let group, let groups = data.groups {
                entry["group"] = groups.groups[group].label
                entry["group_index"] = group
            }
            return entry
        }
    }

    /// The recorded duration; for a run that recorded no end (no status: `Noko.initialize`,
    /// Python noko), the time from its start to its last row, marked as such.
    private func duration(_ view: RunView, summary: RunStatistics?) -> String {
        if let duration = view.duration {
            return DisplayFormat.duration(duration) + (view.status == .running ? " so far" : "")
        }
        let lastRow = summary?.tables.map(\.lastTime).filter(\.isFinite).max()
        guard let start = view.startTime, let lastRow, lastRow >= start else { return "—" }
        return DisplayFormat.duration(lastRow - start) + " to the last row"
    }

    private var tables: [[String: Any]] {
        var chartNumber = 0
        return data.tables.enumerated().map { t, table in
            let counts = Set(table.rows.compactMap { $0 })
            let rows: [String]
            if counts.count == 1, let n = counts.first {
                let each = data.runs.count == 1 ? "" : table.rows.contains(nil) ? " in the runs that have it" : " in each run"
                rows = ["\(DisplayFormat.count(n)) row\(n == 1 ? "" : "s")\(each)"]
            } else {
                rows = zip(data.runs, table.rows).compactMap { run, rows in
                    rows.map { "\(run.name): \(DisplayFormat.count($0)) row\($0 == 1 ? "" : "s")" }
                }
            }
            return [
                "name": table.name, "id": "table-\(t)", "rows": rows.joined(separator: " · "),
                "has_charts": table.groups.contains { !$0.figures.isEmpty },
                "has_values": !table.values.isEmpty,
                "values": table.values.map { row -> [String: Any] in
                    let differs = data.runs.count > 1 && Set(row.cells).count > 1
                    return [
                        "key": row.key, "differs": differs,
                        "cells": row.cells.map { ["value": $0 ?? "—", "missing": $0 == nil, "differs": differs] as [String: Any] },
                    ]
                },
                "groups": table.groups.map { group -> [String: Any] in
                    [
                        "name": group.name, "has_name": !group.name.isEmpty, "legend": legend(group.figures),
                        "charts": group.figures.map { figure -> [String: Any] in
                            chartNumber += 1
                            return chart(figure, id: "chart-\(chartNumber)")
                        },
                    ]
                },
            ]
        }
    }

    /// The runs drawn in `figures`, or in a grouped report their groups.
    private func legend(_ figures: [ChartFigure]) -> [[String: Any]] {
        if let groups = data.groups {
            return Set(figures.flatMap(\.curves)).sorted().map { g -> [String: Any] in
                ["index": g, "colour": RunStyle(index: g).colour, "name": groups.groups[g].label, "toggle": "group-\(g)"]
            }
        }
        return Set(figures.flatMap(\.runs)).sorted().map { i -> [String: Any] in
            ["index": i, "colour": RunStyle(index: i).colour, "name": data.runs[i].name, "toggle": "show-\(i)"]
        }
    }

    private func chart(_ figure: ChartFigure, id: String) -> [String: Any] {
        var entry: [String: Any] = [
            "column": figure.table + "/" + figure.key, "key": figure.key, "id": id, "svg": figure.linearSVG,
            "has_log": figure.logSVG != nil, "log_svg": figure.logSVG ?? "", "notes": figure.notes,
            "min": figure.minimum.map { "\($0)" } ?? "", "max": figure.maximum.map { "\($0)" } ?? "",
        ]
        if let low = figure.minimum, let high = figure.maximum {
            entry["range"] = "\(AxisLabels.value(low)) … \(AxisLabels.value(high))"
        } else {
            entry["range"] = "no finite value"
        }
        return entry
    }
}
