import Synchronization

/// Struct rows without `Mirror`: an `Encodable` row is encoded straight into its columns.
///
/// `Mirror` costs an existential box, a child array and a `String` per field, per row. An
/// `Encoder` sees the same fields as typed calls (`encode(_: Double, forKey:)`), so a row of
/// scalars costs no allocation but its containers'. The column names of a type are worked
/// out once, on its first row, and cached (``Layout``); later rows only check that their
/// fields come in the same order with the same names.
///
/// `Encodable` and `Mirror` can disagree (renamed `CodingKeys`, a custom `encode(to:)`,
/// raw-value enums, `Date`'s and `URL`'s Codable forms, optionals left out instead of
/// null), and the columns must always be what `Mirror` gives (the README documents them):
/// a type's first row goes both ways, and a type whose columns differ keeps `Mirror` (one
/// debug message). A later row whose fields differ from its type's layout (an optional
/// that is nil this time) goes through `Mirror`. Whatever the encoder does not handle as
/// `Mirror` would (nested arrays, arrays of strings or structs, superclasses, a type with a
/// registered summarizer) makes the type keep `Mirror`.
enum RowEncoding {
    /// What a type's rows become.
    final class Layout: Sendable {
        /// The field names in encoding order, one per item.
        let leaves: [String]
        /// Whether each item is a numeric array (four columns) rather than a scalar.
        let isMoments: [Bool]
        /// The columns, as `Mirror` names them (a numeric array's four).
        let keys: [String]
        /// For each item, its column key without suffix (warnings name it).
        let itemKeys: [String]

        init(leaves: [String], isMoments: [Bool], keys: [String], itemKeys: [String]) {
            self.leaves = leaves
            self.isMoments = isMoments
            self.keys = keys
            self.itemKeys = itemKeys
        }
    }

    private enum Decision: Sendable {
        case encoder(Layout, Summarizer)
        case mirror
    }

    /// A row type that goes through the encoder: rows of it are summarized without a cast
    /// to `Encodable` (a protocol cast per row was a sixth of a struct row's summarizing).
    /// Unchecked: a metatype is immutable, whatever its type's own sendability.
    struct Summarizer: @unchecked Sendable {
        let type: any Encodable.Type

        func callAsFunction(_ row: Any, _ layout: Layout, _ columns: inout ValueColumns) -> Bool {
            type.nokoSummarizeRow(row, layout, &columns)
        }
    }

    private static func summarizer(of row: any Encodable) -> Summarizer { Summarizer(type: Swift.type(of: row)) }

    /// For a row whose type already had its first row: summarizes it through the encoder
    /// (true) or says to use `Mirror` (false); nil for a type not seen yet.
    ///
    /// Only types that reached the `Encodable` check of `summarizeRow` have a decision, so
    /// the checks before it (custom summarizers, dictionaries) would not have taken them.
    static func summarizeKnown(_ row: Any, into columns: inout ValueColumns) -> Bool? {
        switch decisions.withLock({ $0[ObjectIdentifier(Swift.type(of: row))] }) {
        case .encoder(let layout, let summarize)?: return summarize(row, layout, &columns)
        case .mirror?: return false
        case nil: return nil
        }
    }

    private static let decisions = Mutex<[ObjectIdentifier: Decision]>([:])

    /// Whether rows of `type` go through the encoder (false until its first row).
    static func usesEncoder<T>(for type: T.Type) -> Bool {
        if case .encoder? = decisions.withLock({ $0[ObjectIdentifier(type)] }) { return true }
        return false
    }

    /// Summarizes `row` into `columns` when its type goes through the encoder; false when
    /// the caller must use `Mirror`.
    static func summarize(_ row: any Encodable, into columns: inout ValueColumns, mirror: (inout ValueColumns) -> Void) -> Bool {
        let type = ObjectIdentifier(Swift.type(of: row))
        switch decisions.withLock({ $0[type] }) {
        case .mirror?:
            return false
        case .encoder(let layout, _)?:
            let encoder = RowEncoder(layout: layout, registry: columns.registry)
            guard (try? row.encode(to: encoder)) != nil, encoder.complete else { return false }
            columns = encoder.output
            return true
        case nil:
            return decide(row, type: type, into: &columns, mirror: mirror)
        }
    }

    /// The first row of a type: both ways, compared.
    private static func decide(
        _ row: any Encodable, type: ObjectIdentifier, into columns: inout ValueColumns, mirror: (inout ValueColumns) -> Void
    ) -> Bool {
        var reference = ValueColumns(registry: columns.registry)
        mirror(&reference)
        let encoder = RowEncoder(layout: nil, registry: columns.registry)
        var decision = Decision.mirror
        var why = ""
        if (try? row.encode(to: encoder)) != nil, encoder.failure == nil {
            let layout = encoder.recordedLayout()
            var encoded = ValueColumns(registry: columns.registry)
            encoder.replay(into: &encoded, layout: layout)
            if encoded.keys == reference.keys && zip(encoded.values, reference.values).allSatisfy({ $0.isIdentical(to: $1) }) {
                decision = .encoder(layout, summarizer(of: row))
            } else {
                why = "its Encodable columns (\(encoded.keys.prefix(6).joined(separator: ", "))…) differ from its fields' (\(reference.keys.prefix(6).joined(separator: ", "))…)"
            }
        } else {
            why = encoder.failure ?? "its encode(to:) threw"
        }
        decisions.withLock { $0[type] = decision }
        // The first row's columns are Mirror's either way.
        columns = reference
        if case .mirror = decision { columns.encodingNote = "rows of type \(Swift.type(of: row)) are summarized through Mirror: \(why)" }
        return true
    }
}

extension Scalar {
    /// Equal, NaN included (the comparison is of what is written).
    func isIdentical(to other: Scalar) -> Bool {
        if case .double(let a) = self, case .double(let b) = other { return a.bitPattern == b.bitPattern || a == b }
        return self == other
    }
}

/// One pass of `encode(to:)` over a row: the scalars and numeric arrays in order, with
/// their field names; recording the names (the first row) or checking them against a
/// layout (the others).
final class RowEncoder: Encoder {
    enum Item {
        case scalar(Scalar)
        case moments(Moments)
    }

    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    private let layout: RowEncoding.Layout?
    private let registry: SummarizerRegistry.Snapshot
    /// Recording: the items, replayed into columns once the layout is known.
    private(set) var items: [Item] = []
    /// With a layout: the columns, filled as the fields come (no items in between).
    private(set) var output: ValueColumns
    private var itemCount = 0
    private var column = 0
    /// Recording: each item's field name and full key.
    private var leaves: [String] = []
    private var itemKeys: [String] = []
    /// Why the row cannot go through the encoder.
    private(set) var failure: String?
    /// The key of the value whose `encode(to:)` runs now, recording (`a/b`).
    fileprivate var pendingKey = ""
    fileprivate var pendingLeaf = ""
    private var depth = 0
    /// A numeric array being encoded element by element.
    fileprivate var collection: NumericCollection?

    init(layout: RowEncoding.Layout?, registry: SummarizerRegistry.Snapshot) {
        self.layout = layout
        self.registry = registry
        output = ValueColumns(registry: registry)
        if layout == nil { items.reserveCapacity(16) }
    }

    var recording: Bool { layout == nil }

    /// Whether the row matched its layout in full.
    var complete: Bool { failure == nil && itemCount == layout?.leaves.count }

    func fail(_ why: String) {
        if failure == nil { failure = why }
    }

    /// Adds an item under field `leaf` (full key `key` when recording).
    fileprivate func append(_ item: Item, leaf: String, key: @autoclosure () -> String) {
        guard failure == nil else { return }
        if let layout {
            let position = itemCount
            guard position < layout.leaves.count, layout.leaves[position] == leaf else { return fail("the fields differ from the layout") }
            switch item {
            case .scalar(let value):
                guard !layout.isMoments[position] else { return fail("the fields differ from the layout") }
                output.add(layout.keys[column], value)
                column += 1
            case .moments(let moments):
                guard layout.isMoments[position] else { return fail("the fields differ from the layout") }
                output.addMoments(moments, keys: layout.keys[column..<(column + 4)], key: layout.itemKeys[position])
                column += 4
            }
            itemCount += 1
            return
        }
        leaves.append(leaf)
        itemKeys.append(key())
        items.append(item)
        itemCount += 1
    }

    /// Encodes a field's value that is not a plain scalar: a numeric array at once, else
    /// the value's own `encode(to:)` under the field's key.
    fileprivate func encodeNested<T: Encodable>(_ value: T, leaf: String, key: @autoclosure () -> String) throws {
        guard failure == nil else { return }
        // Numeric arrays at once, as Mirror's walk reduces them (no element by element).
        if let array = value as? [Double] { return append(.moments(array.nokoMoments()), leaf: leaf, key: key()) }
        if let array = value as? [Float] { return append(.moments(array.nokoMoments()), leaf: leaf, key: key()) }
        if let array = value as? [Int] { return append(.moments(array.nokoMoments()), leaf: leaf, key: key()) }
        if !registry.isEmpty, registry[ObjectIdentifier(T.self)] != nil { return fail("\(T.self) has a registered summarizer") }
        if value is any NokoSummarizable { return fail("\(T.self) summarizes itself (NokoSummarizable)") }
        guard depth < maxSummaryDepth else { return fail("nested deeper than \(maxSummaryDepth) levels") }
        let (savedKey, savedLeaf) = (pendingKey, pendingLeaf)
        pendingLeaf = leaf
        if recording { pendingKey = key() }
        depth += 1
        defer {
            depth -= 1
            (pendingKey, pendingLeaf) = (savedKey, savedLeaf)
        }
        let before = itemCount
        try value.encode(to: self)
        if let open = collection {
            collection = nil
            append(.moments(open.moments), leaf: leaf, key: pendingKey)
        } else if itemCount == before, failure == nil {
            fail("\(T.self) encodes no value")
        }
    }

    // MARK: Encoder

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if collection != nil { fail("a keyed value inside an array") }
        return KeyedEncodingContainer(KeyedRowContainer<Key>(encoder: self, prefix: depth == 0 ? "" : pendingKey))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if depth == 0 { fail("the row is an array, not a struct") }
        if collection != nil { fail("an array inside an array") }
        collection = NumericCollection()
        return UnkeyedRowContainer(encoder: self)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        if depth == 0 { fail("the row is a single value, not a struct") }
        return SingleRowContainer(encoder: self)
    }

    // MARK: Results

    /// The layout of a recorded row, with `Mirror`'s column names.
    func recordedLayout() -> RowEncoding.Layout {
        var keys: [String] = []
        var isMoments: [Bool] = []
        for (item, key) in zip(items, itemKeys) {
            if case .moments = item {
                isMoments.append(true)
                keys.append(contentsOf: ValueColumns.momentSuffixes.map { key + $0 })
            } else {
                isMoments.append(false)
                keys.append(key)
            }
        }
        return RowEncoding.Layout(leaves: leaves, isMoments: isMoments, keys: keys, itemKeys: itemKeys)
    }

    /// Adds the items to `columns` under the layout's keys, as `Mirror`'s walk adds them.
    func replay(into columns: inout ValueColumns, layout: RowEncoding.Layout) {
        var k = 0
        for (i, item) in items.enumerated() {
            switch item {
            case .scalar(let value):
                columns.add(layout.keys[k], value)
                k += 1
            case .moments(let moments):
                columns.addMoments(moments, keys: layout.keys[k..<(k + 4)], key: layout.itemKeys[i])
                k += 4
            }
        }
    }
}

/// The elements of a numeric array as they are encoded one by one (of one type: Mirror sees
/// an array of one element type).
struct NumericCollection {
    var doubles: [Double] = []
    var floats: [Float] = []
    var integers: [Int64] = []

    var moments: Moments {
        if !floats.isEmpty { return floats.withUnsafeBufferPointer { Moments.ofFloatingPoint($0) } }
        if !integers.isEmpty { return integers.withUnsafeBufferPointer { Moments.ofIntegers($0) } }
        return doubles.withUnsafeBufferPointer { Moments.ofFloatingPoint($0) }
    }
}

/// Scalars as `Mirror`'s walk makes them.
extension RowEncoder {
    static func scalar<T: BinaryInteger>(_ v: T) -> Scalar {
        if let exact = Int64(exactly: v) { return .int(exact) }
        return .double(Double(v))
    }
}

private struct KeyedRowContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: RowEncoder
    let prefix: String
    var codingPath: [any CodingKey] { [] }

    private func key(_ key: Key) -> String { prefix.nokoJoined(key.stringValue) }

    private func add(_ value: Scalar, _ key: Key) {
        let name = key.stringValue
        // Mirror names a field called `self` after its type.
        if name == "self" { return encoder.fail("a field named self") }
        encoder.append(.scalar(value), leaf: name, key: prefix.nokoJoined(name))
    }

    mutating func encodeNil(forKey key: Key) throws { add(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { add(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { add(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { add(.double(value), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { add(.double(Scalar.widen(value)), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { add(.int(Int64(value)), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { add(.int(Int64(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { add(.int(Int64(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { add(.int(Int64(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { add(.int(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { add(RowEncoder.scalar(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { add(.int(Int64(value)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { add(.int(Int64(value)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { add(.int(Int64(value)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { add(RowEncoder.scalar(value), key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try encoder.encodeNested(value, leaf: key.stringValue, key: self.key(key))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        encoder.fail("a nested container made by hand")
        return KeyedEncodingContainer(KeyedRowContainer<NestedKey>(encoder: encoder, prefix: self.key(key)))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        encoder.fail("a nested array made by hand")
        return UnkeyedRowContainer(encoder: encoder)
    }

    mutating func superEncoder() -> any Encoder {
        encoder.fail("a superclass's fields")
        return encoder
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        encoder.fail("a superclass's fields")
        return encoder
    }
}

private struct UnkeyedRowContainer: UnkeyedEncodingContainer {
    let encoder: RowEncoder
    var codingPath: [any CodingKey] { [] }
    var count: Int { 0 }

    private func add(double: Double? = nil, float: Float? = nil, integer: Int64? = nil) {
        guard var collection = encoder.collection else { return encoder.fail("an array element outside its array") }
        encoder.collection = nil  // uniquely referenced while it grows
        if let double { collection.doubles.append(double) }
        if let float { collection.floats.append(float) }
        if let integer { collection.integers.append(integer) }
        let kinds = (collection.doubles.isEmpty ? 0 : 1) + (collection.floats.isEmpty ? 0 : 1) + (collection.integers.isEmpty ? 0 : 1)
        if kinds > 1 { return encoder.fail("an array of mixed numbers") }
        encoder.collection = collection
    }

    private func integer<T: BinaryInteger>(_ v: T) {
        guard let exact = Int64(exactly: v) else { return encoder.fail("an array element beyond Int64") }
        add(integer: exact)
    }

    mutating func encodeNil() throws { encoder.fail("an array with nil elements") }
    mutating func encode(_ value: Bool) throws { encoder.fail("an array of booleans") }
    mutating func encode(_ value: String) throws { encoder.fail("an array of strings") }
    mutating func encode(_ value: Double) throws { add(double: value) }
    mutating func encode(_ value: Float) throws { add(float: value) }
    mutating func encode(_ value: Int) throws { integer(value) }
    mutating func encode(_ value: Int8) throws { integer(value) }
    mutating func encode(_ value: Int16) throws { integer(value) }
    mutating func encode(_ value: Int32) throws { integer(value) }
    mutating func encode(_ value: Int64) throws { integer(value) }
    mutating func encode(_ value: UInt) throws { integer(value) }
    mutating func encode(_ value: UInt8) throws { integer(value) }
    mutating func encode(_ value: UInt16) throws { integer(value) }
    mutating func encode(_ value: UInt32) throws { integer(value) }
    mutating func encode(_ value: UInt64) throws { integer(value) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        // `Array.encode(to:)` hands its elements over generically.
        switch value {
        case let v as Double: add(double: v)
        case let v as Float: add(float: v)
        case let v as Int: integer(v)
        case let v as Int64: integer(v)
        case let v as Int32: integer(v)
        case let v as UInt8: integer(v)
        default: encoder.fail("an array of \(T.self)")
        }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        encoder.fail("an array of structs")
        return KeyedEncodingContainer(KeyedRowContainer<NestedKey>(encoder: encoder, prefix: ""))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        encoder.fail("an array of arrays")
        return self
    }

    mutating func superEncoder() -> any Encoder {
        encoder.fail("a superclass's fields")
        return encoder
    }
}

private struct SingleRowContainer: SingleValueEncodingContainer {
    let encoder: RowEncoder
    var codingPath: [any CodingKey] { [] }

    private func add(_ value: Scalar) {
        encoder.append(.scalar(value), leaf: encoder.pendingLeaf, key: encoder.pendingKey)
    }

    mutating func encodeNil() throws { add(.null) }
    mutating func encode(_ value: Bool) throws { add(.bool(value)) }
    mutating func encode(_ value: String) throws { add(.string(value)) }
    mutating func encode(_ value: Double) throws { add(.double(value)) }
    mutating func encode(_ value: Float) throws { add(.double(Scalar.widen(value))) }
    mutating func encode(_ value: Int) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { add(.int(value)) }
    mutating func encode(_ value: UInt) throws { add(RowEncoder.scalar(value)) }
    mutating func encode(_ value: UInt8) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: UInt16) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: UInt32) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: UInt64) throws { add(RowEncoder.scalar(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { encoder.fail("a single value of \(T.self)") }
}

extension Encodable {
    /// `row`, which holds a `Self`, through the encoder with `layout` (see
    /// `RowEncoding.Summarizer`); false when its columns do not fit the layout.
    fileprivate static func nokoSummarizeRow(_ row: Any, _ layout: RowEncoding.Layout, _ columns: inout ValueColumns) -> Bool {
        // A cast to a concrete type, far cheaper than one to a protocol.
        let value = row as! Self
        let encoder = RowEncoder(layout: layout, registry: columns.registry)
        guard (try? value.encode(to: encoder)) != nil, encoder.complete else { return false }
        columns = encoder.output
        return true
    }
}
