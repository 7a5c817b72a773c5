import Foundation

/// How many elements a non-numeric collection may have and still be logged element by
/// element (`xs[0]`, `xs[1]`…); longer ones are logged as `xs.count` only, so a row never
/// explodes into thousands of columns.
public let maxIndexedElements = 16

/// How deep values may nest before noko stops descending (with a warning).
public let maxSummaryDepth = 32

/// Containers whose entries become `prefix/key` (dictionaries, `KeyValuePairs`).
///
/// A dictionary's entries are visited in its iteration order, which differs between
/// instances (the logger maps shuffled keys back onto the table's schema): sorting every
/// row's keys would cost more than the rest of `logRow`. When a key contains a separator
/// (`/`, `.`, `[`) or is `self`, two entries may land on the same flat key, and the entries
/// are sorted first, so which one gets the `_1` suffix is the same in every row.
protocol KeyedEntries {
    func nokoForEach(_ body: (String, Any) -> Void)
}

extension Dictionary: KeyedEntries {
    func nokoForEach(_ body: (String, Any) -> Void) {
        if let strings = self as? [String: Value], strings.keys.contains(where: mayCollide) {
            for key in strings.keys.sorted() { body(key, strings[key]!) }
            return
        }
        for (key, value) in self { body((key as? String) ?? String(describing: key), value) }
    }
}

/// True when the flat keys of this entry could equal another entry's.
func mayCollide(_ key: String) -> Bool {
    // Runs for every key of every dictionary row: scan the contiguous bytes directly.
    let separator = key.utf8.withContiguousStorageIfAvailable { bytes in
        bytes.contains { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "[") }
    } ?? key.utf8.contains { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "[") }
    return separator || key == "self"
}

extension KeyValuePairs: KeyedEntries {
    func nokoForEach(_ body: (String, Any) -> Void) {
        for (key, value) in self { body((key as? String) ?? String(describing: key), value) }
    }
}

/// Ordered collections whose elements become `prefix[i]`.
protocol IndexedElements {
    var nokoCount: Int { get }
    func nokoPrefix(_ n: Int) -> [Any]
}

extension Array: IndexedElements {
    var nokoCount: Int { count }
    func nokoPrefix(_ n: Int) -> [Any] { prefix(n).map { $0 as Any } }
}
extension ContiguousArray: IndexedElements {
    var nokoCount: Int { count }
    func nokoPrefix(_ n: Int) -> [Any] { prefix(n).map { $0 as Any } }
}
extension ArraySlice: IndexedElements {
    var nokoCount: Int { count }
    func nokoPrefix(_ n: Int) -> [Any] { prefix(n).map { $0 as Any } }
}

/// Lets the walker see through `Optional` inside an `Any`.
protocol OptionalValue {
    var nokoWrapped: Any? { get }
}

extension Optional: OptionalValue {
    var nokoWrapped: Any? {
        switch self {
        case .some(let v): return v
        case .none: return nil
        }
    }
}

extension ValueColumns {
    /// Summarizes a whole row: a keyed value (dictionary, struct, class) contributes its
    /// entries as top-level keys; anything else is logged under `value`.
    mutating func summarizeRow(_ row: Any) {
        if !registry.isEmpty, let entry = registry[ObjectIdentifier(type(of: row))] {
            entry.body(row, "", &self)
            return
        }
        // The usual row, a `[String: Any]`, told by its type like the common scalars: the
        // general casts below cost more than summarizing a short row's values.
        if !ValueColumns.dictionaryRowsAreCustom, let dictionary = _openExistential(row, do: exactStringAnyDictionary),
            !dictionary.keys.contains(where: mayCollide)
        {
            reserve(dictionary.count)
            for (key, value) in dictionary { walkEntry(key, value, prefix: "") }
            return
        }
        // A struct type seen before: straight to the encoder, or to `Mirror`, without the
        // protocol casts below.
        if let encoded = RowEncoding.summarizeKnown(row, into: &self) {
            if !encoded { summarizeWithMirror(row) }
            return
        }
        if let custom = row as? any NokoSummarizable {
            custom.summarize(prefix: "", into: &self)
            return
        }
        if let dictionary = row as? [String: Any], !dictionary.keys.contains(where: mayCollide) {
            // The common row: a specialized loop, no existential dispatch per entry. (Keys
            // are checked first, not as they come: summarizing part of a row twice would run
            // custom summarizers twice.)
            reserve(dictionary.count)
            for (key, value) in dictionary { walkEntry(key, value, prefix: "") }
            return
        }
        if let keyed = row as? any KeyedEntries {
            keyed.nokoForEach { walkEntry($0, $1, prefix: "") }
            return
        }
        if let encodable = row as? any Encodable, RowEncoding.summarize(encodable, into: &self, mirror: { $0.summarizeWithMirror(row) }) {
            return
        }
        summarizeWithMirror(row)
    }

    /// True when `[String: Any]` itself conforms to `NokoSummarizable` (the user's own
    /// extension), which then summarizes dictionary rows.
    private static let dictionaryRowsAreCustom = [String: Any].self is any NokoSummarizable.Type

    /// A struct's or class's stored properties as columns, else the value under `value`.
    mutating func summarizeWithMirror(_ row: Any) {
        let mirror = Mirror(reflecting: row)
        if mirror.displayStyle == .struct || mirror.displayStyle == .class, !mirror.children.isEmpty {
            walkFields(of: row, mirror: mirror, prefix: "")
            return
        }
        walk(row, key: "value")
    }

    /// Summarizes `value` under `key` (already joined with its prefix).
    mutating func walk(_ value: Any, key: String) {
        // The common scalars first: this is the hot path of every row. Opening the existential
        // and comparing its type is a few instructions, where each `as?` below is a trip
        // through the runtime's general cast (a quarter of a dictionary row's summarizing).
        if let scalar = _openExistential(value, do: exactCommonScalar) {
            add(key, scalar)
            return
        }
        switch value {
        case let v as Double: add(key, .double(v)); return
        case let v as Int: add(key, .int(Int64(v))); return
        case let v as String: add(key, .string(v)); return
        case let v as Float: add(key, .double(Scalar.widen(v))); return
        case let v as Bool: add(key, .bool(v)); return
        default: break
        }
        if !registry.isEmpty, let entry = registry[ObjectIdentifier(type(of: value))] {
            entry.body(value, key, &self)
            return
        }
        if let scalar = Scalar.fromOtherScalar(value) {
            add(key, scalar)
            return
        }
        if let optional = value as? any OptionalValue {
            if let wrapped = optional.nokoWrapped {
                walk(wrapped, key: key)
            } else {
                add(key, .null)
            }
            return
        }
        if let numeric = value as? any NumericSummarizable {
            addMoments(numeric.nokoMoments(), key: key)
            return
        }
        guard depth < maxSummaryDepth else {
            warn(.tooDeep, key: key, "nested deeper than \(maxSummaryDepth) levels; the rest of this value is not logged")
            return
        }
        depth += 1
        defer { depth -= 1 }
        if let custom = value as? any NokoSummarizable {
            custom.summarize(prefix: key, into: &self)
            return
        }
        if let keyed = value as? any KeyedEntries {
            keyed.nokoForEach { walkEntry($0, $1, prefix: key) }
            return
        }
        if let indexed = value as? any IndexedElements {
            walkIndexed(count: indexed.nokoCount, prefix: indexed.nokoPrefix(maxIndexedElements), key: key)
            return
        }
        if let foundation = Scalar.fromFoundation(value) {
            add(key, foundation)
            return
        }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .struct, .class:
            if mirror.children.isEmpty, mirror.superclassMirror == nil {
                // A type with no stored properties says nothing but its name.
                add(key, .string(String(describing: value)))
            } else {
                walkFields(of: value, mirror: mirror, prefix: key)
            }
        case .enum:
            walkEnum(value, mirror: mirror, key: key)
        case .tuple:
            for (i, child) in mirror.children.enumerated() {
                let label = child.label.map { $0.hasPrefix(".") ? "\(key)[\(i)]" : key.nokoJoined($0) } ?? "\(key)[\(i)]"
                walk(child.value, key: label)
            }
        case .collection, .set, .dictionary:
            let children = Array(mirror.children.prefix(maxIndexedElements).map(\.value))
            walkIndexed(count: mirror.children.count, prefix: children, key: key)
        case .optional:
            if let child = mirror.children.first { walk(child.value, key: key) } else { add(key, .null) }
        default:
            warn(.unsupported, key: key, "cannot summarize a value of type \(type(of: value)); key skipped")
        }
    }

    private mutating func walkEntry(_ entryKey: String, _ value: Any, prefix: String) {
        let name = entryKey == "self" ? String(describing: type(of: value)) : entryKey
        walk(value, key: prefix.nokoJoined(name))
    }

    private mutating func walkFields(of value: Any, mirror: Mirror, prefix: String) {
        let isClass = mirror.displayStyle == .class
        if isClass {
            let id = ObjectIdentifier(value as AnyObject)
            if ancestors.contains(id) {
                warn(.cycle, key: prefix, "reference cycle: this object contains itself; the repeated reference is not logged")
                return
            }
            ancestors.append(id)
        }
        defer { if isClass { ancestors.removeLast() } }
        // Superclass fields first, as declared.
        var mirrors = [mirror]
        while let parent = mirrors.last!.superclassMirror { mirrors.append(parent) }
        for m in mirrors.reversed() {
            for child in m.children {
                guard let label = child.label else { continue }
                // `lazy var` storage and property-wrapper backing fields carry a prefix.
                let name = label.hasPrefix("$__lazy_storage_$_") ? String(label.dropFirst(18)) : label
                walk(child.value, key: prefix.nokoJoined(name == "self" ? String(describing: type(of: child.value)) : name))
            }
        }
    }

    private mutating func walkIndexed(count: Int, prefix elements: [Any], key: String) {
        if count > maxIndexedElements {
            warn(.truncated, key: key, "collection of \(count) non-numeric elements is logged as \(key).count only")
            add(key + ".count", .int(Int64(count)))
            return
        }
        for (i, element) in elements.enumerated() {
            walk(element, key: "\(key)[\(i)]")
        }
    }

    private mutating func walkEnum(_ value: Any, mirror: Mirror, key: String) {
        // A case name is the useful part; associated values nest under it.
        guard let payload = mirror.children.first else {
            add(key, .string(String(describing: value)))
            return
        }
        let caseName = payload.label ?? String(describing: value)
        add(key, .string(caseName))
        walk(payload.value, key: key.nokoJoined(caseName))
    }

    private mutating func addMoments(_ m: Moments, key: String) {
        addMoments(m, keys: ValueColumns.momentSuffixes.map { key + $0 }[...], key: key)
    }

    /// Adds `.mean/.min/.max/.std` of `m` under `keys` (the four names, made once per type
    /// by the row encoder); `key` names the collection in warnings.
    mutating func addMoments(_ m: Moments, keys: ArraySlice<String>, key: String) {
        if m.count == 0 {
            warn(.emptyCollection, key: key, "empty numeric collection; its .mean/.min/.max/.std are null")
            for name in keys { appendUnchecked(name, .null) }
            return
        }
        let stats: [Scalar] = [.double(m.mean), .double(m.min), .double(m.max), .double(m.std)]
        if m.hasNaN {
            warn(.nanInCollection, key: key, "numeric collection contains NaN; its .mean/.min/.max/.std are NaN")
            for (name, value) in zip(keys, stats) { appendUnchecked(name, value) }
        } else {
            for (name, value) in zip(keys, stats) { add(name, value) }
        }
    }

    static let momentSuffixes = [".mean", ".min", ".max", ".std"]
}

/// The value when its type is exactly `[String: Any]`.
@inline(__always)
private func exactStringAnyDictionary<T>(_ value: T) -> [String: Any]? {
    T.self == [String: Any].self ? unsafeBitCast(value, to: [String: Any].self) : nil
}

/// The value when its type is exactly one of the common scalar types (`Double`, `Int`,
/// `String`, `Float`, `Bool`), as `walk`'s casts would make it; nil for any other type
/// (optionals and bridged values included, which the casts handle).
@inline(__always)
private func exactCommonScalar<T>(_ value: T) -> Scalar? {
    if T.self == Double.self { return .double(unsafeBitCast(value, to: Double.self)) }
    if T.self == Int.self { return .int(Int64(unsafeBitCast(value, to: Int.self))) }
    if T.self == String.self { return .string(unsafeBitCast(value, to: String.self)) }
    if T.self == Float.self { return .double(Scalar.widen(unsafeBitCast(value, to: Float.self))) }
    if T.self == Bool.self { return .bool(unsafeBitCast(value, to: Bool.self)) }
    return nil
}

extension Scalar {
    /// A `Float` as the double with the same shortest decimal text, so `Float(0.1)` logs
    /// as `0.1`, not `0.10000000149011612`.
    static func widen<F: BinaryFloatingPoint & LosslessStringConvertible>(_ value: F) -> Double {
        guard value.isFinite else { return Double(value) }
        let exact = Double(value)
        if exact == exact.rounded(), abs(exact) < 1e15 { return exact }
        return Double(value.description) ?? exact
    }

    /// Integer, floating-point and text types beyond the hot few, or nil.
    static func fromOtherScalar(_ value: Any) -> Scalar? {
        switch value {
        case let v as Int64: return .int(v)
        case let v as Int32: return .int(Int64(v))
        case let v as Int16: return .int(Int64(v))
        case let v as Int8: return .int(Int64(v))
        case let v as UInt: return v <= UInt(Int64.max) ? .int(Int64(v)) : .double(Double(v))
        case let v as UInt64: return v <= UInt64(Int64.max) ? .int(Int64(v)) : .double(Double(v))
        case let v as UInt32: return .int(Int64(v))
        case let v as UInt16: return .int(Int64(v))
        case let v as UInt8: return .int(Int64(v))
        case let v as Substring: return .string(String(v))
        case let v as Character: return .string(String(v))
        default: break
        }
        #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
        if let v = value as? Float16 { return .double(widen(v)) }
        #endif
        return nil
    }

    /// Foundation values with an obvious scalar form, or nil.
    static func fromFoundation(_ value: Any) -> Scalar? {
        switch value {
        case let v as Date: return .double(v.timeIntervalSince1970)
        case let v as UUID: return .string(v.uuidString)
        case let v as URL: return .string(v.nokoRedacted)
        case let v as Decimal: return .double(NSDecimalNumber(decimal: v).doubleValue)
        case let v as Data: return .int(Int64(v.count))
        default: return nil
        }
    }
}

extension URL {
    /// The URL with any user name and password removed: noko never writes credentials.
    var nokoRedacted: String {
        guard user != nil || password != nil, var parts = URLComponents(url: self, resolvingAgainstBaseURL: false) else {
            return absoluteString
        }
        parts.user = nil
        parts.password = nil
        return parts.string ?? absoluteString
    }
}
