/// One `KEY=VALUE` a run was made with: an override a sweep gave its trial (`lr=0.1`), or a
/// leaf of its config (`optimizer/lr=0.1`).
package struct Setting: Hashable, Sendable {
    package var key: String
    /// The value as shown; nil for a key the run does not have, so that such runs still group
    /// together (as `lr=—`).
    package var value: String?

    package init(key: String, value: String?) {
        self.key = key
        self.value = value
    }

    /// An override's two sides, split at its first `=`; nil for text without one.
    package init?(override: String) {
        guard let equals = override.firstIndex(of: "=") else { return nil }
        self.init(key: String(override[..<equals]), value: String(override[override.index(after: equals)...]))
    }

    /// `key=value` (an override's own text), `key=—` for a missing value.
    package var text: String { key + "=" + (value ?? "—") }

    /// Whether `name` names this setting's key as a user may write it: an override's `+`
    /// (add a new key) is not part of the key, and a config key's `/` may be written `.`, as
    /// overrides write it (`optimizer.lr` is the config's `optimizer/lr`).
    package func hasKey(_ name: String) -> Bool {
        key == name || Self.canonical(key) == Self.canonical(name)
    }

    private static func canonical(_ key: String) -> String {
        String(key.drop { $0 == "+" }.map { $0 == "." ? "/" : $0 })
    }
}

/// How runs go together to be averaged: by the values of some keys, or over some keys (runs
/// whose other settings all agree go together). The sweep leaderboard (`--over seed`) and
/// `report`'s curves (`--group-by`, `--over`) both group this way.
package enum SettingGrouping: Sendable, Equatable {
    /// Runs with the same values of these keys, in this order, go together.
    case by([String])
    /// Runs whose settings agree but for these keys go together.
    case over([String])

    /// Items that go together, and what they share.
    package struct Group<Item> {
        /// The settings the group's items share: the `by` keys' values (nil where the items
        /// lack the key), or every setting but the `over` keys, in the items' order.
        package var identity: [Setting]
        package var members: [Item]
    }

    /// The keys named.
    package var keys: [String] {
        switch self {
        case .by(let keys), .over(let keys): keys
        }
    }

    /// What an item with `settings` is grouped by; a `by` key that `settings` lacks is looked
    /// up in `fallback` (a sweep trial's config, for a key that was not one of its axes).
    package func identity(of settings: [Setting], fallback: [Setting] = []) -> [Setting] {
        switch self {
        case .by(let keys):
            return keys.map { key in
                Setting(key: key, value: (settings.first { $0.hasKey(key) } ?? fallback.first { $0.hasKey(key) })?.value)
            }
        case .over(let keys):
            return settings.filter { setting in !keys.contains(where: setting.hasKey) }
        }
    }

    /// `items` in groups: each group where its first item is, its members in their order.
    package func groups<Item>(
        _ items: [Item], settings: (Item) -> [Setting], fallback: (Item) -> [Setting] = { _ in [] }
    ) -> [Group<Item>] {
        var groups: [Group<Item>] = []
        var index: [[Setting]: Int] = [:]
        for item in items {
            let identity = identity(of: settings(item), fallback: fallback(item))
            if let at = index[identity] {
                groups[at].members.append(item)
            } else {
                index[identity] = groups.count
                groups.append(Group(identity: identity, members: [item]))
            }
        }
        return groups
    }
}

/// The mean of some values and their sample standard deviation (n − 1): the leaderboard's
/// `mean ± std` and the report's curves with their bands.
package struct SampleSpread: Sendable, Equatable {
    package let count: Int
    package let mean: Double
    /// nil below two values (one value says nothing about the spread).
    package let standardDeviation: Double?

    /// The spread of `values`; nil when there are none.
    package init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        count = values.count
        let mean = values.reduce(0, +) / Double(values.count)
        self.mean = mean
        standardDeviation = values.count > 1
            ? (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)).squareRoot() : nil
    }
}
