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
    static let bookkeepingColumns = ["$step", "$level", "$utc_timestamp", "$localtime"]
    /// Keys a user column may not take: the bookkeeping columns and `$table` (the file is the table).
    static let reservedKeys: Set<String> = Set(SummarizedRow.bookkeepingKeys)
    /// The type of a column that has only seen nulls; most such keys are summary statistics
    /// of empty arrays, which are floating point. The type changes for free once a value
    /// arrives (an all-null column's bytes are the same for every type).
    static let untypedColumnType = ParquetColumnType.double

    /// The columns of `rows`: the bookkeeping columns, then user keys in first-seen order.
    static func build(rows: [SummarizedRow]) -> ParquetBatch {
        let n = rows.count
        var steps: [Int64] = []
        var levels: [Int64] = []
        var timestamps: [Double] = []
        var localTimes: [String] = []
        steps.reserveCapacity(n)
        levels.reserveCapacity(n)
        timestamps.reserveCapacity(n)
        localTimes.reserveCapacity(n)
        for row in rows {
            steps.append(Int64(row.step))
            levels.append(Int64(row.level.value))
            timestamps.append(row.time.utcTimestamp)
            localTimes.append(row.time.localTime)
        }
        let allPresent = [Bool](repeating: true, count: n)
        var columns = [
            ParquetBatchColumn(name: "$step", observed: set(.int64), data: ParquetColumnData(present: allPresent, values: .int64s(steps))),
            ParquetBatchColumn(name: "$level", observed: set(.int64), data: ParquetColumnData(present: allPresent, values: .int64s(levels))),
            ParquetBatchColumn(
                name: "$utc_timestamp", observed: set(.double), data: ParquetColumnData(present: allPresent, values: .doubles(timestamps))),
            ParquetBatchColumn(
                name: "$localtime", observed: set(.string), data: ParquetColumnData(present: allPresent, values: .strings(localTimes))),
        ]

        // Pass 1: the user columns and their types. Rows of one table share few schemas, so
        // the key → column mapping is computed once per schema.
        var slotOfKey: [String: Int] = [:]
        var names: [String] = []
        var observed: [ParquetColumnTypeSet] = []
        var reserved: Set<String> = []
        var schemaMaps: [Int: Int] = [:]  // schema id → index into keySlots
        var keySlots: [[Int]] = []  // per schema: key position → column slot, -1 for reserved keys
        var mapOfRow: [Int] = []
        mapOfRow.reserveCapacity(n)
        var lastSchemaID = -1
        var lastMap = -1
        for row in rows {
            if row.schema.id != lastSchemaID {
                lastSchemaID = row.schema.id
                if let known = schemaMaps[lastSchemaID] {
                    lastMap = known
                } else {
                    let slots = row.schema.keys.map { key -> Int in
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
                    schemaMaps[lastSchemaID] = lastMap
                    keySlots.append(slots)
                }
            }
            mapOfRow.append(lastMap)
            let slots = keySlots[lastMap]
            for (position, value) in row.values.enumerated() {
                let slot = slots[position]
                if slot >= 0, let type = ParquetColumnType(of: value) { observed[slot].insert(type) }
            }
        }

        // Pass 2: fill each column, converting values to its type.
        let positions: [[Int]] = keySlots.map { slots in
            var inverse = [Int](repeating: -1, count: names.count)
            for (position, slot) in slots.enumerated() where slot >= 0 { inverse[slot] = position }
            return inverse
        }
        for slot in names.indices {
            let type = observed[slot].joined ?? untypedColumnType
            let data = fill(rows: rows.indices, type: type) { r in
                let position = positions[mapOfRow[r]][slot]
                return position >= 0 ? rows[r].values[position] : .null
            }
            columns.append(ParquetBatchColumn(name: names[slot], observed: observed[slot], data: data))
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
            + table.columnNames.filter { $0 != "$table" && !bookkeepingColumns.contains($0) }
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
