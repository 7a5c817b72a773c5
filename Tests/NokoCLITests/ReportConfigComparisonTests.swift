import NokoCore
import Testing

@testable import NokoCLI

@Suite struct ReportConfigComparisonTests {
    @Test func differingAndMissingValuesAreMarked() {
        let comparison = ConfigComparison([
            ["lr": 0.1, "opt": ["name": "sgd", "momentum": 0.9], "n": 1],
            ["lr": 0.01, "opt": ["name": "sgd", "momentum": 0.9], "n": "1"],
            nil,
        ])
        #expect(comparison.rows.map(\.key) == ["lr", "n", "opt/momentum", "opt/name"])
        // A run without a config differs from the others on every key.
        #expect(comparison.rows.allSatisfy { $0.differs })
        #expect(comparison.rows[0].values == ["0.1", "0.01", nil])
        #expect(comparison.rows[1].values == ["1", "1", nil])
    }

    @Test func aStringAndANumberThatReadAlikeStillDiffer() {
        let comparison = ConfigComparison([["n": 1, "same": true], ["n": "1", "same": true]])
        #expect(comparison.rows.map(\.differs) == [true, false])
        #expect(comparison.differingCount == 1)
    }

    @Test func oneRunDiffersFromNobody() {
        let comparison = ConfigComparison([["lr": 0.1]])
        #expect(comparison.rows.map(\.differs) == [false])
    }
}
