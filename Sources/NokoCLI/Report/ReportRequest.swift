/// What a report shows: which tables and columns, smoothed or not, from the summary's series
/// or from every row, each run on its own or averaged with others into one curve per group.
package struct ReportRequest: Sendable {
    /// Only these tables (all when nil).
    package var tables: [String]?
    /// Only columns whose key or `table/key` matches (all when nil).
    package var columns: Glob?
    /// A moving average over this many rows, drawn over the faint raw series (off when nil).
    package var smoothing: Int?
    /// Read every row from the journal (or CSV files) instead of `summary.json`'s series.
    package var full: Bool
    /// Draw one curve per group of runs (their mean ± std, the runs faint behind) instead of
    /// one line per run (nil).
    package var grouping: SettingGrouping?

    /// A request; the defaults chart every numeric column of every table, one line per run,
    /// unsmoothed, from the summaries.
    package init(
        tables: [String]? = nil, columns: Glob? = nil, smoothing: Int? = nil, full: Bool = false, grouping: SettingGrouping? = nil
    ) {
        self.tables = tables
        self.columns = columns
        self.smoothing = smoothing
        self.full = full
        self.grouping = grouping
    }

    /// Whether `key` of `table` is selected by ``columns``.
    func selects(table: String, key: String) -> Bool {
        guard let columns else { return true }
        return columns.matches(key) || columns.matches(table + "/" + key)
    }
}
