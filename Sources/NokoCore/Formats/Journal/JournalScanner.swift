import Foundation
import Logging

/// The one reader of journal lines, in three depths, all over one tokenizer:
///
/// - ``tokenize(_:)``: the line's members as byte ranges (key, value, kind), checked to be
///   strict JSON, nothing decoded — for uploaders that copy values onto the wire as they are;
/// - ``record(_:number:)``: every member decoded (`$` keys included), for loaders;
/// - ``row(_:number:)``: a ``SummarizedRow`` (table, step, level, time, keys and values), for
///   readers that go through millions of rows (resume, the `summary.json` rebuild, the
///   report's `--full`).
///
/// Rows are fast because consecutive lines almost always have the same keys in the same
/// order (the logger writes a table's rows with one schema): the scanner keeps the key
/// sequences it has seen as *shapes*; a line whose keys match a shape byte for byte reuses
/// its key strings and its ``RowSchema``. Anything unusual (escaped keys or strings, nested
/// values, repeated keys, malformed text) goes to the general parser (``JSONParser``), which
/// gives the same rows, or the error naming the file and line.
///
/// The strings `"NaN"`, `"Infinity"` and `"-Infinity"` read back as doubles; with
/// `allowsNonFiniteLiterals`, so do Python noko's bare `NaN`, `Infinity` and `-Infinity`.
package struct JournalScanner {
    /// What a member's value is, by its first byte.
    package enum Kind: Equatable, Sendable {
        case number
        case string
        /// `true`, `false` or `null` (and the bare `NaN`, `Infinity`, `-Infinity` of Python
        /// noko when they are allowed).
        case literal
        /// An array or object (checked with the strict parser).
        case nested
    }

    /// One member of a tokenized line, as byte ranges of the line.
    package struct Member: Sendable {
        /// The key's bytes between its quotes, escapes as written.
        package var key: Range<Int>
        package var keyHasEscapes: Bool
        /// The value's bytes; a string's include its quotes.
        package var value: Range<Int>
        package var kind: Kind
        /// For strings: whether the text has escapes (it must be decoded, not copied).
        package var valueHasEscapes: Bool
    }

    /// The file the lines come from, for errors.
    package let path: String
    /// Accept Python noko's bare `NaN`, `Infinity` and `-Infinity`.
    package let allowsNonFiniteLiterals: Bool
    /// The members of the last line tokenized, in order.
    package private(set) var members: [Member] = []

    private var shapes: [Shape] = []
    private var lastShape = 0
    /// The decoded values of the last line tokenized with `decoding`, one per member, when
    /// ``decodedAll``.
    private var values: [Scalar] = []
    /// False when a value needs the general parser (an escaped string, a nested value).
    private var decodedAll = false
    private var levels: [Int: LogLevel] = [:]
    /// Rows seen per table, so that a row without `$step` gets its index in the table (as a
    /// CSV row without one does); the current table is held apart, rows of one table mostly
    /// come together.
    private var rowCounts: [String: Int] = [:]
    private var counted: (table: String, rows: Int) = ("", 0)
    private var stems: [String: String] = [:]
    private var fallback = RowBuilder()
    private let fileStem: (String) -> String

    /// A scanner of the lines of `path`; `fileStem` names a table's files (see
    /// ``TableFileName``) in the rows it makes.
    package init(path: String, allowsNonFiniteLiterals: Bool = false, fileStem: @escaping (String) -> String = TableFileName.encode) {
        self.path = path
        self.allowsNonFiniteLiterals = allowsNonFiniteLiterals
        self.fileStem = fileStem
    }

    // MARK: - Streaming a file

    /// Calls `body` with every row of the journal at `path`, in order. Returns the length of
    /// a torn last line, which is left out (the caller says so).
    package static func forEachRow(
        in path: String, allowsNonFiniteLiterals: Bool = false, fileStem: @escaping (String) -> String,
        _ body: (SummarizedRow) throws -> Void
    ) throws -> Int {
        var scanner = JournalScanner(path: path, allowsNonFiniteLiterals: allowsNonFiniteLiterals, fileStem: fileStem)
        return try LineReader(path: path).forEachLine { line in
            guard !line.bytes.isEmpty else { return true }
            try body(scanner.row(line.bytes, number: line.number))
            return true
        }
    }

    /// Calls `body` with each complete record from byte `offset` on; `body` returns false to
    /// stop. A torn last line is skipped with a warning; any other malformed line throws an
    /// error naming the file and line.
    ///
    /// - Returns: the offset just past the last complete line read.
    @discardableResult
    package static func forEachRecord(
        _ path: String, from offset: UInt64 = 0, allowsNonFiniteLiterals: Bool = false,
        messages: Logging.Logger = NokoMessages.logger(), _ body: (JournalRecord) throws -> Bool
    ) throws -> UInt64 {
        var scanner = JournalScanner(path: path, allowsNonFiniteLiterals: allowsNonFiniteLiterals)
        let reader = LineReader(path: path, offset: offset)
        var position = offset
        let torn = try reader.forEachLine { line in
            position = line.endOffset
            if line.bytes.isEmpty { return true }
            let (table, members) = try scanner.record(line.bytes, number: line.number)
            return try body(JournalRecord(table: table, members: members, offset: line.offset, endOffset: line.endOffset, line: line.number))
        }
        messages.warnTornLine(path: path, bytes: torn)
        return position
    }

    // MARK: - Rows and records

    /// The row on `line` (1-based `number`, for errors).
    package mutating func row(_ line: UnsafeRawBufferPointer, number: Int) throws -> SummarizedRow {
        if tokenize(line, decoding: true) == nil, let row = fastRow(line) { return row }
        let (table, members) = try JournalScanner.parse(line, path: path, number: number, allowsNonFiniteLiterals: allowsNonFiniteLiterals)
        return fallback.row(table: table, fileStem: stem(table), members: members, fallbackStep: index(in: table))
    }

    /// The index of the next row of `table` (and counts it).
    private mutating func index(in table: String) -> Int {
        if table != counted.table {
            rowCounts[counted.table] = counted.rows
            counted = (table, rowCounts[table] ?? 0)
        }
        defer { counted.rows += 1 }
        return counted.rows
    }

    /// The table and every member of `line`, decoded; a line that is not a flat object with a
    /// `$table` string is an error naming the file and line.
    package mutating func record(_ line: UnsafeRawBufferPointer, number: Int) throws -> (table: String, members: [(String, Scalar)]) {
        if tokenize(line, decoding: true) == nil, let record = fastRecord(line) { return record }
        return try JournalScanner.parse(line, path: path, number: number, allowsNonFiniteLiterals: allowsNonFiniteLiterals)
    }

    /// The general parser: strict (or lenient) JSON, a flat object with a `$table` string.
    private static func parse(
        _ bytes: UnsafeRawBufferPointer, path: String, number: Int, allowsNonFiniteLiterals: Bool
    ) throws -> (table: String, members: [(String, Scalar)]) {
        var members: [(String, Scalar)] = []
        var parser = JSONParser(bytes, allowsNonFiniteLiterals: allowsNonFiniteLiterals)
        do {
            try parser.parseFlatObject { key, value in
                guard let scalar = value.scalar else {
                    throw JSONParseError(offset: 0, message: "key '\(key)' holds a nested value; noko rows are flat")
                }
                members.append((key, scalar))
            }
        } catch let error as JSONParseError {
            throw LogFileError(path: path, line: number, message: "not a noko journal line: \(error)")
        }
        guard case .string(let table)? = members.first(where: { $0.0 == SummarizedRow.tableKey })?.1 else {
            throw LogFileError(path: path, line: number, message: "not a noko journal line: no \"$table\" string")
        }
        return (table, members)
    }

    private mutating func stem(_ table: String) -> String {
        if let known = stems[table] { return known }
        let made = fileStem(table)
        stems[table] = made
        return made
    }

    // MARK: - The fast path

    private mutating func fastRecord(_ line: UnsafeRawBufferPointer) -> (table: String, members: [(String, Scalar)])? {
        guard decodedAll, !members.contains(where: \.keyHasEscapes) else { return nil }
        var decoded: [(String, Scalar)] = []
        decoded.reserveCapacity(members.count)
        var table: String?
        for (member, value) in zip(members, values) {
            let key = String(decoding: UnsafeRawBufferPointer(rebasing: line[member.key]), as: UTF8.self)
            if table == nil, key == SummarizedRow.tableKey, case .string(let name) = value { table = name }
            decoded.append((key, value))
        }
        guard let table else { return nil }
        return (table, decoded)
    }

    /// The row, or nil when the line needs the general parser.
    private mutating func fastRow(_ line: UnsafeRawBufferPointer) -> SummarizedRow? {
        guard decodedAll, !members.contains(where: \.keyHasEscapes), let shape = shape(for: line) else { return nil }
        guard shape.tableMember >= 0, case .string(let table) = values[shape.tableMember] else { return nil }
        let index = index(in: table)
        var step = index
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
            tableMember = keys.firstIndex(of: SummarizedRow.tableKey) ?? -1
            stepMember = keys.firstIndex(of: SummarizedRow.stepKey) ?? -1
            levelMember = keys.firstIndex(of: SummarizedRow.levelKey) ?? -1
            timeMember = keys.firstIndex(of: SummarizedRow.utcTimestampKey) ?? -1
            localTimeMember = keys.firstIndex(of: SummarizedRow.localTimeKey) ?? -1
            schema = RowSchema(keys: userKeys)
            let members = slot.indices.filter { slot[$0] >= 0 }
            if let first = members.first, members.last! - first + 1 == members.count {
                userRange = first..<(first + members.count)
            } else {
                userRange = members.isEmpty ? 0..<0 : nil
            }
        }
    }

    /// The shape whose keys are this line's, made when new; nil for repeated keys.
    private mutating func shape(for line: UnsafeRawBufferPointer) -> Shape? {
        if !shapes.isEmpty, matches(shapes[lastShape], line) { return shapes[lastShape] }
        for (index, candidate) in shapes.enumerated() where index != lastShape && matches(candidate, line) {
            lastShape = index
            return candidate
        }
        let keys = members.map { String(decoding: UnsafeRawBufferPointer(rebasing: line[$0.key]), as: UTF8.self) }
        guard Set(keys).count == keys.count else { return nil }
        if shapes.count >= 64 { shapes.removeFirst(32) }
        shapes.append(Shape(keys: keys))
        lastShape = shapes.count - 1
        return shapes[lastShape]
    }

    private func matches(_ shape: Shape, _ line: UnsafeRawBufferPointer) -> Bool {
        guard shape.keyBytes.count == members.count else { return false }
        for (k, member) in members.enumerated() {
            let expected = shape.keyBytes[k]
            let range = member.key
            guard expected.count == range.count else { return false }
            let same = expected.withUnsafeBytes { memcmp($0.baseAddress!, line.baseAddress! + range.lowerBound, range.count) == 0 }
            if !same { return false }
        }
        return true
    }

    // MARK: - Tokenizing

    /// Splits `line`, a flat JSON object, into ``members``; nil when it is well-formed (strict
    /// JSON, or with Python noko's bare non-finite numbers when allowed), else what is wrong.
    /// Nothing is decoded: the members are byte ranges of `line`.
    package mutating func tokenize(_ line: UnsafeRawBufferPointer) -> String? {
        tokenize(line, decoding: false)
    }

    /// ``tokenize(_:)``, and with `decoding` each value decoded into `values` on the way
    /// (numbers are parsed once, where they are found).
    private mutating func tokenize(_ line: UnsafeRawBufferPointer, decoding: Bool) -> String? {
        members.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        decodedAll = decoding
        var cursor = Cursor(bytes: line)
        cursor.skipWhitespace()
        guard cursor.take(0x7B) else { return "expected '{' at byte \(cursor.position)" }
        cursor.skipWhitespace()
        if !cursor.take(0x7D) {
            while true {
                cursor.skipWhitespace()
                guard cursor.peek == 0x22 else { return "expected a key at byte \(cursor.position)" }
                let keyStart = cursor.position + 1
                guard let keyEscapes = cursor.string() else { return "bad string at byte \(keyStart - 1)" }
                let key = keyStart..<(cursor.position - 1)
                cursor.skipWhitespace()
                guard cursor.take(0x3A) else { return "expected ':' at byte \(cursor.position)" }
                cursor.skipWhitespace()
                let valueStart = cursor.position
                let kind: Kind
                var valueEscapes = false
                var value = Scalar.null
                switch cursor.peek ?? 0 {
                case 0x22:
                    guard let escapes = cursor.string() else { return "bad string at byte \(valueStart)" }
                    valueEscapes = escapes
                    kind = .string
                    if decodedAll {
                        if escapes {
                            decodedAll = false
                        } else {
                            // The string is valid UTF-8: checked just now.
                            let text = String(
                                decoding: UnsafeRawBufferPointer(rebasing: line[(valueStart + 1)..<(cursor.position - 1)]), as: UTF8.self)
                            value = JSONValue.nonFiniteDouble(text).map(Scalar.double) ?? .string(text)
                        }
                    }
                case 0x2D where allowsNonFiniteLiterals && cursor.literal("-Infinity"):
                    kind = .literal
                    value = .double(-.infinity)
                case 0x2D, 0x30...0x39 as ClosedRange<UInt8>:
                    if decodedAll {
                        guard let (number, end) = DecimalNumber.parse(line, from: valueStart, to: line.count) else {
                            return "bad number at byte \(valueStart)"
                        }
                        cursor.position = end
                        value = number
                    } else {
                        // Not decoding (or no longer: a nested value came first): only where it ends.
                        guard let end = DecimalNumber.end(line, from: valueStart, to: line.count) else {
                            return "bad number at byte \(valueStart)"
                        }
                        cursor.position = end
                    }
                    kind = .number
                case 0x74:
                    guard cursor.literal("true") else { return "bad literal at byte \(valueStart)" }
                    kind = .literal
                    value = .bool(true)
                case 0x66:
                    guard cursor.literal("false") else { return "bad literal at byte \(valueStart)" }
                    kind = .literal
                    value = .bool(false)
                case 0x6E:
                    guard cursor.literal("null") else { return "bad literal at byte \(valueStart)" }
                    kind = .literal
                case 0x4E where allowsNonFiniteLiterals:
                    guard cursor.literal("NaN") else { return "bad literal at byte \(valueStart)" }
                    kind = .literal
                    value = .double(.nan)
                case 0x49 where allowsNonFiniteLiterals:
                    guard cursor.literal("Infinity") else { return "bad literal at byte \(valueStart)" }
                    kind = .literal
                    value = .double(.infinity)
                case 0x7B, 0x5B:
                    guard cursor.nested() else { return "bad nested value at byte \(valueStart)" }
                    kind = .nested
                    decodedAll = false
                default:
                    return "unexpected character at byte \(valueStart)"
                }
                if decodedAll { values.append(value) }
                members.append(
                    Member(key: key, keyHasEscapes: keyEscapes, value: valueStart..<cursor.position, kind: kind, valueHasEscapes: valueEscapes))
                cursor.skipWhitespace()
                if cursor.take(0x2C) { continue }
                guard cursor.take(0x7D) else { return "expected ',' or '}' at byte \(cursor.position)" }
                break
            }
        }
        cursor.skipWhitespace()
        return cursor.atEnd ? nil : "text after the object at byte \(cursor.position)"
    }
}

/// A read position in a line, with the JSON token rules.
private struct Cursor {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    var atEnd: Bool { position >= bytes.count }
    var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func take(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        position += 1
        return true
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while let c = peek, c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A { position += 1 }
    }

    /// A string at the cursor (on its opening quote); true when it has escapes, nil when
    /// it is not a valid JSON string (bad escape, control character, invalid UTF-8).
    mutating func string() -> Bool? {
        let start = position
        position += 1
        var escapes = false
        var ascii = true
        let count = bytes.count
        while position < count {
            // Most bytes of keys and values are printable ASCII other than `"` and `\`: skip
            // them with one range test and two compares each, before the full switch.
            var c = bytes[position]
            while c &- 0x20 < 0x60 && c != 0x22 && c != 0x5C {
                position += 1
                guard position < count else { return nil }
                c = bytes[position]
            }
            switch c {
            case 0x22:
                position += 1
                if !ascii {
                    // Escapes are ASCII, so validating the raw bytes validates the string.
                    let raw = UnsafeRawBufferPointer(rebasing: bytes[(start + 1)..<(position - 1)])
                    guard String(validating: raw, as: UTF8.self) != nil else { return nil }
                }
                return escapes
            case 0x5C:
                escapes = true
                guard position + 1 < bytes.count else { return nil }
                switch bytes[position + 1] {
                case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74:
                    position += 2
                case 0x75:
                    // A UTF-16 escape: a lone surrogate is no character, as the strict parser
                    // holds (found by fuzzing: the two disagreed).
                    guard let unit = hexUnit(at: position + 2) else { return nil }
                    position += 6
                    if (0xDC00...0xDFFF).contains(unit) { return nil }
                    if (0xD800...0xDBFF).contains(unit) {
                        guard position + 1 < bytes.count, bytes[position] == 0x5C, bytes[position + 1] == 0x75,
                            let low = hexUnit(at: position + 2), (0xDC00...0xDFFF).contains(low)
                        else { return nil }
                        position += 6
                    }
                default:
                    return nil
                }
            case 0..<0x20:
                return nil
            default:
                if c >= 0x80 { ascii = false }
                position += 1
            }
        }
        return nil
    }

    mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        for i in 0..<count where bytes[position + i] != word.utf8Start[i] { return false }
        position += count
        return true
    }

    /// An array or object: finds its end (strings skipped), then lets the strict parser
    /// judge it; nested values are rare in rows, so this need not be fast.
    mutating func nested() -> Bool {
        let start = position
        var depth = 0
        while position < bytes.count {
            switch bytes[position] {
            case 0x22:
                guard string() != nil else { return false }
                continue
            case 0x7B, 0x5B:
                depth += 1
            case 0x7D, 0x5D:
                depth -= 1
                if depth == 0 {
                    position += 1
                    return (try? JSONValue(parsing: UnsafeRawBufferPointer(rebasing: bytes[start..<position]))) != nil
                }
            default:
                break
            }
            position += 1
        }
        return false
    }

    /// The four hex digits at `index` as a UTF-16 code unit, or nil.
    private func hexUnit(at index: Int) -> UInt16? {
        guard index + 3 < bytes.count else { return nil }
        var unit: UInt16 = 0
        for i in index..<(index + 4) {
            let c = bytes[i]
            guard isHexDigit(c) else { return nil }
            unit = unit << 4 | UInt16(c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10)
        }
        return unit
    }

    private func isHexDigit(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }
}
