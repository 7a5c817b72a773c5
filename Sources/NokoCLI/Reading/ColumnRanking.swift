import NokoCore

/// Which columns of a wide table are worth a line in `noko-run show` (noko rows are often
/// hundreds of columns wide).
///
/// The rule, so the choice is predictable:
/// 1. only numeric columns (int or double) whose values vary (min < max);
/// 2. first those whose name mentions a usual metric (`loss`, `acc`, `reward`, `return`,
///    `error`, `score`, `metric`, `f1`, `auc`, `perplexity`, `lr`), then the rest,
///    with array summaries' `.min`, `.max` and `.std` columns last (their `.mean` is kept
///    with the rest);
/// 3. within each group, by name.
package enum ColumnRanking {
    /// Words that mark a column as a metric people look at first.
    package static let metricWords = ["loss", "acc", "reward", "return", "error", "score", "metric", "f1", "auc", "perplex", "lr"]

    /// At most `limit` columns of `columns` in the order described above.
    package static func informative(_ columns: [ColumnStatistics], limit: Int) -> [ColumnStatistics] {
        let candidates = columns.filter { column in
            guard column.type == "double" || column.type == "int", let low = column.min, let high = column.max else { return false }
            return low < high
        }
        let ranked = candidates.enumerated().sorted { a, b in
            let ta = tier(a.element.name), tb = tier(b.element.name)
            return ta != tb ? ta < tb : a.offset < b.offset
        }
        return ranked.prefix(limit).map(\.element)
    }

    static func tier(_ name: String) -> Int {
        let lower = name.lowercased()
        let isSpread = lower.hasSuffix(".min") || lower.hasSuffix(".max") || lower.hasSuffix(".std")
        if isSpread { return 2 }
        return metricWords.contains(where: lower.contains) ? 0 : 1
    }
}
