import Foundation
import NokoCore
import NokoTestSupport
import Testing

@testable import NokoCLI

/// `noko-run report --group-by/--over` end to end: real sweeps and real runs of the test
/// child, the page checked by `python/check_report.py` against curves this file computes from
/// the runs' journals, row by row.
@Suite(.serialized) struct ReportGroupsTests {
    static let child = SweepCommandTests.child

    /// The rows of `table` in a run's journal, in order.
    static func journalRows(_ run: URL, table: String) throws -> [JSONValue] {
        let text = try String(contentsOf: RunLayout(run).journal, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONValue(parsing: String($0)) }.filter { $0["$table"]?.stringValue == table }
    }

    /// The curve `runs` must make of `key`: the i-th rows of the runs that have one together,
    /// at the step of the longest run's i-th row; the mean and sample standard deviation.
    static func expectedCurve(_ name: String, runs: [URL], table: String, key: String) throws -> JSONValue {
        let rows = try runs.map { try journalRows($0, table: table) }
        let longest = rows.indices.reduce(0) { rows[$1].count > rows[$0].count ? $1 : $0 }
        var steps: [JSONValue] = [], means: [JSONValue] = [], stds: [JSONValue] = [], counts: [JSONValue] = []
        for i in rows[longest].indices {
            let values = rows.compactMap { i < $0.count ? $0[i][key]?.doubleValue : nil }
            steps.append(.double(try #require(rows[longest][i]["$step"]?.doubleValue)))
            counts.append(.int(Int64(values.count)))
            guard !values.isEmpty else {
                means.append(.null)
                stds.append(.null)
                continue
            }
            var sum = 0.0
            for v in values { sum += v }
            let mean = sum / Double(values.count)
            means.append(.double(mean))
            if values.count < 2 {
                stds.append(.null)
            } else {
                var squares = 0.0
                for v in values { squares += (v - mean) * (v - mean) }
                stds.append(.double((squares / Double(values.count - 1)).squareRoot()))
            }
        }
        return ["name": .string(name), "step": .array(steps), "mean": .array(means), "std": .array(stds), "n": .array(counts)]
    }

    /// Runs `noko-test-child trial OVERRIDES…` as a plain run `runs/NAME` (no sweep).
    @discardableResult
    static func trialRun(_ fixtures: Fixtures, _ name: String, _ overrides: [String]) throws -> URL {
        let result = try NokoRunTests.execute(
            child, ["trial"] + overrides, environment: ["NOKO_RUNS_DIR": fixtures.url("runs").path, "NOKO_RUN_NAME": name],
            in: fixtures.root)
        #expect(result.status == 0, "\(result.stderr)")
        return fixtures.url("runs/\(name)")
    }

    /// The `data-` lists of the curve named `name` in the first chart of `column`.
    static func curveData(_ html: String, column: String, name: String) throws -> [String: [Double]] {
        let start = try #require(html.range(of: "data-column=\"\(column)\""))
        let end = try #require(html.range(of: "</figure>", range: start.upperBound..<html.endIndex))
        let figure = html[start.upperBound..<end.lowerBound]
        let curve = try #require(figure.range(of: "<g class=\"curve g[0-9]+\" data-group=\"[0-9]+\" data-name=\"\(name)\"[^>]*>", options: .regularExpression))
        let tag = String(figure[curve])
        var data: [String: [Double]] = [:]
        for key in ["step", "mean", "std", "n"] {
            let value = try #require(tag.firstMatch(of: try Regex("data-\(key)=\"([^\"]*)\"")))
            data[key] = (value.output[1].substring ?? "").split(separator: " ").map { Double(String($0))! }
        }
        return data
    }

    @Test(.enabled(if: ReportPython.isAvailable, "python3 with html5lib is not installed (pip install html5lib)"))
    func aSweepsCurvesAreItsTrialsMeanAndStdRowByRow() throws {
        let fixtures = try SweepCommandTests.repository()
        let result = SweepCommandTests.sweep(fixtures, ["grid", "lr=0.1,0.01", "seed=range(3)", "--", Self.child, "trial", "epochs=4"])
        #expect(result.error == nil, "\(result.err)")
        let trials = (0..<6).map { fixtures.url("runs/grid/t00\($0)") }
        var curves: [String: JSONValue] = [:]
        for key in ["test_accuracy", "width"] {
            curves["epoch/" + key] = .array([
                try Self.expectedCurve("lr=0.1", runs: Array(trials[0..<3]), table: "epoch", key: key),
                try Self.expectedCurve("lr=0.01", runs: Array(trials[3..<6]), table: "epoch", key: key),
            ])
        }
        let spec: JSONValue = [
            "runs": .array(trials.map { .string($0.path) }), "columns": ["epoch/test_accuracy", "epoch/width"],
            "differing": ["lr", "seed"], "same": ["epochs", "hidden"], "grouped": true, "curves": .object(curves),
        ]
        // Over the seed, or by the learning rate: the same two curves.
        for (file, grouping) in [("over.html", ["--over", "seed"]), ("by.html", ["--group-by", "lr"])] {
            let context = fixtures.context()
            try fixtures.run(["report", "runs/grid", "--tables", "epoch", "-o", file] + grouping, context: context)
            try ReportPython.check(fixtures.url(file), spec: spec)
            #expect(context.capturedError.contains("2 charts of 6 runs, 2 groups"), "\(context.capturedError)")
            let html = try String(contentsOf: fixtures.url(file), encoding: .utf8)
            #expect(html.contains("<label for=\"group-0\"><span class=\"swatch\" style=\"background:#0072B2\"></span>lr=0.1 (n=3)</label>"))
            #expect(html.contains("<label for=\"group-1\"><span class=\"swatch\" style=\"background:#E69F00\"></span>lr=0.01 (n=3)</label>"))
            #expect(html.contains("Grouped \(grouping[0] == "--over" ? "over seed" : "by lr"): each curve is the mean"))
            // A trial takes its group's colour in the runs table too.
            #expect(html.contains("<tr data-run=\"4\">\n<td><label for=\"show-4\" title=\"show or hide this run in every chart\"><span class=\"swatch\" style=\"background:#E69F00\">"))
        }
        // The whole page, the system table (against time) too, holds together.
        try fixtures.run(["report", "runs/grid", "--over", "seed", "-o", "all.html"])
        let all = try String(contentsOf: fixtures.url("all.html"), encoding: .utf8)
        let columns = all.matches(of: /<figure class="chart" data-column="([^"]*)"/).map { JSONValue.string(String($0.output.1)) }
        #expect(columns.count > 2)
        try ReportPython.check(
            fixtures.url("all.html"), spec: ["runs": .array(trials.map { .string($0.path) }), "columns": .array(columns), "grouped": true])
    }

    @Test(.enabled(if: ReportPython.isAvailable, "python3 with html5lib is not installed (pip install html5lib)"))
    func plainRunsGroupByTheirConfigAndShorterRunsLeaveTheMeanToTheLongerOnes() throws {
        let fixtures = Fixtures()
        let a = try Self.trialRun(fixtures, "a", ["lr=0.1", "seed=0", "epochs=3"])
        let b = try Self.trialRun(fixtures, "b", ["lr=0.1", "seed=1", "epochs=5"])
        let c = try Self.trialRun(fixtures, "c", ["lr=0.1", "seed=2", "epochs=4"])
        let d = try Self.trialRun(fixtures, "d", ["lr=0.01", "seed=0", "epochs=3"])
        let runs = [a, b, c, d]
        let accuracy = try Self.expectedCurve("lr=0.1", runs: [a, b, c], table: "epoch", key: "test_accuracy")
        // Rows 0–2 from three runs, row 3 from two, row 4 from b alone: no std there.
        #expect(accuracy["n"] == [3, 3, 3, 2, 1])
        #expect(accuracy["std"]?.arrayValue?.last == .null)
        let alone = try Self.expectedCurve("lr=0.01", runs: [d], table: "epoch", key: "test_accuracy")
        #expect(alone["std"] == [.null, .null, .null])
        let spec: JSONValue = [
            "runs": .array(runs.map { .string($0.path) }), "columns": ["epoch/test_accuracy", "epoch/width"], "grouped": true,
            "curves": [
                "epoch/test_accuracy": [accuracy, alone],
                "epoch/width": [
                    try Self.expectedCurve("lr=0.1", runs: [a, b, c], table: "epoch", key: "width"),
                    try Self.expectedCurve("lr=0.01", runs: [d], table: "epoch", key: "width"),
                ],
            ],
        ]
        let arguments = ["report", "runs/a", "runs/b", "runs/c", "runs/d", "--tables", "epoch"]
        let context = fixtures.context()
        try fixtures.run(arguments + ["--group-by", "lr", "-o", "by.html"], context: context)
        #expect(!context.capturedError.contains("warning"), "\(context.capturedError)")
        try ReportPython.check(fixtures.url("by.html"), spec: spec)
        let html = try String(contentsOf: fixtures.url("by.html"), encoding: .utf8)
        #expect(html.contains(">lr=0.1 (n=3)</label>") && html.contains(">lr=0.01 (n=1)</label>"))
        // The group of one is its run's line: a curve with no band.
        #expect(html.contains("<g class=\"spread g0\""))
        #expect(!html.contains("<g class=\"spread g1\""))
        #expect(html.contains("<g class=\"run r3 g1 trial\" data-run=\"3\" data-group=\"1\" data-name=\"d\" color=\"#E69F00\" opacity=\"0.3\">"))

        // Over seed alone, the runs' configs differ in epochs too: every curve is one run, and
        // the warning says why; over seed and epochs, the curves are the ones by lr.
        let lonely = fixtures.context()
        try fixtures.run(arguments + ["--over", "seed", "-o", "lonely.html"], context: lonely)
        #expect(
            lonely.capturedError.contains(
                "warning: --over seed: no two runs agree on everything but seed (they differ in epochs, lr), so every curve is one run"),
            "\(lonely.capturedError)")
        let lonelyHTML = try String(contentsOf: fixtures.url("lonely.html"), encoding: .utf8)
        #expect(lonelyHTML.contains(">epochs=5 lr=0.1 (n=1)</label>"))
        try fixtures.run(arguments + ["--over", "seed", "--over", "epochs", "-o", "over.html"])
        try ReportPython.check(fixtures.url("over.html"), spec: spec)
    }

    /// The curve checks are only worth something if they fail on broken curves.
    @Test(.enabled(if: ReportPython.isAvailable, "python3 with html5lib is not installed (pip install html5lib)"))
    func checkerRejectsBrokenCurves() throws {
        let fixtures = Fixtures()
        let runs = [
            try Self.trialRun(fixtures, "a", ["lr=0.1", "seed=0"]), try Self.trialRun(fixtures, "b", ["lr=0.1", "seed=1"]),
            try Self.trialRun(fixtures, "c", ["lr=0.01", "seed=0"]),
        ]
        let spec: JSONValue = [
            "runs": .array(runs.map { .string($0.path) }), "columns": ["epoch/test_accuracy"], "grouped": true,
            "curves": [
                "epoch/test_accuracy": [
                    try Self.expectedCurve("lr=0.1", runs: Array(runs[0..<2]), table: "epoch", key: "test_accuracy"),
                    try Self.expectedCurve("lr=0.01", runs: [runs[2]], table: "epoch", key: "test_accuracy"),
                ]
            ],
        ]
        let good = try fixtures.run(["report", "runs/a", "runs/b", "runs/c", "--tables", "epoch", "--columns", "test_*", "--group-by", "lr", "-o", "-"])
        try Data(good.utf8).write(to: fixtures.url("good.html"))
        try ReportPython.check(fixtures.url("good.html"), spec: spec)
        func replacing(_ pattern: String, _ template: String) -> (String) -> String {
            { $0.replacingOccurrences(of: pattern, with: template, options: .regularExpression) }
        }
        let mutations: [(String, (String) -> String, String)] = [
            ("wrong mean", replacing(#"(<g class="curve g0"[^>]* data-mean=")[^ "]*"#, "$10.5"), "data-mean is"),
            ("moved mean", replacing(#"(<path class="mean"[^>]* d="M)[0-9.]+ [0-9.]+"#, "$1100 100"), "the mean at step"),
            ("moved band", replacing(#"(<path class="std"[^>]* d="M)[0-9.]+ [0-9.]+"#, "$1100 100"), "the band's top (mean + std)"),
            ("missing band", replacing(#"<g class="spread g0"[^>]*><path[^>]*/></g>"#, ""), "no band"),
            ("band for one run", replacing(#"(<g class="spread g0"[^>]*><path[^>]*/></g>)"#, "$1<g class=\"spread g1\" data-group=\"1\"><path class=\"std\" d=\"M60 60 70 60 70 70 60 70Z\"/></g>"),
             "a band, but no point has two runs"),
            ("bold run", { $0.replacingOccurrences(of: " opacity=\"0.3\"", with: "") }, "is not drawn faint behind its group"),
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

    @Test(.enabled(if: ReportPython.isAvailable, "python3 with html5lib is not installed (pip install html5lib)"))
    func longRunsOfDifferentLengthsGroupByANestedKeyInEveryMode() throws {
        let fixtures = Fixtures()
        // 3,000 and 2,500 rows: the summaries' buckets hold 4 rows, `--full`'s 2.
        let runs = [
            try fixtures.chartRun("alpha", rows: 3000, seed: 1, config: ReportCommandTests.configA),
            try fixtures.chartRun("beta", rows: 2500, seed: 2, config: ReportCommandTests.configB, nonFinite: false, host: "box-2"),
            try fixtures.chartRun("gamma", rows: 3000, seed: 3, config: ReportCommandTests.configA),
        ]
        let geometry = Dictionary(uniqueKeysWithValues: Fixtures.chartColumns().map { ($0, JSONValue.array([["name": "model.depth=4"]])) })
        for (file, extra) in [("summary.html", [String]()), ("full.html", ["--full", "--smooth", "25"])] {
            try fixtures.run(["report", "runs/alpha", "runs/beta", "runs/gamma", "--group-by", "model.depth", "-o", file] + extra)
            let spec = ReportCommandTests.spec(runs, smoothed: !extra.isEmpty)
                .replacing("grouped", with: true).replacing("curves", with: .object(geometry))
            try ReportPython.check(fixtures.url(file), spec: spec)
            let html = try String(contentsOf: fixtures.url(file), encoding: .utf8)
            #expect(html.contains(">model.depth=4 (n=3)</label>"))
            // Past beta's last row the mean is alpha's and gamma's.
            let loss = try Self.curveData(html, column: "train/loss", name: "model.depth=4")
            #expect(loss["n"]?.first == 3 && loss["n"]?.last == 2, "\(loss["n"] ?? [])")
            #expect(loss["step"]?.last == 2999)
            // A column beta lacks is averaged over the runs that have it.
            let weird = try Self.curveData(html, column: "train/weird", name: "model.depth=4")
            #expect(weird["n"]?.allSatisfy { $0 <= 2 } == true)
        }
    }

    @Test func badGroupKeysAreNamed() throws {
        let fixtures = Fixtures()
        try fixtures.chartRun("alpha", rows: 20, seed: 1, config: ReportCommandTests.configA)
        try fixtures.chartRun("beta", rows: 20, seed: 2, config: ReportCommandTests.configB)
        let runs = ["report", "runs/alpha", "runs/beta", "-o", "-"]
        #expect(throws: CLIError("--group-by nope: no run has this key (their keys: lr, model/depth, model/name, seed, tags, extra)")) {
            try fixtures.run(runs + ["--group-by", "nope"])
        }
        #expect(throws: CLIError("--over model.width: no run has this key (their keys: lr, model/depth, model/name, seed, tags, extra)")) {
            try fixtures.run(runs + ["--over", "model.width"])
        }
        // The two say opposite things: a usage error, before any run is read.
        for arguments in [["--group-by", "lr", "--over", "seed"], ["--group-by", "lr=0.1"], ["--over", ""]] {
            do {
                try fixtures.run(runs + arguments)
                Issue.record("\(arguments) was accepted")
            } catch {
                #expect(NokoRun.exitStatus(for: error) == 64, "\(arguments): \(error)")
                if arguments.count == 4 { #expect("\(error)".contains("--group-by and --over cannot be combined")) }
            }
        }
        // A key only some runs have: a warning, and those runs are a group of their own.
        let context = fixtures.context()
        let html = try fixtures.run(runs + ["--group-by", "extra"], context: context)
        #expect(
            context.capturedError.contains("warning: --group-by extra: 1 of 2 runs have no extra (alpha); they are averaged as extra=—"),
            "\(context.capturedError)")
        #expect(html.contains(">extra=— (n=1)</label>") && html.contains(">extra=true (n=1)</label>"))
        #expect(html.contains("1 of 2 runs have no extra (alpha)"))
        // A key with a different spelling: `.` for the config's `/`.
        let nested = try fixtures.run(runs + ["--group-by", "model.name"])
        #expect(nested.contains(">model.name=mlp (n=2)</label>"))
    }
}

/// The curve of a group, from buckets of rows, and how groups are made.
@Suite struct ReportGroupCurveTests {
    func column(run: Int, _ values: [Double], rowsPerBucket: Int = 1, rows: Int? = nil, steps: [Double]? = nil) -> ChartFigure.RunColumn {
        let buckets = values.enumerated().map { SeriesBucket(step: steps?[$0] ?? Double(($0 + 1) * rowsPerBucket - 1), value: $1) }
        return ChartFigure.RunColumn(
            run: run, name: "r\(run)",
            series: ColumnSeries(buckets: buckets, minimum: values.min(), maximum: values.max(), nanCount: 0, marks: []),
            rows: rows ?? values.count * rowsPerBucket, rowsPerBucket: rowsPerBucket)
    }

    @Test func bucketsOfDifferentWidthsLineUpByTheirRows() {
        // r0: a bucket per row, 8 rows; r1: buckets of 2 rows, 6 rows (3 buckets).
        let curve = GroupCurve([column(run: 0, [1, 2, 3, 4, 5, 6, 7, 8]), column(run: 1, [10, 20, 30], rowsPerBucket: 2)], smoothed: false)
        // Rows pair up; each run gives its last value in each pair.
        #expect(curve.points.map(\.step) == [1, 3, 5, 7])
        #expect(curve.points.map(\.mean) == [6, 12, 18, 8])
        #expect(curve.points.map(\.count) == [2, 2, 2, 1])
        #expect(curve.points[0].standardDeviation == (32.0).squareRoot())
        #expect(curve.points[3].standardDeviation == nil)
        #expect(curve.stepRun == 0 && !curve.stepsDiffer)
    }

    @Test func xIsTheLongestRunsStepAndOtherStepsAreNoted() {
        let short = column(run: 0, [1, 2], steps: [0, 10])
        let long = column(run: 1, [3, 4, 5], steps: [0, 1, 2])
        let curve = GroupCurve([short, long], smoothed: false)
        #expect(curve.points.map(\.step) == [0, 1, 2])
        #expect(curve.stepRun == 1 && curve.stepsDiffer)
        let figure = ChartFigure(
            table: "t", key: "x", columns: [short, long], smoothed: false, groups: [RunGroups.Group(name: "lr=1", runs: [0, 1])])
        #expect(figure.notes == ["lr=1: its runs log other steps at the same rows; x is r1's"])
        #expect(figure.curves == [0])
        // Non-finite values are left out of the mean; a row of nothing but is a gap.
        let gappy = GroupCurve([column(run: 0, [1, .nan, .nan]), column(run: 1, [3, 5, .infinity])], smoothed: false)
        #expect(gappy.points.map(\.mean) == [2, 5, nil])
        #expect(gappy.points.map(\.count) == [2, 1, 0])
    }

    @Test func aBandReachingBelowZeroIsCutAtTheBottomOfALogAxis() throws {
        // Row 1: 0.01 and 0.0001 → mean 0.00505, std 0.0070: mean − std < 0.
        let figure = ChartFigure(
            table: "t", key: "loss", columns: [column(run: 0, [10, 0.01]), column(run: 1, [1, 0.0001])], smoothed: false,
            groups: [RunGroups.Group(name: "all runs", runs: [0, 1])])
        let log = try #require(figure.logSVG)
        let band = try #require(log.firstMatch(of: /<path class="std"[^>]* d="([^"]*)"/)).output.1
        #expect(band.hasSuffix(" \(Int(ChartLayout.plotBottom))Z"), "\(band)")
        // On the linear axis the band fits: the domain takes in mean ± std.
        let linear = try #require(figure.linearSVG.firstMatch(of: /data-y0="([^"]*)"/)).output.1
        #expect(Double(String(linear))! < 0.00505 - 0.0070)
    }
}
