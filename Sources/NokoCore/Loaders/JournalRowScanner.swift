import Foundation

/// Turns journal lines into ``SummarizedRow``s fast, for readers that go through millions of
/// rows (``SummaryRebuild``): no JSON tree, no key strings per line, numbers parsed in place.
///
/// Consecutive lines almost always have the same keys in the same order (the logger writes
/// a table's rows with one schema). The scanner keeps the key sequences it has seen as
/// *shapes*; a line whose keys match a shape byte for byte reuses its key strings and its
/// ``RowSchema``. Anything unusual (escaped keys, repeated keys, malformed text) goes to the
/// general parser, which gives the same rows or the same error as ``JournalScan``.
struct JournalRowScanner {
    let path: String
    let allowsNonFiniteLiterals: Bool

    /// A key sequence seen before: its bytes, and where each member goes in a row.
    private final class Shape {
        let keyBytes: [[UInt8]]
        /// For each member: the index of its value in the row, or -1 for `$` keys.
        let slot: [Int]
        let tableMember: Int
        let stepMember: Int
        let levelMember: Int
        let timeMember: Int
        let localTimeMember: Int
        let schema: RowSchema
        /// The members holding the row's values, when they are consecutive and in order
        /// (noko and Python noko write the `$` keys first): one slice copy per row.
        let userRange: Range<Int>?

        init(keys: [String]) {
            keyBytes = keys.map { Array($0.utf8) }
            var slot: [Int] = []
            var userKeys: [String] = []
            for key in keys {
                // Only the journal's own columns; a user key like `$step_1` is a value.
                if SummarizedRow.bookkeepingKeys.contains(key) {
                    slot.append(-1)
                } else {
                    slot.append(userKeys.count)
                    userKeys.append(key)
                }
            }
            self.slot = slot
            tableMember = keys.firstIndex(of: "$table") ?? -1
            stepMember = keys.firstIndex(of: "$step") ?? -1
            levelMember = keys.firstIndex(of: "$level") ?? -1
            timeMember = keys.firstIndex(of: "$utc_timestamp") ?? -1
            localTimeMember = keys.firstIndex(of: "$localtime") ?? -1
            schema = RowSchema(keys: userKeys)
            let members = slot.indices.filter { slot[$0] >= 0 }
            if let first = members.first, members.last! - first + 1 == members.count {
                userRange = first..<(first + members.count)
            } else {
                userRange = members.isEmpty ? 0..<0 : nil
            }
        }
    }

    private var shapes: [Shape] = []
    private var lastShape = 0
    private var keyRanges: [Range<Int>] = []
    private var values: [Scalar] = []
    private var levels: [Int: LogLevel] = [:]
    private var stems: [String: String] = [:]
    private var fallback = RowBuilder()
    private let fileStem: (String) -> String

    init(path: String, allowsNonFiniteLiterals: Bool, fileStem: @escaping (String) -> String) {
        self.path = path
        self.allowsNonFiniteLiterals = allowsNonFiniteLiterals
        self.fileStem = fileStem
    }

    /// Calls `body` with every row of the journal at `path`, in order. Returns the length of
    /// a torn last line, which is left out (the caller says so).
    static func forEachRow(
        in path: String, allowsNonFiniteLiterals: Bool = false, fileStem: @escaping (String) -> String,
        _ body: (SummarizedRow) throws -> Void
    ) throws -> Int {
        var scanner = JournalRowScanner(path: path, allowsNonFiniteLiterals: allowsNonFiniteLiterals, fileStem: fileStem)
        let reader = LineReader(path: path)
        return try reader.forEachLine { line in
            guard !line.bytes.isEmpty else { return true }
            try body(scanner.row(line.bytes, number: line.number))
            return true
        }
    }

    /// The row on `line` (1-based `number`, for errors).
    mutating func row(_ line: UnsafeRawBufferPointer, number: Int) throws -> SummarizedRow {
        if let row = fastRow(line) { return row }
        return try generalRow(line, number: number)
    }

    /// The general path: the strict (or lenient) parser and a row built from its members.
    private mutating func generalRow(_ line: UnsafeRawBufferPointer, number: Int) throws -> SummarizedRow {
        let (table, members) = try JournalScan.parseLine(line, path: path, number: number, allowsNonFiniteLiterals: allowsNonFiniteLiterals)
        return fallback.row(table: table, fileStem: stem(table), members: members, fallbackStep: nil)
    }

    private mutating func stem(_ table: String) -> String {
        if let known = stems[table] { return known }
        let made = fileStem(table)
        stems[table] = made
        return made
    }

    // MARK: - Fast path

    @inline(__always) private static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A }

    /// The row, or nil when the line needs the general parser.
    private mutating func fastRow(_ bytes: UnsafeRawBufferPointer) -> SummarizedRow? {
        let end = bytes.count
        var i = 0
        while i < end && Self.isSpace(bytes[i]) { i += 1 }
        guard i < end, bytes[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        keyRanges.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        while true {
            while i < end && Self.isSpace(bytes[i]) { i += 1 }
            guard i < end else { return nil }
            if bytes[i] == UInt8(ascii: "}") && keyRanges.isEmpty { break }
            // Key: a string without escapes.
            guard bytes[i] == UInt8(ascii: "\"") else { return nil }
            i += 1
            let keyStart = i
            while i < end {
                let c = bytes[i]
                if c == UInt8(ascii: "\"") { break }
                if c == UInt8(ascii: "\\") || c < 0x20 || c >= 0x80 { return nil }
                i += 1
            }
            guard i < end else { return nil }
            keyRanges.append(keyStart..<i)
            i += 1
            while i < end && Self.isSpace(bytes[i]) { i += 1 }
            guard i < end, bytes[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            while i < end && Self.isSpace(bytes[i]) { i += 1 }
            guard i < end, let (value, next) = scalar(bytes, at: i, end: end) else { return nil }
            values.append(value)
            i = next
            while i < end && Self.isSpace(bytes[i]) { i += 1 }
            guard i < end else { return nil }
            if bytes[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            guard bytes[i] == UInt8(ascii: "}") else { return nil }
            break
        }
        i += 1
        while i < end && Self.isSpace(bytes[i]) { i += 1 }
        guard i == end, let shape = shape(for: bytes) else { return nil }
        guard shape.tableMember >= 0, case .string(let table) = values[shape.tableMember] else { return nil }
        var step = 0
        if shape.stepMember >= 0 {
            switch values[shape.stepMember] {
            case .int(let v): step = Int(v)
            case .double(let v): step = Int(exactly: v) ?? step  // never trap on a hand-edited journal
            default: break
            }
        }
        var level = LogLevel.info
        if shape.levelMember >= 0, case .int(let v) = values[shape.levelMember] { level = logLevel(Int(v)) }
        // No (numeric) `$utc_timestamp`: no time, as `RowBuilder` says.
        let utc = shape.timeMember >= 0 ? values[shape.timeMember].doubleValue ?? .nan : .nan
        var local = ""
        if shape.localTimeMember >= 0, case .string(let s) = values[shape.localTimeMember] { local = s }
        var rowValues: [Scalar]
        if let range = shape.userRange {
            rowValues = Array(values[range])
        } else {
            rowValues = []
            rowValues.reserveCapacity(shape.schema.keys.count)
            for (member, slot) in shape.slot.enumerated() where slot >= 0 { rowValues.append(values[member]) }
        }
        return SummarizedRow(
            table: table, step: step, level: level, time: RowTime(utcTimestamp: utc, localTime: local), schema: shape.schema,
            values: rowValues, fileStem: stem(table))
    }

    private mutating func logLevel(_ value: Int) -> LogLevel {
        if let known = levels[value] { return known }
        let level = LogLevel.builtIn.first { $0.value == value } ?? LogLevel(value, name: "LEVEL\(value)")
        levels[value] = level
        return level
    }

    /// The shape whose keys are this line's, made when new; nil for repeated keys.
    private mutating func shape(for bytes: UnsafeRawBufferPointer) -> Shape? {
        if !shapes.isEmpty, matches(shapes[lastShape], bytes) { return shapes[lastShape] }
        for (index, candidate) in shapes.enumerated() where index != lastShape && matches(candidate, bytes) {
            lastShape = index
            return candidate
        }
        let keys = keyRanges.map { String(decoding: UnsafeRawBufferPointer(rebasing: bytes[$0]), as: UTF8.self) }
        guard Set(keys).count == keys.count else { return nil }
        if shapes.count >= 64 { shapes.removeFirst(32) }
        shapes.append(Shape(keys: keys))
        lastShape = shapes.count - 1
        return shapes[lastShape]
    }

    private func matches(_ shape: Shape, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard shape.keyBytes.count == keyRanges.count else { return false }
        for (k, range) in keyRanges.enumerated() {
            let expected = shape.keyBytes[k]
            guard expected.count == range.count else { return false }
            let same = expected.withUnsafeBytes { memcmp($0.baseAddress!, bytes.baseAddress! + range.lowerBound, range.count) == 0 }
            if !same { return false }
        }
        return true
    }

    /// A value without nesting: string (no escapes), number, literal; nil otherwise.
    @inline(__always)
    private func scalar(_ bytes: UnsafeRawBufferPointer, at start: Int, end: Int) -> (Scalar, Int)? {
        let c = bytes[start]
        switch c {
        case UInt8(ascii: "-"), 0x30...0x39:
            if c == UInt8(ascii: "-"), allowsNonFiniteLiterals, start + 1 < end, bytes[start + 1] == UInt8(ascii: "I") {
                return literal("-Infinity", bytes, start, end).map { (.double(-.infinity), $0) }
            }
            return DecimalNumber.parse(bytes, from: start, to: end)
        case UInt8(ascii: "\""):
            var i = start + 1
            var ascii = true
            while i < end {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") { break }
                if b == UInt8(ascii: "\\") || b < 0x20 { return nil }
                if b >= 0x80 { ascii = false }
                i += 1
            }
            guard i < end else { return nil }
            let slice = UnsafeRawBufferPointer(rebasing: bytes[(start + 1)..<i])
            let text: String
            if ascii {
                text = String(decoding: slice, as: UTF8.self)
            } else {
                guard let valid = String(validating: slice, as: UTF8.self) else { return nil }
                text = valid
            }
            let value = JSONValue.nonFiniteDouble(text).map(Scalar.double) ?? .string(text)
            return (value, i + 1)
        case UInt8(ascii: "t"): return literal("true", bytes, start, end).map { (.bool(true), $0) }
        case UInt8(ascii: "f"): return literal("false", bytes, start, end).map { (.bool(false), $0) }
        case UInt8(ascii: "n"): return literal("null", bytes, start, end).map { (.null, $0) }
        case UInt8(ascii: "N") where allowsNonFiniteLiterals: return literal("NaN", bytes, start, end).map { (.double(.nan), $0) }
        case UInt8(ascii: "I") where allowsNonFiniteLiterals:
            return literal("Infinity", bytes, start, end).map { (.double(.infinity), $0) }
        default: return nil
        }
    }

    private func literal(_ word: StaticString, _ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int? {
        let count = word.utf8CodeUnitCount
        guard start + count <= end else { return nil }
        for k in 0..<count where bytes[start + k] != word.utf8Start[k] { return nil }
        return start + count
    }
}
