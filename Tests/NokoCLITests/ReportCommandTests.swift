import Foundation
import NokoCore
import Testing

@testable import NokoCLI

/// `noko-run report` end to end: fixture runs logged through noko's outputs, the page
/// rendered by the command, and the page checked by `python/check_report.py` (html5lib in
/// strict mode) against the runs' `summary.json`.
@Suite struct ReportCommandTests {
    static let configA: JSONValue = ["lr": 0.1, "model": ["depth": 4, "name": "mlp"], "seed": 1, "tags": ["x", "y"]]
    static let configB: JSONValue = ["lr": 0.01, "model": ["depth": 4, "name": "mlp"], "seed": 2, "tags": ["x", "y"], "extra": true]

    /// The spec for two `chartRun`s made with `configA` and `configB`.
    static func spec(_ runs: [URL], columns: [String] = Fixtures.chartColumns(), smoothed: Bool = false) -> JSONValue {
        let selected = Set(columns)
        // One run differs from nobody.
        let differing: JSONValue = runs.count > 1 ? ["lr", "seed", "extra"] : []
        let same: JSONValue = runs.count > 1 ? ["model/depth", "model/name", "tags"] : ["lr", "seed", "model/depth", "tags"]
        func only(_ names: [String]) -> JSONValue { .array(names.filter(selected.contains).map { .string($0) }) }
        return [
            "runs": .array(runs.map { .string($0.path) }),
            "columns": .array(columns.map { .string($0) }),
            "differing": differing,
            "same": same,
            "log": only(["train/loss", "train/train/grad_norm"]),
            "linear_only": only(["train/train/acc", "train/negative", "epoch/acc", "train/eval/score", "train/weird", "train/flag"]),
            "marks": selected.contains("train/weird") ? ["train/weird": ["nan", "posinf", "neginf"]] : [:],
            "smoothed": .bool(smoothed),
        ]
    }

    @discardableResult
    func twoRuns(_ fixtures: Fixtures) throws -> [URL] {
        [
            try fixtures.chartRun("alpha", rows: 3000, seed: 1, config: Self.configA),
            try fixtures.chartRun("beta", rows: 2500, seed: 2, config: Self.configB, nonFinite: false, host: "box-2"),
        ]
    }

    @Test(.enabled(if: ReportPython.isAvailable, "python3 with html5lib is not installed (pip install html5lib)"))
    func summaryReportParsesStrictlyAndDrawsEveryColumnWithItsExtremes() throws {
        let fixtures = Fixtures()
        let runs = try twoRuns(fixtures)
        let context = fixtures.context()
        try fixtures.run(["report", "runs/alpha", "runs/beta", "-o", "out/report.html"], context: context)
        let page = fixtures.url("out/report.html")
        let output = try ReportPython.check(page, spec: Self.spec(runs))
        #expect(output.hasPrefix("ok"))
        #expect(context.capturedError.contains("wrote \(page.path)"))
        #expect(context.capturedError.contains("8 charts of 2 runs"))
    }

    @Test(.enabled(if: ReportPython.isAvailable, "python3 with html5lib is not installed (pip install html5lib)"))
    func fullSmoothedReportParsesStrictlyAndKeepsTheExtremes() throws {
        let fixtures = Fixtures()
        let runs = try twoRuns(fixtures)
        try fixtures.run(["report", "runs/alpha", "runs/beta", "--full", "--smooth", "25", "-o", "full.html"])
        try ReportPython.check(fixtures.url("full.html"), spec: Self.spec(runs, smoothed: true))
    }

    @Test(.enabled(if: ReportPython.isAvailable, "python3 with html5lib is not installed (pip install html5lib)"))
    func tablesAndColumnsSelectCharts() throws {
        let fixtures = Fixtures()
        let runs = try twoRuns(fixtures)
        try fixtures.run(["report", "runs/alpha", "runs/beta", "--tables", "epoch", "-o", "epoch.html"])
        try ReportPython.check(fixtures.url("epoch.html"), spec: Self.spec(runs, columns: ["epoch/acc"]))
        try fixtures.run(["report", "runs/alpha", "runs/beta", "--columns", "loss,eval/*", "-o", "columns.html"])
        try ReportPython.check(fixtures.url("columns.html"), spec: Self.spec(runs, columns: ["train/loss", "train/eval/score"]))
        // A pattern may name the table too.
        try fixtures.run(["report", "runs/alpha", "--columns", "epoch/*", "-o", "qualified.html"])
        try ReportPython.check(fixtures.url("qualified.html"), spec: Self.spec([runs[0]], columns: ["epoch/acc"]))
    }

    @Test(.enabled(if: ReportPython.isAvailable, "python3 with html5lib is not installed (pip install html5lib)"))
    func pythonNokoRunIsChartedFromItsRows() throws {
        let fixtures = Fixtures()
        let run = try fixtures.pythonRun(rows: 40)
        for extra in [[], ["--full"]] {
            let context = fixtures.context()
            try fixtures.run(["report", "runs/py_run", "-o", "py.html"] + extra, context: context)
            // No summary.json: write the one noko would have, so the checker has its truth.
            let summary = try StatisticsRebuild.fromJournal(
                run.appendingPathComponent("noko.ndjson").path, allowsNonFiniteLiterals: true, messages: Fixtures.quietMessages)
            let truth = fixtures.url("py_truth")
            try FileManager.default.createDirectory(at: truth, withIntermediateDirectories: true)
            try Data(summary.encoded()).write(to: truth.appendingPathComponent("summary.json"))
            var spec = Self.spec([truth], columns: ["w1_rows.py:133/loss", "w1_rows.py:133/reward"])
            spec = spec.replacing("marks", with: ["w1_rows.py:133/loss": ["nan", "posinf"]])
                .replacing("differing", with: []).replacing("same", with: [])
            try ReportPython.check(fixtures.url("py.html"), spec: spec)
        }
    }

    /// The checker is only worth something if it fails on broken pages: each mutation below
    /// breaks one property, and the script must say so.
    @Test(.enabled(if: ReportPython.isAvailable, "python3 with html5lib is not installed (pip install html5lib)"))
    func checkerRejectsBrokenPages() throws {
        let fixtures = Fixtures()
        let runs = try twoRuns(fixtures)
        let good = try fixtures.run(["report", "runs/alpha", "runs/beta", "-o", "-"])
        let spec = Self.spec(runs)
        let mutations: [(String, (String) -> String, String)] = [
            ("stray end tag", { $0.replacingOccurrences(of: "<h2>Runs</h2>", with: "<h2>Runs</h2></span>") }, "not strict HTML5"),
            ("external script", { $0.replacingOccurrences(of: "<script>", with: "<script src=\"https://x.example/a.js\"></script><script>") },
             "external script"),
            ("missing chart", { $0.replacingOccurrences(of: "data-column=\"epoch/acc\"", with: "data-column=\"epoch/other\"") },
             "no chart for the selected column 'epoch/acc'"),
            ("NaN coordinate", { page in
                guard let range = page.range(of: "class=\"line\" fill=\"none\" stroke=\"currentColor\" d=\"M") else { return page }
                return page.replacingCharacters(in: range, with: "class=\"line\" fill=\"none\" stroke=\"currentColor\" d=\"Mnan nan ")
            }, "not a finite number"),
            ("clipped extreme", { page in
                // Pull every band and line of the spike chart down to the plot's middle band.
                guard let start = page.range(of: "data-column=\"train/train/grad_norm\""),
                    let end = page.range(of: "</figure>", range: start.upperBound..<page.endIndex)
                else { return page }
                let figure = String(page[start.lowerBound..<end.upperBound])
                let clipped = figure.replacingOccurrences(
                    of: #"(class="(?:band|line)[^"]*"[^>]*d=")[^"]*""#, with: "$1M60 100 300 100\"", options: .regularExpression)
                return page.replacingCharacters(in: start.lowerBound..<end.upperBound, with: clipped)
            }, "the drawn max is at"),
            ("run left out of a chart", { page in
                // Drop run 1's lines from the loss chart, leaving run 0's intact.
                guard let start = page.range(of: "data-column=\"train/loss\""),
                    let end = page.range(of: "</figure>", range: start.upperBound..<page.endIndex)
                else { return page }
                let figure = String(page[start.lowerBound..<end.upperBound])
                let without = figure.replacingOccurrences(
                    of: #"<g class="run r1" data-run="1"[^>]*>.*?</g>"#, with: "", options: .regularExpression)
                return page.replacingCharacters(in: start.lowerBound..<end.upperBound, with: without)
            }, "run 1 has data in 'train/loss' but is not drawn"),
            ("unmarked difference", { $0.replacingOccurrences(of: "<tr data-key=\"lr\" class=\"differs\">", with: "<tr data-key=\"lr\" class=\"same\">") },
             "config key 'lr' differs between runs but its row is not marked"),
        ]
        for (name, mutate, message) in mutations {
            let broken = mutate(good)
            #expect(broken != good, "mutation \(name) changed nothing")
            let url = fixtures.url("broken.html")
            try Data(broken.utf8).write(to: url)
            let verdict = try ReportPython.verdict(url, spec: spec)
            #expect(verdict.status == 1, "the checker accepted a page with a \(name)")
            #expect(verdict.output.contains(message), "\(name): \(verdict.output)")
        }
    }

    @Test func pageIsSelfContainedAndMarksWhatItShows() throws {
        let fixtures = Fixtures()
        try twoRuns(fixtures)
        let html = try fixtures.run(["report", "runs/alpha", "runs/beta", "-o", "-"])
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        // The only URLs on the page are the SVG and XLink namespace names, which load nothing.
        let namespaces = ["http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"]
        let urls = html.matches(of: /https?:\/\/[^"'\s<>)]*/).map { String($0.output) }
        #expect(urls.allSatisfy(namespaces.contains), "\(Set(urls).subtracting(namespaces))")
        #expect(!html.contains("src=\"") && !html.contains("url("))
        #expect(!html.contains("<link"))
        #expect(html.contains("<svg class=\"chart-svg\""))
        // Each run's header: name, status, host, seed, branch and checkpoint.
        for expected in [
            "<strong>alpha</strong>", "<strong>beta</strong>", "<span class=\"status status-finished\">finished</span>",
            "<td>box-1</td>", "<td>box-2</td>", "<td class=\"mono\">main</td>", ">1111111111<", ">2222222222<",
            "<td class=\"num\">1m 35s</td>", "<td class=\"num mono\">2</td>",
        ] {
            #expect(html.contains(expected), "the page should show \(expected)")
        }
        #expect(html.contains("<tr data-key=\"lr\" class=\"differs\">"))
        #expect(html.contains("<tr data-key=\"model/depth\" class=\"same\">"))
        #expect(html.contains("3 of 6 differ"))
        // TensorBoard-style groups: eval/ and train/ get their own headings.
        #expect(html.contains("<h3><code>eval/</code></h3>"))
        #expect(html.contains("<h3><code>train/</code></h3>"))
        #expect(html.contains("NaN ×3"))
        // The string column is not charted.
        #expect(!html.contains("data-column=\"train/phase\""))
        // A table of one row per run is shown as values, strings included, differences marked.
        #expect(!html.contains("data-column=\"final/score\""))
        #expect(html.contains("<tr class=\"differs\"><th scope=\"row\">score</th><td class=\"differs\">0.91</td><td class=\"differs\">0.92</td></tr>"))
        #expect(html.contains("<tr class=\"same\"><th scope=\"row\">verdict</th><td class=\"\">ok</td><td class=\"\">ok</td></tr>"))
    }

    @Test(.enabled(if: ReportPython.isAvailable, "python3 with html5lib is not installed (pip install html5lib)"))
    func runWithoutRowsGetsAPageWithoutCharts() throws {
        let fixtures = Fixtures()
        let run = fixtures.url("runs/empty")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        try fixtures.write(["format_version": 1, "run_name": "empty", "status": "running", "start_time": .double(Fixtures.start)],
                           to: run.appendingPathComponent("metadata.json"))
        // The checker reads each run's summary.json: an empty one, as a run writes at its first flush.
        try fixtures.write(["format_version": 1, "tables": [:]], to: run.appendingPathComponent("summary.json"))
        try fixtures.run(["report", "runs/empty", "-o", "empty.html"])
        let html = try String(contentsOf: fixtures.url("empty.html"), encoding: .utf8)
        #expect(html.contains("No rows logged yet."))
        #expect(html.contains("<span class=\"status status-running\">running</span>"))
        try ReportPython.check(fixtures.url("empty.html"), spec: ["runs": [.string(run.path)], "columns": []])
    }

    @Test func nanTheSummaryCannotPlaceIsPlacedFromTheRowsOrSaidToBeUnplaced() throws {
        let fixtures = Fixtures()
        let run = try fixtures.chartRun("alpha", rows: 3000, seed: 1, config: Self.configA)
        let placed = try fixtures.run(["report", "runs/alpha", "-o", "-"])
        #expect(placed.contains("alpha: train read row by row to place NaN values that summary.json only counts"))
        // The NaN at rows 100–102 share a bucket with row 103: only the rows place them.
        #expect(placed.contains("class=\"mark nan\""))
        for file in ["noko.ndjson", "train.csv", "epoch.csv", "final.csv"] {
            try FileManager.default.removeItem(at: run.appendingPathComponent(file))
        }
        let unplaced = try fixtures.run(["report", "runs/alpha", "-o", "-"])
        #expect(unplaced.contains("alpha: train: summary.json counts NaN values it cannot place, and there are no rows to read"))
        #expect(unplaced.contains("NaN ×3"))
    }

    @Test func writesToStandardOutputWithDash() throws {
        let fixtures = Fixtures()
        try fixtures.chartRun("alpha", rows: 50, seed: 1, config: Self.configA)
        let context = fixtures.context()
        let html = try fixtures.run(["report", "alpha", "-o", "-"], context: context)
        #expect(html.hasSuffix("</html>\n"))
        #expect(!context.capturedError.contains("wrote"))
        #expect(!FileManager.default.fileExists(atPath: fixtures.url("report.html").path))
    }

    @Test func userTemplateSeesTheDocumentedNames() throws {
        let fixtures = Fixtures()
        try twoRuns(fixtures)
        let template = fixtures.url("mine.mustache")
        try Data("{{#runs}}{{name}}={{colour}};{{/runs}}|{{#tables}}{{name}}:{{#groups}}{{#charts}}{{column}},{{/charts}}{{/groups}};{{/tables}}|{{config_differs}}"
            .utf8).write(to: template)
        let out = try fixtures.run(["report", "runs/alpha", "runs/beta", "--columns", "acc", "--template", template.path, "-o", "-"])
        // `acc` has no wildcard: it matches the key `acc` exactly, not `train/acc`.
        #expect(out == "alpha=#0072B2;beta=#E69F00;|epoch:epoch/acc,;|3 of 6 differ")
    }

    @Test func unknownTableIsAnErrorNamingIt() throws {
        let fixtures = Fixtures()
        try fixtures.chartRun("alpha", rows: 20, seed: 1, config: Self.configA)
        #expect(throws: CLIError("no run has the table \"nope\"")) {
            try fixtures.run(["report", "runs/alpha", "--tables", "nope", "-o", "x.html"])
        }
        // One known table of two: the other is a warning, on the page and on stderr.
        let context = fixtures.context()
        try fixtures.run(["report", "runs/alpha", "--tables", "epoch", "nope", "-o", "x.html"], context: context)
        #expect(context.capturedError.contains("warning: no run has the table \"nope\"; left out"))
        #expect(try String(contentsOf: fixtures.url("x.html"), encoding: .utf8).contains("no run has the table &quot;nope&quot;"))
    }

    @Test func columnsMatchingNothingIsAnError() throws {
        let fixtures = Fixtures()
        try fixtures.chartRun("alpha", rows: 20, seed: 1, config: Self.configA)
        #expect(throws: CLIError("--columns 'nothing*' matches no numeric column of the selected tables")) {
            try fixtures.run(["report", "runs/alpha", "--columns", "nothing*"])
        }
    }

    @Test func badArgumentsAreUsageErrors() throws {
        let fixtures = Fixtures()
        try fixtures.chartRun("alpha", rows: 20, seed: 1, config: Self.configA)
        /// The exit status `noko-run` gives for the error `arguments` end with, and its text.
        func failure(_ arguments: [String]) -> (status: Int32, message: String)? {
            do {
                try fixtures.run(arguments)
                return nil
            } catch {
                return (NokoRun.exitStatus(for: error), "\(error)")
            }
        }
        for arguments in [["report", "runs/alpha", "--smooth", "0"], ["report"], ["report", "--tables", fixtures.url("runs/alpha").path]] {
            let result = failure(arguments)
            #expect(result?.status == 64, "\(arguments): \(String(describing: result))")
        }
        #expect(failure(["report", "--tables", fixtures.url("runs/alpha").path])?.message.contains("looks like a run, not a table") == true)
        // A run that is not there is a runtime failure, not a usage error.
        let missing = failure(["report", fixtures.url("runs/missing").path])
        #expect(missing?.status == 1)
        #expect(missing?.message == "\(fixtures.url("runs/missing").path): no such run directory")
    }

    @Test func malformedSummaryColumnIsLeftOutWithAWarning() throws {
        let fixtures = Fixtures()
        let run = try fixtures.chartRun("alpha", rows: 30, seed: 1, config: Self.configA, nonFinite: false)
        let summaryURL = run.appendingPathComponent("summary.json")
        var summary = try JSONValue(parsing: [UInt8](Data(contentsOf: summaryURL)))
        // Cut `negative`'s min series short.
        guard case .object(var top) = summary, case .object(var tables) = top["tables"]!, case .object(var train) = tables["train"]!,
            case .object(var columns) = train["columns"]!, case .object(var negative) = columns["negative"]!,
            case .object(var series) = negative["series"]!, case .array(let mins) = series["min"]!
        else {
            Issue.record("unexpected summary shape")
            return
        }
        series["min"] = .array(Array(mins.prefix(3)))
        negative["series"] = .object(series)
        columns["negative"] = .object(negative)
        train["columns"] = .object(columns)
        tables["train"] = .object(train)
        top["tables"] = .object(tables)
        summary = .object(top)
        try Data(summary.serializedBytes()).write(to: summaryURL)
        let context = fixtures.context()
        let html = try fixtures.run(["report", "runs/alpha", "-o", "-"], context: context)
        #expect(context.capturedError.contains("column \"negative\": series of 3/30/30 min/max/last values for 30 series_step entries; not charted"))
        #expect(!html.contains("data-column=\"train/negative\""))
        #expect(html.contains("data-column=\"train/loss\""))
    }
}
