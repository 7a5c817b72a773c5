import NokoCore

/// The runs' configs side by side: one row per flattened key (`opt/lr`), one cell per run,
/// and which rows differ between runs.
struct ConfigComparison: Sendable {
    struct Row: Sendable, Equatable {
        let key: String
        /// One per run, as shown; nil where the run's config has no such key.
        let values: [String?]
        /// Whether the runs disagree (a key missing from some runs counts as a difference).
        let differs: Bool
    }

    let rows: [Row]

    /// Compares `configs` (one per run, nil for a run without a config). Values compare as
    /// JSON values, so `"1"` (a string) and `1` differ even though they read alike.
    init(_ configs: [JSONValue?]) {
        let flattened: [[String: JSONValue]] = configs.map { config in
            guard let config else { return [:] }
            return Dictionary(ConfigFlattening.flatten(config).map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        }
        let keys = Set(flattened.flatMap(\.keys)).sorted()
        rows = keys.map { key in
            let values = flattened.map { $0[key] }
            let differs = configs.count > 1 && Set(values).count > 1
            return Row(key: key, values: values.map { $0.map(DisplayFormat.json) }, differs: differs)
        }
    }

    /// How many keys differ between runs.
    var differingCount: Int { rows.filter(\.differs).count }
}
