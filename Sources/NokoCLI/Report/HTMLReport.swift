import Logging

/// Renders runs into one self-contained HTML page (`templates/report.html.mustache`, or the
/// user's template): a header per run, the configs compared, and a grid of SVG line charts
/// per table.
package enum HTMLReport {
    /// What a rendering produced.
    package struct Output: Sendable {
        /// The page.
        package let html: String
        /// How many charts it holds.
        package let charts: Int
        /// How many curves each chart can have (`--group-by`, `--over`); nil for a report of runs.
        package let groups: Int?
        /// Problems met on the way (a malformed column, a table no run has…); also shown on
        /// the page.
        package let warnings: [String]
    }

    /// Reads `runs`' series as `request` asks and renders the page.
    ///
    /// - Parameters:
    ///   - templateFile: a Mustache template to use instead of the built-in `report.html`.
    ///   - messages: where the loaders' warnings go (a torn last journal line…).
    package static func render(
        runs: [LoadedRun], request: ReportRequest, context: CommandContext, templateFile: String? = nil,
        messages: Logging.Logger
    ) throws -> Output {
        let data = try ReportData(runs: runs, request: request, messages: messages)
        let model = ReportPage(data: data, request: request, context: context).model
        let html = try Templates.render("report.html", context: model, templateFile: templateFile, escaping: .html)
        let charts = data.tables.reduce(0) { $0 + $1.groups.reduce(0) { $0 + $1.figures.count } }
        return Output(
            html: html, charts: charts, groups: data.groups?.groups.count, warnings: (model["warnings"] as? [String]) ?? data.warnings)
    }
}
