/// The columns a value becomes: a flat, ordered set of keys and scalar values, what a row
/// is summarized into before it is logged.
///
/// Custom summarizers receive one to fill (Python noko's `dst` dict). Call ``add(_:_:)``
/// for scalars you compute and ``summarize(_:prefix:)`` to let noko summarize a nested value
/// with its usual rules.
///
/// ```swift
/// Noko.declareSummarizer(for: Point.self) { point, prefix, columns in
///     columns.add("\(prefix).x", .double(point.x))
///     columns.add("\(prefix).y", .double(point.y))
///     columns.summarize(point.metadata, prefix: "\(prefix).metadata")
/// }
/// ```
///
/// noko's three "summaries" each have a word of their own: *summarizing* turns a value into
/// these columns; the *statistics* of a run's tables live in `summary.json`; `run.summary`
/// is the values that sum up a run.
public struct ValueColumns {
    /// The keys added so far, in order. May contain duplicates until the logger resolves
    /// collisions (`a/b`, `a/b_1`).
    public private(set) var keys: [String] = []
    /// One value per key.
    public private(set) var values: [Scalar] = []

    var warnings: [SummaryWarning] = []
    /// Why a struct row's type keeps `Mirror` (its first row only; a debug message).
    var encodingNote: String?
    /// True once a string value was added: only such rows are scanned for tokens.
    private(set) var containsStrings = false
    /// Summarizers for types the user doesn't own (one snapshot per row).
    let registry: SummarizerRegistry.Snapshot
    /// The class instances being summarized above the current value, to stop at cycles.
    var ancestors: [ObjectIdentifier] = []
    /// How deep the current value is nested.
    var depth = 0

    init(registry: SummarizerRegistry.Snapshot) {
        self.registry = registry
        keys.reserveCapacity(16)
        values.reserveCapacity(16)
    }

    /// Adds one scalar under `key`. Non-finite doubles are kept (and noted once per key).
    public mutating func add(_ key: String, _ value: Scalar) {
        if case .double(let d) = value, !d.isFinite {
            warn(.nonFinite, key: key, "value \(Scalar.format(d)) is not finite; it is logged as \"\(Scalar.format(d))\"")
        }
        if case .string = value { containsStrings = true }
        keys.append(key)
        values.append(value)
    }

    /// Makes room for `count` columns, so a row of known size grows its arrays once.
    mutating func reserve(_ count: Int) {
        keys.reserveCapacity(count)
        values.reserveCapacity(count)
    }

    /// Adds a value the caller has already vetted (and warned about).
    mutating func appendUnchecked(_ key: String, _ value: Scalar) {
        if case .string = value { containsStrings = true }
        keys.append(key)
        values.append(value)
    }

    /// Summarizes any value under `prefix` with noko's rules (nesting with `/`, numeric
    /// collections to `.mean/.min/.max/.std`, registered summarizers…).
    public mutating func summarize(_ value: Any, prefix: String) {
        walk(value, key: prefix)
    }

    /// The value stored under `key`, if any (the first one, when a key repeats).
    public subscript(key: String) -> Scalar? {
        keys.firstIndex(of: key).map { values[$0] }
    }

    /// The number of keys.
    public var count: Int { keys.count }

    /// Replaces every string value that holds a secret (per `redactor`) by `<redacted>`,
    /// with a warning naming the key; a key path `table/key` in the redactor's
    /// ``SecretRedactor/keptAsGiven`` keeps its value.
    mutating func redactSecrets(_ redactor: SecretRedactor, table: String) {
        for index in values.indices {
            guard case .string(let text) = values[index] else { continue }
            let (redacted, rule) = redactor.redact(text)
            guard let rule else { continue }
            let keyPath = SecretRedactor.join(table, keys[index])
            guard !redactor.keptAsGiven.contains(keyPath) else { continue }
            values[index] = .string(redacted)
            let message = SecretRedactor.Finding(keyPath: keyPath, rule: rule).message(subject: nil, recorded: "logged")
            warn(.secret, key: keys[index], message)
        }
    }

    mutating func warn(_ kind: SummaryWarning.Kind, key: String, _ message: String) {
        warnings.append(SummaryWarning(kind: kind, key: key, message: message))
    }
}

/// Something noko noticed while summarizing a value; reported once per table and key.
struct SummaryWarning: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        case nonFinite, nanInCollection, emptyCollection, unsupported, cycle, tooDeep, truncated, secret
    }
    var kind: Kind
    var key: String
    var message: String

    static func == (lhs: SummaryWarning, rhs: SummaryWarning) -> Bool { lhs.kind == rhs.kind && lhs.key == rhs.key }
    func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        hasher.combine(key)
    }
}

/// The former name of ``ValueColumns``.
@available(*, deprecated, renamed: "ValueColumns")
public typealias Summary = ValueColumns
