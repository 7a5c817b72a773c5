import Foundation
import NokoCore
import Testing

@testable import NokoCLI

@Suite struct DisplayFormatTests {
    @Test func durations() {
        #expect(DisplayFormat.duration(0.421) == "0.42s")
        #expect(DisplayFormat.duration(4.25) == "4.2s")
        #expect(DisplayFormat.duration(42.9) == "42s")
        #expect(DisplayFormat.duration(185) == "3m 05s")
        #expect(DisplayFormat.duration(3723.5) == "1h 02m")
        #expect(DisplayFormat.duration(2 * 86400 + 3 * 3600 + 59) == "2d 03h")
        #expect(DisplayFormat.duration(.nan) == "?")
    }

    @Test func numbers() {
        #expect(DisplayFormat.number(3) == "3")
        #expect(DisplayFormat.number(0.693147180559) == "0.693147")
        #expect(DisplayFormat.number(1.5e-7) == "1.5e-7")
        #expect(DisplayFormat.number(123456789.5) == "1.23457e+8")
        #expect(DisplayFormat.number(.nan) == "NaN")
        #expect(DisplayFormat.number(-.infinity) == "-inf")
        #expect(DisplayFormat.count(1_000_000) == "1,000,000")
        #expect(DisplayFormat.count(-1234) == "-1,234")
        #expect(DisplayFormat.count(999) == "999")
        #expect(DisplayFormat.bytes(1_234_567) == "1.2 MB")
        #expect(DisplayFormat.bytes(512) == "512 B")
        #expect(DisplayFormat.time(1_795_780_800, timeZone: TimeZone(identifier: "UTC")!) == "2026-11-27 12:00:00")
        #expect(DisplayFormat.time(1_795_780_800, timeZone: TimeZone(identifier: "Asia/Tokyo")!) == "2026-11-27 21:00:00")
    }

    @Test func sparklines() {
        #expect(Sparkline.draw([0, 1, 2, 3, 4, 5, 6, 7], width: 8) == "▁▂▃▄▅▆▇█")
        #expect(Sparkline.draw([1, 1, 1], width: 8) == "▁▁▁")
        #expect(Sparkline.draw([0, nil, .nan, 1], width: 8) == "▁  █")
        #expect(Sparkline.draw([nil, nil], width: 8) == "")
        // Resampled by group means: 100 points into 10 characters.
        #expect(Sparkline.draw((0..<100).map { Double($0) }, width: 10) == "▁▂▃▃▄▅▆▆▇█")
    }

    @Test func configFlattening() throws {
        let config = try JSONValue(parsing: #"{"opt": {"lr": 0.1, "betas": [0.9, 0.99], "empty": {}}, "seed": 3}"#)
        let flat = ConfigFlattening.flatten(config)
        #expect(flat.map(\.key) == ["opt/betas", "opt/empty", "opt/lr", "seed"])
        #expect(flat[1].value == .object([:]))
        #expect(ConfigFlattening.flatten(3).map(\.key) == [""])
    }

    @Test func columnRanking() {
        func column(_ name: String, _ low: Double?, _ high: Double?, type: String = "double") -> ColumnStatistics {
            ColumnStatistics(name: name, type: type, count: 1, nullCount: 0, nanCount: 0, last: .null, min: low, max: high, series: nil)
        }
        let columns = [
            column("a.std", 0, 1), column("batch", 0, 9, type: "int"), column("constant", 1, 1), column("flag", 0, 1, type: "bool"),
            column("text", nil, nil, type: "string"), column("train/loss", 0, 2), column("val_acc", 0, 1), column("w.mean", 0, 1),
        ]
        #expect(ColumnRanking.informative(columns, limit: 10).map(\.name) == ["train/loss", "val_acc", "batch", "w.mean", "a.std"])
        #expect(ColumnRanking.informative(columns, limit: 2).map(\.name) == ["train/loss", "val_acc"])
    }

    @Test func globsAndFilters() throws {
        let glob = Glob("loss, weights*")
        #expect(glob.matches("loss") && glob.matches("weights.mean") && glob.matches("weights/x") && !glob.matches("loss2"))
        #expect(try RunFilter("config.lr=0.10").matches(0.1))
        #expect(try !RunFilter("config.lr=0.10").matches("0.1"))
        #expect(try RunFilter("config.name=adam").matches("adam"))
        #expect(try RunFilter("config.deep<=3").matches(3))
        #expect(try !RunFilter("config.deep<3").matches("2"))
        #expect(try RunFilter("config.on=true").matches(true))
        #expect(try RunFilter("status~fin*").matches("finished"))
        #expect(throws: CLIError.self) { try RunFilter("lr") }
        #expect(throws: CLIError.self) { try RunFilter("=3") }
        let metric = try MetricReference("max:a/b/c")
        #expect(metric.statistic == .max && metric.path == "a/b/c")
    }
}
