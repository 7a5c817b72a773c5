import NokoCore

/// A column of a table named on the command line: `table/key`, optionally with the
/// statistic to take (`min:table/key`, `max:table/key`; the last value by default).
///
/// Table names and keys may both contain `/`: the reference is split at the first `/`
/// whose left side is a table of the run.
package struct MetricReference: Sendable, Equatable, CustomStringConvertible {
    /// Which number of the column.
    package enum Statistic: String, Sendable, CaseIterable {
        case last, min, max
    }

    /// What the user typed (without the statistic prefix).
    package let path: String
    /// The statistic.
    package let statistic: Statistic

    /// Parses `text`; a missing `/` is a usage error.
    package init(_ text: String) throws {
        var path = Substring(text)
        var statistic = Statistic.last
        for candidate in Statistic.allCases where path.hasPrefix(candidate.rawValue + ":") {
            statistic = candidate
            path = path.dropFirst(candidate.rawValue.count + 1)
        }
        guard path.contains("/"), !path.hasPrefix("/"), !path.hasSuffix("/") else {
            throw CLIError("metric \"\(text)\": expected table/key (e.g. epoch/test_accuracy, or max:epoch/test_accuracy)")
        }
        self.path = String(path)
        self.statistic = statistic
    }

    package var description: String { statistic == .last ? path : "\(statistic.rawValue):\(path)" }

    /// The table and column this reference names in `summary`, or nil.
    package func locate(in summary: RunStatistics) -> (table: TableStatistics, column: ColumnStatistics)? {
        var index = path.startIndex
        while let slash = path[index...].firstIndex(of: "/") {
            let tableName = String(path[..<slash])
            let key = String(path[path.index(after: slash)...])
            if let table = summary.table(tableName), let column = table.column(key) { return (table, column) }
            index = path.index(after: slash)
        }
        return nil
    }

    /// The value in `summary`, or nil when the run has no such column.
    package func value(in summary: RunStatistics) -> Scalar? {
        guard let (_, column) = locate(in: summary) else { return nil }
        switch statistic {
        case .last: return column.last
        case .min: return column.min.map(Scalar.double) ?? .null
        case .max: return column.max.map(Scalar.double) ?? .null
        }
    }
}
