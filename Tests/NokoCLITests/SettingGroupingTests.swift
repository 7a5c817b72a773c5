import Testing

@testable import NokoCLI

/// How the sweep leaderboard and the report's curves put runs together.
@Suite struct SettingGroupingTests {
    @Test func groupingByKeysOrOverKeys() {
        let items: [[Setting]] = [
            ["lr=0.1", "seed=0"], ["lr=0.1", "seed=1"], ["lr=0.01", "seed=0"], ["+extra.tag=x", "seed=2"],
        ].map { $0.compactMap(Setting.init(override:)) }
        let over = SettingGrouping.over(["seed"]).groups(Array(items.indices)) { items[$0] }
        #expect(over.map(\.members) == [[0, 1], [2], [3]])
        #expect(over.map { $0.identity.map(\.text) } == [["lr=0.1"], ["lr=0.01"], ["+extra.tag=x"]])
        // By a key: looked up in the fallback when the settings lack it; absent, a group of its own.
        let by = SettingGrouping.by(["extra.tag"]).groups(Array(items.indices), settings: { items[$0] }) { i in
            i == 0 ? [Setting(key: "extra/tag", value: "y")] : []
        }
        #expect(by.map(\.members) == [[0], [1, 2], [3]])
        #expect(by.map { $0.identity.map(\.text) } == [["extra.tag=y"], ["extra.tag=—"], ["extra.tag=x"]])
        let spread = SampleSpread([1, 2, 3])
        #expect(spread?.count == 3 && spread?.mean == 2 && spread?.standardDeviation == 1)
        #expect(SampleSpread([4])?.standardDeviation == nil)
        #expect(SampleSpread([]) == nil)
    }
}
