/// Encodes a row as one TensorBoard `Event`: the row's wall time and step, and a `Summary`
/// with one `simple_value` per numeric key under the tag `<table>/<key>` (`:` becomes `_`).
///
/// Booleans become 0 and 1; strings and nulls are left out; a row with no numeric value
/// gives no event. `simple_value` is a 32-bit float, as in every TensorBoard writer: integers
/// past 2^24 round, and finite doubles beyond Float's range become ±infinity (reported once
/// per tag through ``takeWarnings()``; the journal keeps the exact value).
///
/// The bytes in front of each value (the `Summary.Value` key, its length, the tag and the
/// `simple_value` key) depend only on the table and the key, so they are built once per
/// schema and copied for every row after that.
struct ScalarEventEncoder {
    /// Per-schema bytes: the prefix of key `i` is `prefixes[starts[i]..<starts[i + 1]]`.
    private struct TagPrefixes {
        let schemaID: Int
        let table: String
        let prefixes: [UInt8]
        let starts: [Int]
    }

    private struct SchemaKey: Hashable {
        let schemaID: Int
        let table: String
    }

    /// Schemas come and go when keys are added, so the cache is emptied past this size.
    private static let cacheLimit = 4096

    private var cache: [SchemaKey: TagPrefixes] = [:]
    private var last: TagPrefixes?
    private var tagsWarnedAbout: Set<String> = []
    private var warnings: [String] = []

    init() {}

    /// The TensorBoard tag of `key` in `table`.
    static func tag(table: String, key: String) -> String {
        String(decoding: tagBytes(table: table, key: key), as: UTF8.self)
    }

    private static func tagBytes(table: String, key: String) -> [UInt8] {
        // ':' is ASCII, so it never occurs inside a multi-byte UTF-8 sequence.
        var bytes = Array(table.utf8)
        bytes.append(UInt8(ascii: "/"))
        bytes.append(contentsOf: key.utf8)
        for i in bytes.indices where bytes[i] == UInt8(ascii: ":") { bytes[i] = UInt8(ascii: "_") }
        return bytes
    }

    /// Appends the row's event as one record; returns false (and appends nothing) when the
    /// row has no numeric value.
    @discardableResult
    mutating func appendEvent(for row: SummarizedRow, to records: inout TFRecordWriter) -> Bool {
        let tags = tagPrefixes(for: row)
        let values = row.values
        var summaryLength = 0
        for i in values.indices {
            switch values[i] {
            case .int, .double, .bool: summaryLength += tags.starts[i + 1] - tags.starts[i] + 4
            case .null, .string: continue
            }
        }
        guard summaryLength > 0 else { return false }

        var overflowedKeys: [Int] = []
        records.appendRecord { writer in
            TensorBoardEvents.writeEventHeader(wallTime: row.time.utcTimestamp, step: Int64(row.step), to: &writer)
            writer.writeKey(field: TensorBoardEvents.Event.summary, .lengthDelimited)
            writer.writeVarint(UInt64(summaryLength))
            tags.prefixes.withUnsafeBufferPointer { prefixes in
                for i in values.indices {
                    let number: Float
                    switch values[i] {
                    case .double(let value):
                        number = Float(value)
                        if value.isFinite && !number.isFinite { overflowedKeys.append(i) }
                    case .int(let value): number = Float(value)
                    case .bool(let value): number = value ? 1 : 0
                    case .null, .string: continue
                    }
                    writer.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: prefixes[tags.starts[i]..<tags.starts[i + 1]]))
                    writer.writeFixed32(number.bitPattern)
                }
            }
        }
        for i in overflowedKeys { noteOverflow(row: row, keyIndex: i) }
        return true
    }

    /// Warnings gathered since the last call, for the caller to log outside its lock.
    mutating func takeWarnings() -> [String] {
        defer { warnings.removeAll() }
        return warnings
    }

    private mutating func noteOverflow(row: SummarizedRow, keyIndex: Int) {
        let tag = Self.tag(table: row.table, key: row.schema.keys[keyIndex])
        guard tagsWarnedAbout.insert(tag).inserted else { return }
        let key = row.schema.keys[keyIndex]
        let value = row.values[keyIndex].doubleValue ?? 0
        warnings.append(
            "tensorboard: key '\(key)' of table '\(row.table)' is \(Scalar.format(value)), beyond the range of "
                + "TensorBoard's 32-bit scalars, so tag '\(tag)' shows \(value > 0 ? "inf" : "-inf") "
                + "(the journal keeps the exact value); said once per tag")
    }

    private mutating func tagPrefixes(for row: SummarizedRow) -> TagPrefixes {
        if let last, last.schemaID == row.schema.id, last.table == row.table { return last }
        let key = SchemaKey(schemaID: row.schema.id, table: row.table)
        let tags: TagPrefixes
        if let cached = cache[key] {
            tags = cached
        } else {
            tags = Self.buildPrefixes(schema: row.schema, table: row.table)
            if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[key] = tags
        }
        last = tags
        return tags
    }

    private static func buildPrefixes(schema: RowSchema, table: String) -> TagPrefixes {
        var writer = ProtobufWriter(capacity: schema.keys.count * 32)
        var starts = [0]
        starts.reserveCapacity(schema.keys.count + 1)
        for key in schema.keys {
            let tag = tagBytes(table: table, key: key)
            // Summary.Value { tag, simple_value }: key + length + tag, then key + 4 bytes.
            let valueLength =
                ProtobufWriter.lengthDelimitedOverhead(field: TensorBoardEvents.SummaryValue.tag, payloadCount: tag.count)
                + tag.count + 1 + 4
            writer.writeKey(field: TensorBoardEvents.Summary.value, .lengthDelimited)
            writer.writeVarint(UInt64(valueLength))
            writer.writeBytes(field: TensorBoardEvents.SummaryValue.tag, tag)
            writer.writeKey(field: TensorBoardEvents.SummaryValue.simpleValue, .fixed32)
            starts.append(writer.bytes.count)
        }
        return TagPrefixes(schemaID: schema.id, table: table, prefixes: writer.bytes, starts: starts)
    }
}
