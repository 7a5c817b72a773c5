import Testing

@testable import NokoCLI

@Suite struct ReportColumnGroupsTests {
    @Test func keysGroupByTheirFirstPart() {
        let groups = ColumnGroups.group(["train/loss", "loss", "eval/acc", "train/acc", "weights.mean", "a/b/c"])
        #expect(groups.map(\.name) == ["", "a", "eval", "train"])
        #expect(groups[0].keys == ["loss", "weights.mean"])
        #expect(groups[1].keys == ["a/b/c"])
        #expect(groups[3].keys == ["train/acc", "train/loss"])
        #expect(ColumnGroups.group([]).isEmpty)
    }
}
