import Foundation
import NokoCore
import Testing

@testable import NokoCLI

/// `show`, `compare` and `report` on a run with noko's `system` table.
@Suite struct SystemTableCLITests {
    /// A finished run with a system table of four samples 10 s apart: RSS peaks at 2.1 GB,
    /// CPU 40 % and 60 % (the first sample has none), GPU 0 at 30 % and 50 %, GPU 1 at 10 %
    /// (its other samples failed), a MIG device without utilization.
    @discardableResult
    func runWithSystemTable(_ fixtures: Fixtures, name: String = "train_a", csv: Bool = true) throws -> URL {
        let directory = try fixtures.finishedRun(name)
        // The fixture's summary.json holds only its own tables: rebuilt from the journal.
        try FileManager.default.removeItem(at: directory.appendingPathComponent("summary.json"))
        var outputs: [any LogOutput] = [try NDJSONOutput(url: directory.appendingPathComponent("noko.ndjson"))]
        if csv { outputs.append(CSVOutput(directory: directory)) }
        let logger = NokoLogger(
            directory: directory, outputs: outputs, flushInterval: nil, messages: Fixtures.quietMessages,
            summarizers: SummarizerRegistry(), clock: .stepping(from: Fixtures.start + 5, by: 10))
        let rss: [Int64] = [1_000_000_000, 2_100_000_000, 1_500_000_000, 1_200_000_000]
        let cpu: [Double?] = [nil, 40, 60, nil]
        let gpu0: [Int64?] = [30, 50, nil, nil]
        let gpu1: [Int64?] = [nil, nil, 10, nil]
        for i in 0..<4 {
            var pairs: [(String, Scalar)] = [("process/rss_bytes", .int(rss[i])), ("gpu/0/mig/1/memory_used_bytes", .int(7))]
            if let value = cpu[i] { pairs.append(("process/cpu_percent", .double(value))) }
            if let value = gpu0[i] { pairs.append(("gpu/0/utilization_percent", .int(value))) }
            if let value = gpu1[i] { pairs.append(("gpu/1/utilization_percent", .int(value))) }
            logger.logReservedSummary(SystemTable.name, pairs)
        }
        logger.close()
        return directory
    }

    @Test(arguments: [true, false])
    func showHasAUsageLine(csv: Bool) throws {
        let fixtures = Fixtures()
        try runWithSystemTable(fixtures, csv: csv)
        let output = try fixtures.run(["show", "train_a"])
        let line = output.split(separator: "\n").first { $0.hasPrefix("  usage ") }
        #expect(line?.hasSuffix("  peak RSS 2.1 GB, mean CPU 50.0 %, mean GPU 30.0 %") == true, "\(output)")
        let json = try JSONValue(parsing: fixtures.run(["show", "train_a", "--json"]))
        #expect(json["resources"]?["peak_rss_bytes"] == 2_100_000_000.0)
        #expect(json["resources"]?["mean_cpu_percent"] == 50.0)
        #expect(json["resources"]?["mean_gpu_utilization_percent"] == 30.0)
    }

    @Test func aRunWithoutASystemTableHasNoUsageLine() throws {
        let fixtures = Fixtures()
        try fixtures.finishedRun("train_a")
        #expect(!(try fixtures.run(["show", "train_a"])).contains("  usage "))
        #expect(try JSONValue(parsing: fixtures.run(["show", "train_a", "--json"]))["resources"] == .null)
    }

    @Test func compareLeavesTheSystemTableOutUnlessAskedFor() throws {
        let fixtures = Fixtures()
        try runWithSystemTable(fixtures, name: "train_a")
        try runWithSystemTable(fixtures, name: "train_b")
        let metrics = try JSONValue(parsing: fixtures.run(["compare", "train_a", "train_b", "--json"]))["metrics"]?.arrayValue ?? []
        #expect(!metrics.isEmpty)
        #expect(!metrics.contains { $0["table"] == "system" })
        let asked = try JSONValue(parsing: fixtures.run(["compare", "train_a", "train_b", "--json", "--columns", "process/*"]))
        #expect(asked["metrics"]?.arrayValue?.contains { $0["table"] == "system" && $0["column"] == "process/rss_bytes" } == true)
    }

    @Test(arguments: [[], ["--full"]])
    func theReportDrawsTheSystemTableAgainstSecondsSinceTheStart(extra: [String]) throws {
        let fixtures = Fixtures()
        try runWithSystemTable(fixtures)
        try fixtures.run(["report", "train_a", "-o", "report.html"] + extra)
        let html = try String(contentsOf: fixtures.url("report.html"), encoding: .utf8)
        let charts = html.components(separatedBy: "<svg class=\"chart-svg\"").dropFirst()
        let rss = try #require(charts.first { $0.contains("<title>rss_bytes</title>") })
        #expect(rss.contains(">seconds since start</text>"))
        // Samples at 5, 15, 25 and 35 s after the run's start.
        let x0 = try #require(attribute("data-x0", in: rss))
        let x1 = try #require(attribute("data-x1", in: rss))
        #expect(x0 <= 5 && x0 >= 0 && x1 >= 35 && x1 < 60, "\(x0)…\(x1)")
        let loss = try #require(charts.first { $0.contains("<title>loss</title>") })
        #expect(loss.contains(">step</text>"))
    }

    private func attribute(_ name: String, in svg: String) -> Double? {
        guard let range = svg.range(of: name + "=\"") else { return nil }
        return Double(svg[range.upperBound...].prefix { $0 != "\"" })
    }
}
