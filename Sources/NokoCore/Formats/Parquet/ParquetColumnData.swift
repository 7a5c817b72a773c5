/// One column of a row group in memory, as Parquet stores it: which rows have a value
/// (definition levels) and the values of those rows, densely.
struct ParquetColumnData {
    /// One entry per row: false where the row has no value (null).
    var present: [Bool]
    /// The values of the present rows, in row order.
    var values: ParquetValues

    var rowCount: Int { present.count }
    var type: ParquetColumnType { values.type }

    /// A column of `rowCount` nulls.
    static func allNull(rowCount: Int, type: ParquetColumnType) -> ParquetColumnData {
        ParquetColumnData(present: Array(repeating: false, count: rowCount), values: ParquetValues.empty(type))
    }

    /// The same rows with values converted to `type` (see ``ParquetColumnType`` for the rule).
    func converted(to type: ParquetColumnType) -> ParquetColumnData {
        ParquetColumnData(present: present, values: values.converted(to: type))
    }

    /// Appends the rows of `other`, which must have the same type.
    mutating func append(_ other: ParquetColumnData) {
        present.append(contentsOf: other.present)
        values.append(other.values)
    }

    /// The rows as scalars, `.null` where absent.
    func scalars() -> [Scalar] {
        var result: [Scalar] = []
        result.reserveCapacity(rowCount)
        var next = 0
        for isPresent in present {
            guard isPresent else {
                result.append(.null)
                continue
            }
            result.append(values.scalar(at: next))
            next += 1
        }
        return result
    }
}

/// Dense values of one type.
enum ParquetValues {
    case booleans([Bool])
    case int64s([Int64])
    case doubles([Double])
    case strings([String])

    static func empty(_ type: ParquetColumnType) -> ParquetValues {
        switch type {
        case .boolean: return .booleans([])
        case .int64: return .int64s([])
        case .double: return .doubles([])
        case .string: return .strings([])
        }
    }

    var type: ParquetColumnType {
        switch self {
        case .booleans: return .boolean
        case .int64s: return .int64
        case .doubles: return .double
        case .strings: return .string
        }
    }

    var count: Int {
        switch self {
        case .booleans(let v): return v.count
        case .int64s(let v): return v.count
        case .doubles(let v): return v.count
        case .strings(let v): return v.count
        }
    }

    func scalar(at index: Int) -> Scalar {
        switch self {
        case .booleans(let v): return .bool(v[index])
        case .int64s(let v): return .int(v[index])
        case .doubles(let v): return .double(v[index])
        case .strings(let v): return .string(v[index])
        }
    }

    mutating func append(_ other: ParquetValues) {
        switch (self, other) {
        case (.booleans(var a), .booleans(let b)):
            a.append(contentsOf: b)
            self = .booleans(a)
        case (.int64s(var a), .int64s(let b)):
            a.append(contentsOf: b)
            self = .int64s(a)
        case (.doubles(var a), .doubles(let b)):
            a.append(contentsOf: b)
            self = .doubles(a)
        case (.strings(var a), .strings(let b)):
            a.append(contentsOf: b)
            self = .strings(a)
        default:
            preconditionFailure("appending \(other.type) values to a \(type) column")
        }
    }

    /// The values converted to a type at least as wide (narrowing is never asked for).
    func converted(to target: ParquetColumnType) -> ParquetValues {
        if target == type { return self }
        switch (self, target) {
        case (.booleans(let v), .int64): return .int64s(v.map { $0 ? 1 : 0 })
        case (.booleans(let v), .double): return .doubles(v.map { $0 ? 1 : 0 })
        case (.int64s(let v), .double): return .doubles(v.map { Double($0) })
        case (_, .string): return .strings((0..<count).map { scalar(at: $0).description })
        default: preconditionFailure("cannot narrow \(type) values to \(target)")
        }
    }
}
