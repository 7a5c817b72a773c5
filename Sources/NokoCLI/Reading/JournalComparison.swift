import Foundation
import NokoCore
import NokoPlatform

/// Two journals compared row by row: how `noko-run reproduce` and `noko-run compare --rows`
/// judge whether a rerun came out the same.
///
/// Rows are matched by their position in their table (the 7th `train` row with the 7th
/// `train` row), never by step, which may repeat or go backwards. Every column is compared:
/// by default bit for bit, as the journal's text of each value (noko writes a double as the
/// shortest text that reads back to it, so equal text is equal bits); with a tolerance,
/// numbers are equal when `|a - b| <= atol + rtol * |a|` (`a` the original's, as in
/// `numpy.isclose`). The clock columns (`$utc_timestamp`, `$localtime`), the `system` table
/// (noko's samples of the machine, different on every run) and columns matching the
/// ignored patterns (`column` or `table/column`) are left out.
///
/// Both files are streamed side by side with the storage layer's tokenizer: lines are
/// compared as byte ranges, nothing is decoded unless two values differ. Tables whose rows
/// come in the same order in both (the usual case) are compared with no copying; rows one
/// journal has ahead of the other in a table wait in a queue, up to ``Options/maximumLag``
/// rows, past which that table is compared no further (and says so).
package struct JournalComparison {
    /// What counts as equal.
    package struct Options: Sendable {
        /// `rtol`: the relative difference allowed between two numbers.
        package var relativeTolerance: Double = 0
        /// `atol`: the absolute difference allowed between two numbers.
        package var absoluteTolerance: Double = 0
        /// Columns left out, matched against `column` and `table/column`.
        package var ignored: Glob?
        /// How many rows of one table one journal may be ahead of the other.
        package var maximumLag = 100_000

        package init(relativeTolerance: Double = 0, absoluteTolerance: Double = 0, ignored: Glob? = nil) {
            self.relativeTolerance = relativeTolerance
            self.absoluteTolerance = absoluteTolerance
            self.ignored = ignored
        }

        /// Whether values must be bit-exact.
        package var isExact: Bool { relativeTolerance == 0 && absoluteTolerance == 0 }
    }

    /// One value that differs between the journals.
    package struct Difference: Sendable, Equatable {
        package var table: String
        /// The row's position in its table, from 1.
        package var row: Int
        /// The original row's `$step`, when it has one.
        package var step: Int?
        package var column: String
        /// The original's value as the journal writes it (JSON text); nil when the column is
        /// absent from that row.
        package var original: String?
        /// The rerun's value as the journal writes it; nil when absent.
        package var rerun: String?
        /// `|original - rerun|`, for two numbers.
        package var absolute: Double?
        /// `|original - rerun| / |original|`, for two numbers when the original is not 0.
        package var relative: Double?
    }

    /// One table's result.
    package struct Table: Sendable, Equatable {
        package var name: String
        /// Rows of the table in the original's journal.
        package var originalRows = 0
        /// Rows of the table in the rerun's journal.
        package var rerunRows = 0
        /// Rows compared: the rows both journals have (fewer when ``lagExceeded``).
        package var comparedRows = 0
        /// Values compared.
        package var values = 0
        /// Values that differ (beyond the tolerance).
        package var differing = 0
        /// The first value that differs, in journal order.
        package var first: Difference?
        /// The largest absolute difference between two differing numbers.
        package var largestAbsolute: Double?
        /// The largest relative difference between two differing numbers.
        package var largestRelative: Double?
        /// One journal ran more than ``Options/maximumLag`` rows ahead in this table: it was
        /// compared up to there.
        package var lagExceeded = false

        /// Whether the table came out the same: every value, and as many rows.
        package var identical: Bool { differing == 0 && originalRows == rerunRows && !lagExceeded }
    }

    /// The comparison of two journals.
    package struct Result: Sendable, Equatable {
        /// Every table in either journal but the ones left out, by name.
        package var tables: [Table]
        /// Tables left out (the `system` table).
        package var skippedTables: [String]

        /// Whether every table came out the same.
        package var identical: Bool { tables.allSatisfy(\.identical) }
        package var comparedRows: Int { tables.reduce(0) { $0 + $1.comparedRows } }
        package var values: Int { tables.reduce(0) { $0 + $1.values } }
        package var differing: Int { tables.reduce(0) { $0 + $1.differing } }
    }

    /// A journal to compare: its path, and whether it is Python noko's (bare `NaN`).
    package struct Source: Sendable {
        package var path: String
        package var allowsNonFiniteLiterals: Bool

        package init(path: String, allowsNonFiniteLiterals: Bool = false) {
            self.path = path
            self.allowsNonFiniteLiterals = allowsNonFiniteLiterals
        }
    }

    /// Compares the journal `original` with the journal `rerun`. Errors name the file and
    /// line of a malformed line; a torn last line (a writer that died mid-line) is not a row.
    package static func compare(original: Source, rerun: Source, options: Options = Options()) throws -> Result {
        var comparison = JournalComparison(options: options, sources: (original, rerun))
        try comparison.run()
        return comparison.result()
    }

    // MARK: - The comparison

    private let options: Options
    private let readers: (original: LineReader, rerun: LineReader)
    private var scanners: (original: JournalScanner, rerun: JournalScanner)
    private var states: [String: TableState] = [:]
    private var skipped: Set<String> = []
    private var lastTable: (bytes: [UInt8], state: TableState?) = ([], nil)

    private init(options: Options, sources: (Source, Source)) {
        self.options = options
        // A rerun that died before its first row has no journal: it compares as an empty one.
        readers = (LineReader(path: sources.0.path, missingFileIsEmpty: true), LineReader(path: sources.1.path, missingFileIsEmpty: true))
        scanners = (
            JournalScanner(path: sources.0.path, allowsNonFiniteLiterals: sources.0.allowsNonFiniteLiterals),
            JournalScanner(path: sources.1.path, allowsNonFiniteLiterals: sources.1.allowsNonFiniteLiterals)
        )
    }

    private enum Side { case original, rerun }

    /// A row of one side, as its line's bytes and members.
    private struct RowText {
        var bytes: UnsafeRawBufferPointer
        var members: [JournalScanner.Member]

        func key(_ i: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[members[i].key]) }
        func value(_ i: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[members[i].value]) }
        func text(_ i: Int) -> String { String(decoding: value(i), as: UTF8.self) }
        func keyString(_ i: Int) -> String {
            members[i].keyHasEscapes
                ? (try? JSONValue(parsing: Array("\"".utf8) + Array(key(i)) + Array("\"".utf8)))?.stringValue ?? String(decoding: key(i), as: UTF8.self)
                : String(decoding: key(i), as: UTF8.self)
        }
    }

    /// A row waiting for its counterpart: a copy of its line.
    private struct PendingRow {
        var bytes: [UInt8]
        var members: [JournalScanner.Member]
    }

    /// A row's keys, as written, end to end.
    private struct KeySequence {
        var bytes: [UInt8] = []
        /// Where each key ends in ``bytes``.
        var ends: [Int] = []

        init(_ row: RowText) {
            for i in 0..<row.members.count {
                bytes.append(contentsOf: row.key(i))
                ends.append(bytes.count)
            }
        }

        /// Whether `row` has these keys, in this order.
        func matches(_ row: RowText) -> Bool {
            guard ends.count == row.members.count else { return false }
            return bytes.withUnsafeBytes { keys in
                row.members.withUnsafeBufferPointer { members in
                    var start = 0
                    for i in 0..<members.count {
                        let key = members[i].key
                        let end = ends[i]
                        guard end - start == key.count,
                            key.count == 0 || memcmp(keys.baseAddress! + start, row.bytes.baseAddress! + key.lowerBound, key.count) == 0
                        else { return false }
                        start = end
                    }
                    return true
                }
            }
        }
    }

    /// How the members of two rows line up.
    private struct Pairing {
        var originalKeys: KeySequence
        var rerunKeys: KeySequence
        /// For each member of the original's row: the rerun's member with its key, or -1.
        var partner: [Int]
        /// For each member of the original's row: whether it is compared.
        var compared: [Bool]
        /// The rerun's compared members whose keys the original's row lacks.
        var onlyInRerun: [Int]
    }

    /// A table's running state.
    private final class TableState {
        var result: Table
        var pending: [PendingRow] = []
        var pendingHead = 0
        /// Which side the pending rows belong to.
        var pendingSide = Side.original
        /// How the last pair of rows compared lined up.
        var pairing: Pairing?

        init(name: String) { result = Table(name: name) }

        var pendingCount: Int { pending.count - pendingHead }
    }

    private mutating func run() throws {
        while true {
            let read: Bool? = try readers.original.withNextLine { a in
                let paired: Void? = try readers.rerun.withNextLine { b in try pair(a, b) }
                if paired == nil { try single(.original, a) }
                return true
            }
            if read == nil {
                while try readers.rerun.withNextLine({ b in try single(.rerun, b) }) != nil {}
                break
            }
        }
    }

    /// Tokenizes a line of `side` (nil for a blank line); a malformed one is an error naming
    /// the file and line.
    private mutating func tokenize(_ side: Side, _ line: LineReader.Line) throws -> RowText? {
        guard !line.bytes.isEmpty else { return nil }
        let problem = side == .original ? scanners.original.tokenize(line.bytes) : scanners.rerun.tokenize(line.bytes)
        let path = side == .original ? scanners.original.path : scanners.rerun.path
        if let problem { throw LogFileError(path: path, line: line.number, message: "not a noko journal line: \(problem)") }
        let members = side == .original ? scanners.original.members : scanners.rerun.members
        return RowText(bytes: line.bytes, members: members)
    }

    /// The table a row belongs to, nil when it is left out; a row without a `$table` string
    /// is an error naming the file and line.
    private mutating func table(of row: RowText, side: Side, line: Int) throws -> TableState? {
        guard let index = row.members.indices.first(where: { equal(row.key($0), Self.tableKey) }), row.members[index].kind == .string else {
            let path = side == .original ? scanners.original.path : scanners.rerun.path
            throw LogFileError(path: path, line: line, message: "not a noko journal line: no \"$table\" string")
        }
        let value = row.value(index)
        if let state = lastTable.state, equal(value, lastTable.bytes) { return state }
        let name: String
        if row.members[index].valueHasEscapes {
            name = (try? JSONValue(parsing: value))?.stringValue ?? String(decoding: value, as: UTF8.self)
        } else {
            name = String(decoding: UnsafeRawBufferPointer(rebasing: value.dropFirst().dropLast()), as: UTF8.self)
        }
        guard name != SystemTable.name else {
            skipped.insert(name)
            return nil
        }
        let state = states[name] ?? TableState(name: name)
        states[name] = state
        lastTable = (Array(value), state)
        return state
    }

    private mutating func pair(_ a: LineReader.Line, _ b: LineReader.Line) throws {
        guard let rowA = try tokenize(.original, a) else { return try single(.rerun, b) }
        let tableA = try table(of: rowA, side: .original, line: a.number)
        if let tableA, tableA.pendingCount == 0, !tableA.result.lagExceeded, options.ignored == nil,
            let values = identicalApartFromTheClock(rowA, b.bytes)
        {
            // The usual case: the rerun's line is the original's but for the clock, which
            // also makes it well-formed, so it need not be tokenized.
            tableA.result.originalRows += 1
            tableA.result.rerunRows += 1
            tableA.result.comparedRows += 1
            tableA.result.values += values
            return
        }
        guard let rowB = try tokenize(.rerun, b) else { return try place(rowA, in: tableA, side: .original) }
        let tableB = try table(of: rowB, side: .rerun, line: b.number)
        if let tableA, tableA === tableB, tableA.pendingCount == 0, !tableA.result.lagExceeded {
            tableA.result.originalRows += 1
            tableA.result.rerunRows += 1
            // The byte-for-byte check above already failed for this pair.
            compare(rowA, rowB, in: tableA, clockChecked: true)
            return
        }
        try place(rowA, in: tableA, side: .original)
        try place(rowB, in: tableB, side: .rerun)
    }

    private mutating func single(_ side: Side, _ line: LineReader.Line) throws {
        guard let row = try tokenize(side, line) else { return }
        try place(row, in: table(of: row, side: side, line: line.number), side: side)
    }

    /// A row that has no counterpart at hand: compared with the other side's oldest waiting
    /// row of its table, or left waiting.
    private func place(_ row: RowText, in state: TableState?, side: Side) throws {
        guard let state else { return }
        if side == .original { state.result.originalRows += 1 } else { state.result.rerunRows += 1 }
        guard !state.result.lagExceeded else { return }
        if state.pendingCount > 0, state.pendingSide != side {
            let waiting = state.pending[state.pendingHead]
            state.pendingHead += 1
            if state.pendingHead == state.pending.count {
                state.pending.removeAll(keepingCapacity: true)
                state.pendingHead = 0
            } else if state.pendingHead >= 1024 && state.pendingHead * 2 >= state.pending.count {
                // A journal steadily a few rows behind never empties the queue: drop what was read.
                state.pending.removeFirst(state.pendingHead)
                state.pendingHead = 0
            }
            waiting.bytes.withUnsafeBytes { bytes in
                let other = RowText(bytes: bytes, members: waiting.members)
                side == .original ? compare(row, other, in: state) : compare(other, row, in: state)
            }
            return
        }
        guard state.pendingCount < options.maximumLag else {
            state.result.lagExceeded = true
            state.pending = []
            state.pendingHead = 0
            return
        }
        state.pendingSide = side
        state.pending.append(PendingRow(bytes: Array(row.bytes), members: row.members))
    }

    /// Compares the `n`th rows of a table, `a` the original's; `clockChecked` when
    /// ``identicalApartFromTheClock(_:_:)`` already said no.
    private func compare(_ a: RowText, _ b: RowText, in state: TableState, clockChecked: Bool = false) {
        state.result.comparedRows += 1
        if !clockChecked, options.ignored == nil, let values = identicalApartFromTheClock(a, b.bytes) {
            state.result.values += values
            return
        }
        let row = state.result.comparedRows
        let pairing = self.pairing(a, b, in: state)
        // Counted here and added once: a class's stored property is an access check per use.
        var values = 0
        var differing = false
        let count = a.members.count
        a.members.withUnsafeBufferPointer { am in
            b.members.withUnsafeBufferPointer { bm in
                pairing.partner.withUnsafeBufferPointer { partner in
                    pairing.compared.withUnsafeBufferPointer { compared in
                        for i in 0..<count where compared[i] {
                            values += 1
                            let j = partner[i]
                            if j < 0 {
                                differing = true
                                continue
                            }
                            let x = am[i].value, y = bm[j].value
                            if x.count != y.count || memcmp(a.bytes.baseAddress! + x.lowerBound, b.bytes.baseAddress! + y.lowerBound, x.count) != 0 {
                                differing = true
                            }
                        }
                    }
                }
            }
        }
        state.result.values += values + pairing.onlyInRerun.count
        guard differing || !pairing.onlyInRerun.isEmpty else { return }
        // Rare: say what differs.
        for i in 0..<count where pairing.compared[i] {
            let j = pairing.partner[i]
            if j < 0 {
                record(Difference(table: state.result.name, row: row, step: step(of: a), column: a.keyString(i), original: a.text(i), rerun: nil), in: state)
            } else if !equal(a.value(i), b.value(j)) {
                differ(a, i, b, j, row: row, in: state)
            }
        }
        for j in pairing.onlyInRerun {
            record(Difference(table: state.result.name, row: row, step: step(of: a), column: b.keyString(j), original: nil, rerun: b.text(j)), in: state)
        }
    }

    /// The number of values compared when the rerun's line `b` is byte for byte the
    /// original's row `a` apart from the clock values (`$utc_timestamp` a number,
    /// `$localtime` a string without escapes), else nil. A few long `memcmp`s: `b` is not
    /// tokenized, and it is well-formed when it matches.
    private func identicalApartFromTheClock(_ a: RowText, _ b: UnsafeRawBufferPointer) -> Int? {
        var aStart = 0, bStart = 0, clockMembers = 0
        for i in 0..<a.members.count {
            let member = a.members[i]
            guard member.key.count == Self.utcTimestampKey.count || member.key.count == Self.localTimeKey.count,
                equal(a.key(i), Self.utcTimestampKey) || equal(a.key(i), Self.localTimeKey)
            else { continue }
            let length = member.value.lowerBound - aStart
            guard bStart + length <= b.count,
                equal(UnsafeRawBufferPointer(rebasing: a.bytes[aStart..<member.value.lowerBound]), UnsafeRawBufferPointer(rebasing: b[bStart..<(bStart + length)]))
            else { return nil }
            // The clock values may differ in length: go on from each one's end.
            let valueStart = bStart + length
            guard let valueEnd = Self.clockValueEnd(b, from: valueStart, kind: member.kind) else { return nil }
            aStart = member.value.upperBound
            bStart = valueEnd
            clockMembers += 1
        }
        guard a.bytes.count - aStart == b.count - bStart,
            equal(UnsafeRawBufferPointer(rebasing: a.bytes[aStart...]), UnsafeRawBufferPointer(rebasing: b[bStart...]))
        else { return nil }
        // Every member but `$table` and the clock.
        return a.members.count - 1 - clockMembers
    }

    /// Where a clock value starting at `start` ends: a JSON number, or a string of printable
    /// ASCII without escapes; nil for anything else (the general path judges it).
    private static func clockValueEnd(_ bytes: UnsafeRawBufferPointer, from start: Int, kind: JournalScanner.Kind) -> Int? {
        switch kind {
        case .number:
            return DecimalNumber.end(bytes, from: start, to: bytes.count)
        case .string:
            guard start < bytes.count, bytes[start] == 0x22 else { return nil }
            var i = start + 1
            while i < bytes.count {
                let c = bytes[i]
                if c == 0x22 { return i + 1 }
                guard c >= 0x20, c < 0x7F, c != 0x5C else { return nil }
                i += 1
            }
            return nil
        case .literal, .nested:
            return nil
        }
    }

    /// Which members of two rows hold the same column, and which are compared: worked out
    /// once per pair of key sequences (a table's rows share theirs; two runs may write a
    /// dictionary row's keys in different orders), cached for the table's last pair.
    private func pairing(_ a: RowText, _ b: RowText, in state: TableState) -> Pairing {
        if let cached = state.pairing, cached.originalKeys.matches(a), cached.rerunKeys.matches(b) { return cached }
        let originalKeys = KeySequence(a)
        let rerunKeys = KeySequence(b)
        var partner = [Int](repeating: -1, count: a.members.count)
        var onlyInRerun: [Int] = []
        if originalKeys.bytes == rerunKeys.bytes && originalKeys.ends == rerunKeys.ends {
            partner = Array(0..<a.members.count)
        } else {
            var index: [String: Int] = [:]
            for j in 0..<b.members.count { index[b.keyString(j)] = j }
            var paired = Set<Int>()
            for i in 0..<a.members.count {
                if let j = index[a.keyString(i)] {
                    partner[i] = j
                    paired.insert(j)
                }
            }
            onlyInRerun = (0..<b.members.count).filter { !paired.contains($0) && isCompared(b.keyString($0), table: state.result.name) }
        }
        let compared = (0..<a.members.count).map { isCompared(a.keyString($0), table: state.result.name) }
        let made = Pairing(originalKeys: originalKeys, rerunKeys: rerunKeys, partner: partner, compared: compared, onlyInRerun: onlyInRerun)
        state.pairing = made
        return made
    }

    private func isCompared(_ key: String, table: String) -> Bool {
        if key == SummarizedRow.tableKey || key == SummarizedRow.utcTimestampKey || key == SummarizedRow.localTimeKey { return false }
        guard let ignored = options.ignored else { return true }
        return !ignored.matches(key) && !ignored.matches(table + "/" + key)
    }

    /// Two values whose text differs: a difference unless both are numbers within the tolerance.
    private func differ(_ a: RowText, _ i: Int, _ b: RowText, _ j: Int, row: Int, in state: TableState) {
        let x = number(a, i)
        let y = number(b, j)
        var difference = Difference(
            table: state.result.name, row: row, step: step(of: a), column: a.keyString(i), original: a.text(i), rerun: b.text(j))
        if let x, let y {
            let absolute = x == y ? 0 : abs(x - y)
            if !options.isExact, absolute <= options.absoluteTolerance + options.relativeTolerance * abs(x) { return }
            difference.absolute = absolute
            difference.relative = x == 0 ? nil : absolute / abs(x)
        }
        record(difference, in: state)
    }

    private func record(_ difference: Difference, in state: TableState) {
        state.result.differing += 1
        if state.result.first == nil { state.result.first = difference }
        if let absolute = difference.absolute, !absolute.isNaN {
            state.result.largestAbsolute = max(state.result.largestAbsolute ?? absolute, absolute)
        }
        if let relative = difference.relative, !relative.isNaN {
            state.result.largestRelative = max(state.result.largestRelative ?? relative, relative)
        }
    }

    /// The value of member `i` as a number: a JSON number, or the journal's `"NaN"`,
    /// `"Infinity"` and `"-Infinity"` strings (and Python noko's bare literals).
    private func number(_ row: RowText, _ i: Int) -> Double? {
        let value = row.value(i)
        switch row.members[i].kind {
        case .number:
            return DecimalNumber.parse(value, from: 0, to: value.count)?.0.doubleValue
        case .string:
            return JSONValue.nonFiniteDouble(String(decoding: UnsafeRawBufferPointer(rebasing: value.dropFirst().dropLast()), as: UTF8.self))
        case .literal:
            return JSONValue.nonFiniteDouble(String(decoding: value, as: UTF8.self))
        case .nested:
            return nil
        }
    }

    private func step(of row: RowText) -> Int? {
        guard let i = row.members.indices.first(where: { equal(row.key($0), Self.stepKey) }), let value = number(row, i) else { return nil }
        return Int(exactly: value)
    }

    private static let tableKey = Array(SummarizedRow.tableKey.utf8)
    private static let stepKey = Array(SummarizedRow.stepKey.utf8)
    private static let utcTimestampKey = Array(SummarizedRow.utcTimestampKey.utf8)
    private static let localTimeKey = Array(SummarizedRow.localTimeKey.utf8)

    private func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
    }

    private func equal(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Bool {
        b.withUnsafeBytes { equal(a, $0) }
    }

    private func result() -> Result {
        Result(tables: states.values.map(\.result).sorted { $0.name < $1.name }, skippedTables: skipped.sorted())
    }
}
