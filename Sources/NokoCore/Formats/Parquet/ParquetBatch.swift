/// Rows turned into columns, ready to become one row group.
struct ParquetBatch {
    var rowCount: Int
    var columns: [ParquetBatchColumn]
    /// User keys dropped because they collide with a bookkeeping column.
    var reservedKeys: Set<String> = []
}

/// One column of a ``ParquetBatch``.
struct ParquetBatchColumn {
    var name: String
    /// The types of the non-null values seen (empty when the column is all null).
    var observed: ParquetColumnTypeSet
    /// The values, converted to the widest observed type (DOUBLE when all null).
    var data: ParquetColumnData
}

/// Builds ``ParquetBatch``es from logged rows or from loaded tables.
enum ParquetBatchBuilder {
    /// The bookkeeping columns, first in every file, in this order.
    static let bookkeepingColumns = [SummarizedRow.stepKey, SummarizedRow.levelKey, SummarizedRow.utcTimestampKey, SummarizedRow.localTimeKey]
    /// Keys a user column may not take: the bookkeeping columns and `$table` (the file is the table).
    static let reservedKeys: Set<String> = Set(SummarizedRow.bookkeepingKeys)
    /// The type of a column that has only seen nulls; most such keys are summary statistics
    /// of empty arrays, which are floating point. The type changes for free once a value
    /// arrives (an all-null column's bytes are the same for every type).
    static let untypedColumnType = ParquetColumnType.double

    /// The columns of `rows`: the bookkeeping columns, then user keys in first-seen order.
    static func build(rows: [SummarizedRow]) -> ParquetBatch {
        rows.withUnsafeBufferPointer { build(rows: $0) }
    }

    // Rows are read through a buffer pointer and by field, never copied whole: copying a
    // `SummarizedRow` retains its six references, which would dominate the cost.
    private static func build(rows: UnsafeBufferPointer<SummarizedRow>) -> ParquetBatch {
        let n = rows.count
        var steps: [Int64] = []
        var levels: [Int64] = []
        var timestamps: [Double] = []
        var localTimes: [String] = []
        steps.reserveCapacity(n)
        levels.reserveCapacity(n)
        timestamps.reserveCapacity(n)
        localTimes.reserveCapacity(n)
        for r in 0..<n {
            steps.append(Int64(rows[r].step))
            levels.append(Int64(rows[r].level.value))
            timestamps.append(rows[r].time.utcTimestamp)
            localTimes.append(rows[r].time.localTime)
        }
        let allPresent = [Bool](repeating: true, count: n)
        var columns = [
            ParquetBatchColumn(name: SummarizedRow.stepKey, observed: set(.int64), data: ParquetColumnData(present: allPresent, values: .int64s(steps))),
            ParquetBatchColumn(name: SummarizedRow.levelKey, observed: set(.int64), data: ParquetColumnData(present: allPresent, values: .int64s(levels))),
            ParquetBatchColumn(
                name: SummarizedRow.utcTimestampKey, observed: set(.double), data: ParquetColumnData(present: allPresent, values: .doubles(timestamps))),
            ParquetBatchColumn(
                name: SummarizedRow.localTimeKey, observed: set(.string), data: ParquetColumnData(present: allPresent, values: .strings(localTimes))),
        ]

        // Pass 1: the user columns and their types. Rows of one table share few schemas, so
        // the key → column mapping is computed once per schema.
        var slotOfKey: [String: Int] = [:]
        var names: [String] = []
        var observed: [ParquetColumnTypeSet] = []
        var reserved: Set<String> = []
        var mapOfSchema: [Int: Int] = [:]  // schema id → index into keySlots
        var keySlots: [[Int]] = []  // per schema: key position → column slot, -1 for reserved keys
        var mapOfRow = [Int](repeating: 0, count: n)
        var lastSchemaID = -1
        var lastMap = -1
        for r in 0..<n {
            let schema = rows[r].schema
            if schema.id != lastSchemaID {
                lastSchemaID = schema.id
                if let known = mapOfSchema[lastSchemaID] {
                    lastMap = known
                } else {
                    let slots = schema.keys.map { key -> Int in
                        if reservedKeys.contains(key) {
                            reserved.insert(key)
                            return -1
                        }
                        if let slot = slotOfKey[key] { return slot }
                        slotOfKey[key] = names.count
                        names.append(key)
                        observed.append(ParquetColumnTypeSet())
                        return names.count - 1
                    }
                    lastMap = keySlots.count
                    mapOfSchema[lastSchemaID] = lastMap
                    keySlots.append(slots)
                }
            }
            mapOfRow[r] = lastMap
            keySlots[lastMap].withUnsafeBufferPointer { slots in
                rows[r].values.withUnsafeBufferPointer { values in
                    for position in 0..<values.count {
                        let slot = slots[position]
                        if slot >= 0, let type = ParquetColumnType(of: values[position]) { observed[slot].insert(type) }
                    }
                }
            }
        }

        // Pass 2, row by row: each value goes to its column's array, converted to the
        // column's type. One typed array per column; the others stay empty.
        let types = observed.map { $0.joined ?? untypedColumnType }
        let width = names.count
        var present = [[Bool]](repeating: [Bool](repeating: false, count: n), count: width)
        var booleans = [[Bool]](repeating: [], count: width)
        var integers = [[Int64]](repeating: [], count: width)
        var doubles = [[Double]](repeating: [], count: width)
        var strings = [[String]](repeating: [], count: width)
        for slot in 0..<width {
            switch types[slot] {
            case .boolean: booleans[slot].reserveCapacity(n)
            case .int64: integers[slot].reserveCapacity(n)
            case .double: doubles[slot].reserveCapacity(n)
            case .string: strings[slot].reserveCapacity(n)
            }
        }
        for r in 0..<n {
            keySlots[mapOfRow[r]].withUnsafeBufferPointer { slots in
                rows[r].values.withUnsafeBufferPointer { values in
                    for position in 0..<values.count {
                        let slot = slots[position]
                        guard slot >= 0 else { continue }
                        switch (types[slot], values[position]) {
                        case (_, .null): continue
                        case (.double, .double(let v)): doubles[slot].append(v)
                        case (.int64, .int(let v)): integers[slot].append(v)
                        case (.string, .string(let v)): strings[slot].append(v)
                        case (.boolean, .bool(let v)): booleans[slot].append(v)
                        case (.double, .int(let v)): doubles[slot].append(Double(v))
                        case (.double, .bool(let v)), (.int64, .bool(let v)):
                            if types[slot] == .double { doubles[slot].append(v ? 1 : 0) } else { integers[slot].append(v ? 1 : 0) }
                        case (.string, let other): strings[slot].append(other.description)
                        default: preconditionFailure("a value wider than its column's joined type")
                        }
                        present[slot][r] = true
                    }
                }
            }
        }
        for slot in 0..<width {
            let values: ParquetValues
            switch types[slot] {
            case .boolean: values = .booleans(booleans[slot])
            case .int64: values = .int64s(integers[slot])
            case .double: values = .doubles(doubles[slot])
            case .string: values = .strings(strings[slot])
            }
            columns.append(
                ParquetBatchColumn(name: names[slot], observed: observed[slot], data: ParquetColumnData(present: present[slot], values: values)))
        }
        return ParquetBatch(rowCount: n, columns: columns, reservedKeys: reserved)
    }

    /// The columns of `table` for rows `range`, each typed by `types` (computed over the whole
    /// table so that every batch agrees); `$table` is left out.
    static func build(table: LogTable, rows range: Range<Int>, types: [String: ParquetColumnTypeSet]) -> ParquetBatch {
        var columns: [ParquetBatchColumn] = []
        for name in orderedColumns(of: table) {
            let values = table[name]!
            let observed = types[name] ?? ParquetColumnTypeSet()
            let data = fill(rows: range, type: observed.joined ?? untypedColumnType) { values[$0] }
            columns.append(ParquetBatchColumn(name: name, observed: observed, data: data))
        }
        return ParquetBatch(rowCount: range.count, columns: columns)
    }

    /// The types seen in each column of `table`.
    static func observedTypes(of table: LogTable) -> [String: ParquetColumnTypeSet] {
        var result: [String: ParquetColumnTypeSet] = [:]
        for name in table.columnNames {
            var set = ParquetColumnTypeSet()
            for value in table[name]! {
                if let type = ParquetColumnType(of: value) { set.insert(type) }
            }
            result[name] = set
        }
        return result
    }

    /// A table's columns in file order: bookkeeping columns first, then the others, no `$table`.
    static func orderedColumns(of table: LogTable) -> [String] {
        bookkeepingColumns.filter { table[$0] != nil }
            + table.columnNames.filter { $0 != SummarizedRow.tableKey && !bookkeepingColumns.contains($0) }
    }

    private static func set(_ type: ParquetColumnType) -> ParquetColumnTypeSet {
        var set = ParquetColumnTypeSet()
        set.insert(type)
        return set
    }

    /// A column of `type` from the scalars `value(i)` for `i` in `rows`.
    private static func fill<Rows: Collection<Int>>(
        rows: Rows, type: ParquetColumnType, value: (Int) -> Scalar
    ) -> ParquetColumnData {
        var present: [Bool] = []
        present.reserveCapacity(rows.count)
        switch type {
        case .boolean:
            var out: [Bool] = []
            for i in rows {
                if case .bool(let v) = value(i) {
                    out.append(v)
                    present.append(true)
                } else {
                    present.append(false)
                }
            }
            return ParquetColumnData(present: present, values: .booleans(out))
        case .int64:
            var out: [Int64] = []
            out.reserveCapacity(rows.count)
            for i in rows {
                switch value(i) {
                case .int(let v): out.append(v)
                case .bool(let v): out.append(v ? 1 : 0)
                default:
                    present.append(false)
                    continue
                }
                present.append(true)
            }
            return ParquetColumnData(present: present, values: .int64s(out))
        case .double:
            var out: [Double] = []
            out.reserveCapacity(rows.count)
            for i in rows {
                switch value(i) {
                case .double(let v): out.append(v)
                case .int(let v): out.append(Double(v))
                case .bool(let v): out.append(v ? 1 : 0)
                default:
                    present.append(false)
                    continue
                }
                present.append(true)
            }
            return ParquetColumnData(present: present, values: .doubles(out))
        case .string:
            var out: [String] = []
            out.reserveCapacity(rows.count)
            for i in rows {
                switch value(i) {
                case .null:
                    present.append(false)
                    continue
                case .string(let v): out.append(v)
                case let other: out.append(other.description)
                }
                present.append(true)
            }
            return ParquetColumnData(present: present, values: .strings(out))
        }
    }
}
