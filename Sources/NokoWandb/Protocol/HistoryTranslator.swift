import Foundation
import NokoCore

/// Turns journal lines into wandb history lines (docs/wandb-protocol.md, "History lines"),
/// written straight into a file_stream body as JSON string literals, and keeps the derived
/// summary.
///
/// A row of table `T` becomes `{"T/key": value, …, "T/$step": step, "_step": n,
/// "_runtime": seconds since the run started, "_timestamp": the row's $utc_timestamp}`;
/// rows of rank N > 0 get `T/rankN/key` keys on the same `T/$step` axis. The journal's
/// `$table`, `$step`, `$level`, `$localtime` and `$utc_timestamp` are consumed, not copied.
///
/// Values are copied from the line's bytes (numbers re-laid out as Go prints them, the
/// journal's `"NaN"`/`"Infinity"`/`"-Infinity"` strings as bare tokens), never parsed into
/// trees: this is the hot loop of `noko-run sync`. For the same reason the summary is kept
/// per table as the raw bytes of each key's last value, and decoded once per request
/// (``drainSummary(into:)``).
struct HistoryTranslator {
    /// Unix seconds `_runtime` counts from; when unknown (0), the first row's time.
    private(set) var startTime: Double
    let minimumLevel: Int?
    /// Tables whose rows stay local (the `config` table: the config panel already shows it).
    let skippedTables: Set<String>

    private var scanner = JournalScanner(path: "")
    /// Key caches by table and rank.
    private var caches: [String: KeyCache] = [:]
    /// The last `$table` value's bytes and name: consecutive rows mostly share a table.
    private var lastTable: (raw: [UInt8], name: String)?
    /// Accepted rows so far; orders summary values.
    private var sequence = 0
    /// `sequence` at the last drain: values newer than this are not in the summary yet.
    private var drained = 0
    /// The row appended last, until it is accepted.
    private var pending: Pending?
    /// `_step`, `_runtime`, `_timestamp` of the last accepted row, if not yet drained.
    private var lastAccepted: (step: Int64, runtime: Double, timestamp: Double)?

    private struct Pending {
        let cache: KeyCache
        let step: Int64?
        let historyStep: Int64
        let runtime: Double
        let timestamp: Double
    }

    init(startTime: Double, minimumLevel: Int?, skippedTables: Set<String> = []) {
        self.startTime = startTime
        self.minimumLevel = minimumLevel
        self.skippedTables = skippedTables
    }

    enum Outcome: Equatable {
        /// The line was appended; `table` is the row's table. Call ``accept(_:)`` to count
        /// it, or drop it (and the bytes appended) to send it later.
        case appended(table: String)
        /// Below the level threshold, or of a table not sent: consumed, not uploaded.
        case skipped
        /// Not a JSON object: skipped with a warning.
        case malformed(String)
        /// A JSON object but not a noko row (no `$table`): skipped with a warning.
        case invalid(String)
    }

    /// Appends `line` as one element of a JSON array of strings (with a leading comma
    /// unless `first`), using `historyStep` as its `_step`.
    mutating func append(
        _ line: UnsafeRawBufferPointer, rank: Int, historyStep: Int64, first: Bool, to content: inout [UInt8]
    ) -> Outcome {
        pending = nil
        if let problem = scanner.tokenize(line) { return .malformed(problem) }
        var table: String?
        var step: Int64?
        var level: Int64?
        var timestampText: Range<Int>?
        for member in scanner.members where line[member.key.lowerBound] == 0x24 && !member.keyHasEscapes {
            let key = UnsafeRawBufferPointer(rebasing: line[member.key])
            let value = UnsafeRawBufferPointer(rebasing: line[member.value])
            if key.elementsEqual(Keys.table) {
                if member.kind == .string { table = tableName(value, escaped: value.contains(0x5C)) }
            } else if key.elementsEqual(Keys.step) {
                if member.kind == .number { step = integer(value) }
            } else if key.elementsEqual(Keys.level) {
                if member.kind == .number { level = integer(value) }
            } else if key.elementsEqual(Keys.utcTimestamp) {
                if member.kind == .number { timestampText = member.value }
            }
        }
        guard let table else { return .invalid("the row has no \"$table\" string") }
        if let minimumLevel, let level, level < minimumLevel { return .skipped }
        if skippedTables.contains(table) { return .skipped }
        let cacheKey = rank == 0 ? table : "\(table)\u{0}\(rank)"
        let cache: KeyCache
        if let known = caches[cacheKey] {
            cache = known
        } else {
            cache = KeyCache(table: table, rank: rank)
            caches[cacheKey] = cache
        }

        let timestamp = timestampText.map { double(UnsafeRawBufferPointer(rebasing: line[$0])) } ?? Date().timeIntervalSince1970
        if startTime <= 0 { startTime = timestamp }
        let runtime = max(0, timestamp - startTime)
        if !first { content.append(0x2C) }
        content.append(0x22)  // the string literal's quote
        content.append(0x7B)
        var firstMember = true
        for (index, member) in scanner.members.enumerated() {
            guard let key = cache.escapedKey(at: index, member: member, line: line) else { continue }
            if !firstMember { content.append(0x2C) }
            firstMember = false
            content.append(contentsOf: key)
            appendValue(member, line: line, to: &content)
        }
        if let step {
            if !firstMember { content.append(0x2C) }
            firstMember = false
            content.append(contentsOf: cache.escapedStepKey)
            JSONWriter.appendInt(step, to: &content)
        }
        if !firstMember { content.append(0x2C) }
        content.append(contentsOf: Keys.wireStep)
        JSONWriter.appendInt(historyStep, to: &content)
        content.append(contentsOf: Keys.wireRuntime)
        EscapedValue.appendDouble(runtime, to: &content)
        content.append(contentsOf: Keys.wireTimestamp)
        if let timestampText, timestamp.isFinite {
            GoFloatFormat.relayout(UnsafeRawBufferPointer(rebasing: line[timestampText]), to: &content)
        } else {
            EscapedValue.appendDouble(timestamp, to: &content)
        }
        content.append(0x7D)
        content.append(0x22)
        pending = Pending(cache: cache, step: step, historyStep: historyStep, runtime: runtime, timestamp: timestamp)
        return .appended(table: table)
    }

    /// Counts the row just appended (the same `line`): its values become the latest of
    /// their keys.
    mutating func accept(_ line: UnsafeRawBufferPointer) {
        guard let pending else { return }
        self.pending = nil
        sequence += 1
        for (index, member) in scanner.members.enumerated() {
            pending.cache.record(UnsafeRawBufferPointer(rebasing: line[member.value]), at: index, sequence: sequence)
        }
        if let step = pending.step {
            pending.cache.lastStep = step
            pending.cache.stepSequence = sequence
        }
        lastAccepted = (pending.historyStep, pending.runtime, pending.timestamp)
    }

    /// Writes the latest value of every key accepted since the last drain into `summary`.
    mutating func drainSummary(into summary: inout [String: JSONValue]) {
        var latest: [String: (value: [UInt8], sequence: Int)] = [:]
        for cache in caches.values {
            cache.collect(newerThan: drained) { key, value, sequence in
                if (latest[key]?.sequence ?? 0) < sequence { latest[key] = (value, sequence) }
            }
            if cache.stepSequence > drained, let step = cache.lastStep { summary[cache.stepKey] = .int(step) }
        }
        for (key, entry) in latest {
            summary[key] = (try? JSONValue(parsing: entry.value)) ?? .null
        }
        if let last = lastAccepted {
            summary["_step"] = .int(last.step)
            summary["_runtime"] = .double(last.runtime)
            summary["_timestamp"] = .double(last.timestamp)
        }
        lastAccepted = nil
        drained = sequence
    }

    // MARK: - Values

    private func appendValue(_ member: JournalScanner.Member, line: UnsafeRawBufferPointer, to content: inout [UInt8]) {
        let raw = UnsafeRawBufferPointer(rebasing: line[member.value])
        switch member.kind {
        case .number:
            if raw.contains(where: { $0 == 0x2E || $0 == 0x65 || $0 == 0x45 }) {
                GoFloatFormat.relayout(raw, to: &content)
            } else {
                content.append(contentsOf: raw)
            }
        case .literal:
            content.append(contentsOf: raw)
        case .string:
            if raw.elementsEqual(Keys.nan) {
                content.append(contentsOf: Keys.bareNaN)
            } else if raw.elementsEqual(Keys.infinity) {
                content.append(contentsOf: Keys.bareInfinity)
            } else if raw.elementsEqual(Keys.negativeInfinity) {
                content.append(contentsOf: Keys.bareNegativeInfinity)
            } else {
                // Already a JSON string literal; embedding it escapes it once more.
                EscapedValue.appendEscaped(raw, to: &content)
            }
        case .nested:
            // Rare: decoded so that strings spelling non-finite numbers become tokens here too.
            EscapedValue.append((try? JSONValue(parsing: raw)) ?? .null, to: &content)
        }
    }

    private mutating func tableName(_ quoted: UnsafeRawBufferPointer, escaped: Bool) -> String? {
        if let lastTable, quoted.elementsEqual(lastTable.raw) { return lastTable.name }
        let name: String?
        if escaped {
            name = (try? JSONValue(parsing: quoted))?.stringValue
        } else {
            name = String(decoding: UnsafeRawBufferPointer(rebasing: quoted[1..<(quoted.count - 1)]), as: UTF8.self)
        }
        if let name { lastTable = (Array(quoted), name) }
        return name
    }

    /// An integer from number text (an integral float like `3.0` counts).
    private func integer(_ text: UnsafeRawBufferPointer) -> Int64? {
        switch DecimalNumber.parse(text, from: 0, to: text.count)?.0 {
        case .int(let v): return v
        case .double(let d): return d.rounded() == d && abs(d) < 9.2e18 ? Int64(d) : nil
        default: return nil
        }
    }

    private func double(_ text: UnsafeRawBufferPointer) -> Double {
        DecimalNumber.parse(text, from: 0, to: text.count)?.0.doubleValue ?? .nan
    }

    /// `\"key\":`: a key as it appears inside a line that is itself a JSON string.
    static func escapedKey(_ key: String) -> [UInt8] {
        var inner = WireWriter(capacity: key.utf8.count + 2)
        inner.writeString(key)
        var bytes: [UInt8] = []
        inner.bytes.withUnsafeBytes { EscapedValue.appendEscaped($0, to: &bytes) }
        bytes.append(0x3A)
        return bytes
    }

    private enum Keys {
        static let table = Array(SummarizedRow.tableKey.utf8)
        static let step = Array(SummarizedRow.stepKey.utf8)
        static let level = Array(SummarizedRow.levelKey.utf8)
        static let utcTimestamp = Array(SummarizedRow.utcTimestampKey.utf8)
        static let reserved = Set(SummarizedRow.bookkeepingKeys.map { Array($0.utf8) })
        static let nan = Array("\"NaN\"".utf8)
        static let infinity = Array("\"Infinity\"".utf8)
        static let negativeInfinity = Array("\"-Infinity\"".utf8)
        static let bareNaN = Array("NaN".utf8)
        static let bareInfinity = Array("Infinity".utf8)
        static let bareNegativeInfinity = Array("-Infinity".utf8)
        static let wireStep = HistoryTranslator.escapedKey("_step")
        static let wireRuntime = [0x2C] + HistoryTranslator.escapedKey("_runtime")
        static let wireTimestamp = [0x2C] + HistoryTranslator.escapedKey("_timestamp")
    }

    fileprivate static func isReserved(_ key: UnsafeRawBufferPointer) -> Bool {
        key.first == 0x24 && Keys.reserved.contains(Array(key))
    }
}

/// One table's (and rank's) keys by member position, and the last value of each.
///
/// Rows of one table nearly always repeat their key sequence, so finding a key's wire
/// spelling is a byte comparison with the same position of the previous row.
private final class KeyCache {
    let prefix: String
    let stepKey: String
    let escapedStepKey: [UInt8]
    private var rawKeys: [[UInt8]] = []
    /// nil for bookkeeping keys.
    private var wireKeys: [String?] = []
    private var escapedKeys: [[UInt8]?] = []
    /// The raw bytes of the last accepted value at each position, and when it was accepted
    /// (0: nothing since the slot last changed key).
    private var values: [[UInt8]] = []
    private var sequences: [Int] = []
    var lastStep: Int64?
    var stepSequence = 0

    init(table: String, rank: Int) {
        prefix = rank == 0 ? "\(table)/" : "\(table)/rank\(rank)/"
        stepKey = "\(table)/$step"
        escapedStepKey = HistoryTranslator.escapedKey(stepKey)
    }

    /// Values pushed out of a slot by a different key, until the next drain.
    private var evicted: [(key: String, value: [UInt8], sequence: Int)] = []

    func escapedKey(at index: Int, member: JournalScanner.Member, line: UnsafeRawBufferPointer) -> [UInt8]? {
        let raw = UnsafeRawBufferPointer(rebasing: line[member.key])
        if index < rawKeys.count, raw.elementsEqual(rawKeys[index]) { return escapedKeys[index] }
        while rawKeys.count <= index {
            rawKeys.append([])
            wireKeys.append(nil)
            escapedKeys.append(nil)
            values.append([])
            sequences.append(0)
        }
        // The slot changes key: its last value, if not drained yet, must not be lost.
        if let old = wireKeys[index], sequences[index] > 0 {
            evicted.append((old, values[index], sequences[index]))
        }
        sequences[index] = 0
        rawKeys[index] = Array(raw)
        if HistoryTranslator.isReserved(raw) && !member.keyHasEscapes {
            wireKeys[index] = nil
            escapedKeys[index] = nil
            return nil
        }
        let key: String
        if member.keyHasEscapes {
            var quoted: [UInt8] = [0x22]
            quoted.append(contentsOf: raw)
            quoted.append(0x22)
            key = (try? JSONValue(parsing: quoted))?.stringValue ?? String(decoding: raw, as: UTF8.self)
        } else {
            key = String(decoding: raw, as: UTF8.self)
        }
        let wire = prefix + key
        wireKeys[index] = wire
        escapedKeys[index] = HistoryTranslator.escapedKey(wire)
        return escapedKeys[index]
    }

    func record(_ value: UnsafeRawBufferPointer, at index: Int, sequence: Int) {
        guard index < wireKeys.count, wireKeys[index] != nil else { return }
        values[index].removeAll(keepingCapacity: true)
        values[index].append(contentsOf: value)
        sequences[index] = sequence
    }

    /// Calls `body` with every value accepted after `drained`, then forgets the evicted.
    func collect(newerThan drained: Int, _ body: (String, [UInt8], Int) -> Void) {
        for entry in evicted where entry.sequence > drained { body(entry.key, entry.value, entry.sequence) }
        evicted.removeAll()
        for index in wireKeys.indices where sequences[index] > drained {
            if let key = wireKeys[index] { body(key, values[index], sequences[index]) }
        }
    }
}

/// A value written inside a line that is itself a JSON string.
enum EscapedValue {
    /// Any JSON value in wire form (non-finite doubles, and strings spelling them, as bare
    /// tokens), escaped for embedding.
    static func append(_ value: JSONValue, to content: inout [UInt8]) {
        switch value {
        case .int(let v):
            JSONWriter.appendInt(v, to: &content)
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
            inner.bytes.withUnsafeBytes { appendEscaped($0, to: &content) }
        }
    }

    static func appendDouble(_ v: Double, to content: inout [UInt8]) {
        if v.isFinite {
            GoFloatFormat.append(v, to: &content)
        } else {
            content.append(contentsOf: v.isNaN ? nanBytes : v < 0 ? negativeInfinityBytes : infinityBytes)
        }
    }

    /// `raw` with `"`, `\` and control characters escaped, without surrounding quotes.
    static func appendEscaped(_ raw: UnsafeRawBufferPointer, to content: inout [UInt8]) {
        JSONWriter.appendEscaped(raw, to: &content)
    }
    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)
    private static let nullBytes = Array("null".utf8)
    private static let nanBytes = Array("NaN".utf8)
    private static let infinityBytes = Array("Infinity".utf8)
    private static let negativeInfinityBytes = Array("-Infinity".utf8)
}
