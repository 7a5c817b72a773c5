import Foundation
import NokoCore

/// Turns journal rows into wandb history lines (wandb-protocol.md §4), written straight
/// into a file_stream body as JSON string literals, and keeps the derived summary.
///
/// A row of table `T` becomes `{"T/key": value, …, "T/$step": step, "_step": n,
/// "_runtime": seconds since the run started, "_timestamp": the row's $utc_timestamp}`;
/// rows of rank N > 0 get `T/rankN/key` keys on the same `T/$step` axis. The journal's
/// `$table`, `$step`, `$level`, `$localtime` and `$utc_timestamp` are consumed, not copied.
struct HistoryTranslator {
    /// Unix seconds `_runtime` counts from; when unknown (0), the first row's time.
    private(set) var startTime: Double
    let minimumLevel: Int?

    /// Per table and rank: the wire spelling of the keys of the last row seen, by position.
    /// Rows of one table nearly always repeat their key sequence, so this turns key
    /// building into a string comparison.
    private var caches: [String: KeyCache] = [:]

    init(startTime: Double, minimumLevel: Int?) {
        self.startTime = startTime
        self.minimumLevel = minimumLevel
    }

    /// The bookkeeping columns of a row.
    struct Bookkeeping {
        var table: String?
        var step: Int64?
        var level: Int64?
        var timestamp: Double?
    }

    enum Outcome {
        /// The line was appended; `table` is the row's table, `cacheKey` its key cache.
        case appended(table: String, cacheKey: String, runtime: Double, timestamp: Double, step: Int64?)
        /// Below the level threshold: consumed, not uploaded.
        case skippedByLevel
        /// Not a noko row (no `$table`): consumed with a warning.
        case invalid(String)
    }

    /// Appends `record` as one element of a JSON array of strings (with a leading comma
    /// unless `first`), using `historyStep` as its `_step`.
    mutating func append(
        _ record: JournalRecord, rank: Int, historyStep: Int64, first: Bool, to content: inout [UInt8]
    ) -> Outcome {
        let bookkeeping = HistoryTranslator.bookkeeping(of: record)
        guard let table = bookkeeping.table else { return .invalid("the row has no \"$table\" string") }
        if let minimumLevel, let level = bookkeeping.level, level < minimumLevel { return .skippedByLevel }
        let cacheKey = rank == 0 ? table : "\(table)\u{0}\(rank)"
        var cache = caches.removeValue(forKey: cacheKey) ?? KeyCache(table: table, rank: rank)
        defer { caches[cacheKey] = cache }

        let timestamp = bookkeeping.timestamp ?? Date().timeIntervalSince1970
        if startTime <= 0 { startTime = timestamp }
        let runtime = max(0, timestamp - startTime)
        if !first { content.append(0x2C) }
        content.append(0x22)  // the string literal's quote
        content.append(0x7B)
        var firstMember = true
        for (index, member) in record.members.enumerated() {
            guard let key = cache.escapedKey(at: index, journalKey: member.key) else { continue }
            if !firstMember { content.append(0x2C) }
            firstMember = false
            content.append(contentsOf: key)
            EscapedValue.append(member.value, to: &content)
        }
        if let step = bookkeeping.step {
            if !firstMember { content.append(0x2C) }
            firstMember = false
            content.append(contentsOf: cache.escapedStepKey)
            appendInt(step, to: &content)
        }
        if !firstMember { content.append(0x2C) }
        content.append(contentsOf: HistoryTranslator.stepKey)
        appendInt(historyStep, to: &content)
        content.append(contentsOf: HistoryTranslator.runtimeKey)
        EscapedValue.appendDouble(runtime, to: &content)
        content.append(contentsOf: HistoryTranslator.timestampKey)
        EscapedValue.appendDouble(timestamp, to: &content)
        content.append(0x7D)
        content.append(0x22)
        return .appended(table: table, cacheKey: cacheKey, runtime: runtime, timestamp: timestamp, step: bookkeeping.step)
    }

    /// Records the appended row's values as the latest of their keys.
    func updateSummary(
        _ record: JournalRecord, outcome: Outcome, historyStep: Int64, summary: inout [String: JSONValue]
    ) {
        guard case .appended(_, let cacheKey, let runtime, let timestamp, let step) = outcome,
            let cache = caches[cacheKey]
        else { return }
        for (index, member) in record.members.enumerated() {
            guard let key = cache.wireKey(at: index) else { continue }
            summary[key] = member.value
        }
        if let step { summary[cache.stepKey] = .int(step) }
        summary["_step"] = .int(historyStep)
        summary["_runtime"] = .double(runtime)
        summary["_timestamp"] = .double(timestamp)
    }

    static func bookkeeping(of record: JournalRecord) -> Bookkeeping {
        var result = Bookkeeping()
        for member in record.members where member.key.utf8.first == 0x24 {
            switch member.key {
            case "$table": result.table = member.value.stringValue
            case "$step": result.step = member.value.intValue
            case "$level": result.level = member.value.intValue
            case "$utc_timestamp": result.timestamp = member.value.doubleValue
            default: break
            }
        }
        return result
    }

    /// Journal keys that are bookkeeping, not data.
    static let reservedKeys: Set<String> = ["$table", "$step", "$level", "$localtime", "$utc_timestamp"]

    private static let stepKey = escapedKey("_step")
    private static let runtimeKey = [0x2C] + escapedKey("_runtime")
    private static let timestampKey = [0x2C] + escapedKey("_timestamp")

    /// `\"key\":`: a key as it appears inside a line that is itself a JSON string.
    static func escapedKey(_ key: String) -> [UInt8] {
        var inner = WireWriter(capacity: key.utf8.count + 2)
        inner.writeString(key)
        var outer = WireWriter(capacity: inner.bytes.count + 8)
        outer.writeEscaped(inner.bytes)
        var bytes = Array(outer.bytes.dropFirst().dropLast())  // without the outer quotes
        bytes.append(0x3A)
        return bytes
    }

    private func appendInt(_ value: Int64, to content: inout [UInt8]) {
        IntegerFormat.append(value, to: &content)
    }
}

/// The wire keys of one table (and rank), cached by member position.
private struct KeyCache {
    let prefix: String
    let stepKey: String
    let escapedStepKey: [UInt8]
    private var journalKeys: [String] = []
    /// nil for bookkeeping keys.
    private var wireKeys: [String?] = []
    private var escapedKeys: [[UInt8]?] = []

    init(table: String, rank: Int) {
        prefix = rank == 0 ? "\(table)/" : "\(table)/rank\(rank)/"
        stepKey = "\(table)/$step"
        escapedStepKey = HistoryTranslator.escapedKey(stepKey)
    }

    mutating func escapedKey(at index: Int, journalKey: String) -> [UInt8]? {
        if index < journalKeys.count, journalKeys[index] == journalKey { return escapedKeys[index] }
        let reserved = HistoryTranslator.reservedKeys.contains(journalKey)
        let wire = reserved ? nil : prefix + journalKey
        let escaped = wire.map(HistoryTranslator.escapedKey)
        while journalKeys.count <= index {
            journalKeys.append("")
            wireKeys.append(nil)
            escapedKeys.append(nil)
        }
        journalKeys[index] = journalKey
        wireKeys[index] = wire
        escapedKeys[index] = escaped
        return escaped
    }

    func wireKey(at index: Int) -> String? {
        index < wireKeys.count ? wireKeys[index] : nil
    }
}

/// A value written inside a line that is itself a JSON string: numbers and literals need no
/// escaping; strings and nested values are encoded, then escaped once more.
enum EscapedValue {
    static func append(_ value: JSONValue, to content: inout [UInt8]) {
        switch value {
        case .int(let v):
            IntegerFormat.append(v, to: &content)
        case .double(let v):
            appendDouble(v, to: &content)
        case .bool(let v):
            content.append(contentsOf: v ? trueBytes : falseBytes)
        case .null:
            content.append(contentsOf: nullBytes)
        case .string(let s) where JSONValue.nonFiniteDouble(s) != nil:
            appendDouble(JSONValue.nonFiniteDouble(s)!, to: &content)
        case .string, .array, .object:
            var inner = WireWriter(capacity: 64)
            inner.write(value)
            var outer = WireWriter(capacity: inner.bytes.count + 16)
            outer.writeEscaped(inner.bytes)
            content.append(contentsOf: outer.bytes.dropFirst().dropLast())
        }
    }

    static func appendDouble(_ v: Double, to content: inout [UInt8]) {
        if v.isFinite {
            GoFloatFormat.append(v, to: &content)
        } else {
            content.append(contentsOf: v.isNaN ? nanBytes : v < 0 ? negativeInfinityBytes : infinityBytes)
        }
    }

    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)
    private static let nullBytes = Array("null".utf8)
    private static let nanBytes = Array("NaN".utf8)
    private static let infinityBytes = Array("Infinity".utf8)
    private static let negativeInfinityBytes = Array("-Infinity".utf8)
}

/// Decimal integers, appended without an intermediate buffer.
enum IntegerFormat {
    static func append(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(0x2D) }
        var magnitude = value.magnitude
        if magnitude < 10 {
            out.append(0x30 + UInt8(magnitude))
            return
        }
        let start = out.count
        while magnitude > 0 {
            out.append(0x30 + UInt8(magnitude % 10))
            magnitude /= 10
        }
        out[start...].reverse()
    }
}
