import NokoCore

/// The runs of a grouped report (`--group-by`, `--over`): which runs are averaged into one
/// curve, and each curve's name.
///
/// A sweep trial is grouped by its overrides (`metadata.json`'s `links.sweep.overrides`, as
/// the leaderboard groups it); a `--group-by` key that is not one of them is looked up in
/// its config. Any other run is grouped by its config's leaves (`optimizer/lr`, which
/// `--group-by optimizer.lr` names too).
struct RunGroups: Sendable {
    /// One curve's runs.
    struct Group: Sendable, Equatable {
        /// `lr=0.1`: the settings that tell this group from the others.
        let name: String
        /// Positions of its runs in the report, in report order.
        let runs: [Int]

        /// The legend's entry: `lr=0.1 (n=3)`.
        var label: String { "\(name) (n=\(runs.count))" }
    }

    /// In the order of their first run (so a sweep's groups come in trial order).
    let groups: [Group]
    /// The group of each run, by the run's position.
    let groupOfRun: [Int]
    /// `by lr`, `over seed`: how the page says what it averaged.
    let caption: String

    /// Groups `runs` as `grouping` says. A key no run has is an error naming it (a typo would
    /// otherwise draw one curve per run, or one of all); a `--group-by` key only some runs
    /// have is a warning through `warn`, and the runs without it form a group of their own.
    init(runs: [LoadedRun], grouping: SettingGrouping, warn: (String) -> Void) throws {
        let settings = runs.map(Self.settings)
        let option = Self.option(grouping)
        for key in grouping.keys {
            let lacking = runs.indices.filter { i in !(settings[i].own + settings[i].config).contains { $0.hasKey(key) } }
            if lacking.count == runs.count {
                let known = Self.keys(in: settings)
                let listed = known.isEmpty
                    ? "they have no config or sweep overrides"
                    : "their keys: " + known.prefix(12).joined(separator: ", ") + (known.count > 12 ? ", …" : "")
                throw CLIError("\(option) \(key): no run has this key (\(listed))")
            }
            if case .by = grouping, !lacking.isEmpty {
                let names = lacking.prefix(5).map { runs[$0].name }.joined(separator: ", ") + (lacking.count > 5 ? ", …" : "")
                warn(
                    "\(option) \(key): \(lacking.count) of \(runs.count) runs have no \(key) (\(names)); they are averaged as \(key)=—")
            }
        }
        let found = grouping.groups(Array(runs.indices), settings: { settings[$0].own }, fallback: { settings[$0].config })
        let names = Self.names(found.map(\.identity), grouping: grouping)
        groups = zip(names, found).map { Group(name: $0, runs: $1.members) }
        var groupOfRun = Array(repeating: 0, count: runs.count)
        for (g, group) in groups.enumerated() {
            for run in group.runs { groupOfRun[run] = g }
        }
        self.groupOfRun = groupOfRun
        caption = (grouping.isBy ? "by " : "over ") + grouping.keys.joined(separator: ", ")
        if runs.count > 1 && groups.count == runs.count {
            // Every curve one run: the keys name the wrong thing, or the configs differ in more.
            let keys = grouping.keys.joined(separator: ", ")
            if grouping.isBy {
                warn("\(option) \(keys): no two runs share their \(keys), so every curve is one run")
            } else {
                let others = Self.varyingKeys(found.map(\.identity))
                warn(
                    "\(option) \(keys): no two runs agree on everything but \(keys) (they differ in "
                        + others.prefix(8).joined(separator: ", ") + (others.count > 8 ? ", …" : "")
                        + "), so every curve is one run; --group-by names the keys to keep apart")
            }
        }
    }

    private static func option(_ grouping: SettingGrouping) -> String { grouping.isBy ? "--group-by" : "--over" }

    /// What a run is grouped by (`own`), and where a `--group-by` key missing from it is
    /// looked up (`config`: a trial's config; empty for other runs, whose config is `own`).
    static func settings(of run: LoadedRun) -> (own: [Setting], config: [Setting]) {
        let config = (run.config.map(ConfigFlattening.flatten) ?? []).map {
            Setting(key: $0.key, value: DisplayFormat.jsonExact($0.value))
        }
        if let overrides = run.metadata?.links?["sweep"]?["overrides"]?.arrayValue {
            return (overrides.compactMap(\.stringValue).compactMap(Setting.init(override:)), config)
        }
        return (config, [])
    }

    /// Every key the runs have, in order of first appearance, for an error's list.
    private static func keys(in settings: [(own: [Setting], config: [Setting])]) -> [String] {
        var seen: Set<String> = []
        return settings.flatMap { $0.own + $0.config }.map(\.key).filter { seen.insert($0).inserted }
    }

    /// The keys whose values differ between `identities` (a key one lacks counts), in order
    /// of first appearance.
    private static func varyingKeys(_ identities: [[Setting]]) -> [String] {
        var seen: Set<String> = []
        let keys = identities.flatMap { $0.map(\.key) }.filter { seen.insert($0).inserted }
        return keys.filter { key in Set(identities.map { identity in identity.first { $0.key == key }?.value }).count > 1 }
    }

    /// Each group's name: with `--group-by`, the keys asked for (`lr=0.1 batch=32`); with
    /// `--over`, only the settings that differ between groups, since a config's other leaves
    /// are the same in every group and would bury the one that matters.
    private static func names(_ identities: [[Setting]], grouping: SettingGrouping) -> [String] {
        if grouping.isBy { return identities.map { $0.map(\.text).joined(separator: " ") } }
        let varying = varyingKeys(identities)
        guard !varying.isEmpty else { return identities.map { _ in "all runs" } }
        return identities.map { identity in
            varying.map { key in identity.first { $0.key == key } ?? Setting(key: key, value: nil) }.map(\.text).joined(separator: " ")
        }
    }
}

extension SettingGrouping {
    fileprivate var isBy: Bool {
        if case .by = self { return true }
        return false
    }
}
