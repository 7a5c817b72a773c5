/// A table read back from a log file: named columns of ``Scalar`` values, aligned by row.
///
/// A cell a row did not have is `.null`. Column order is the order keys were first seen.
public struct LogTable: Sendable {
    /// Column names in first-seen order.
    public private(set) var columnNames: [String] = []
    /// The columns, each `rowCount` long.
    public private(set) var columns: [String: [Scalar]] = [:]
    /// The number of rows.
    public private(set) var rowCount: Int = 0

    /// An empty table.
    public init() {}

    /// A table from whole columns; shorter columns are padded with `.null`.
    public init(columns: [(name: String, values: [Scalar])]) {
        let count = columns.map(\.values.count).max() ?? 0
        for (name, values) in columns {
            columnNames.append(name)
            self.columns[name] = values + Array(repeating: .null, count: count - values.count)
        }
        rowCount = count
    }

    /// The column named `name`, or nil.
    public subscript(name: String) -> [Scalar]? { columns[name] }

    /// Row `index` as (column, value) pairs, omitting nulls.
    public func row(_ index: Int) -> [(String, Scalar)] {
        columnNames.compactMap { name in
            let value = columns[name]![index]
            return value.isNull ? nil : (name, value)
        }
    }

    /// Appends one row; keys not seen before become new columns, null in earlier rows.
    public mutating func append<S: Sequence>(_ pairs: S) where S.Element == (String, Scalar) {
        for (key, value) in pairs {
            if columns[key] == nil {
                columnNames.append(key)
                columns[key] = Array(repeating: .null, count: rowCount)
            }
            columns[key]!.append(value)
        }
        rowCount += 1
        for name in columnNames where columns[name]!.count < rowCount {
            columns[name]!.append(.null)
        }
    }
}
