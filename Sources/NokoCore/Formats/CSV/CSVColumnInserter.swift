/// Streams CSV records while inserting empty columns: what a header that grew needs.
///
/// Both headers are sorted and the old columns are a subset of the new, so every record
/// keeps its bytes in order and only gains commas at fixed cell positions. The old file is
/// copied in runs, with no per-cell work: rewriting runs at memory-copy speed.
struct CSVColumnInserter {
    /// `inserts[k]`: empty cells to insert before old cell `k` (`k == oldCount`: at the end).
    private let inserts: [Int]
    /// `nextInsert[k]`: the first cell after `k` that gets cells inserted before it.
    private let nextInsert: [Int]
    private var inQuotes = false
    private var cell = 0
    private var inHeader = true
    /// The converted records; the first ``completeCount`` bytes are whole records.
    private var output = RowText(capacity: 1 << 16)
    private(set) var completeCount = 0

    /// Records of header `old` as records of `new` (sorted, with every key of `old`);
    /// `headerFirst`: the bytes start with a header record, which is dropped.
    init(from old: [String], to new: [String], headerFirst: Bool) {
        let oldPosition = Dictionary(old.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        self.init(mapping: new.map { oldPosition[$0] ?? -1 }, oldCount: old.count)
        inHeader = headerFirst
        // Bytes without a header start with a record: its leading inserted cells come first.
        if !headerFirst { output.append(repeating: UInt8(ascii: ","), count: inserts[0]) }
    }

    /// `mapping[j]` is the old position of new column `j`, or -1 for a new column.
    init(mapping: [Int], oldCount: Int) {
        var inserts = [Int](repeating: 0, count: oldCount + 1)
        var nextOld = 0
        for old in mapping {
            if old < 0 { inserts[nextOld] += 1 } else { nextOld = old + 1 }
        }
        self.inserts = inserts
        var nextInsert = [Int](repeating: Int.max, count: inserts.count)
        var next = Int.max
        for k in stride(from: inserts.count - 1, through: 0, by: -1) {
            nextInsert[k] = next
            if inserts[k] > 0 { next = k }
        }
        self.nextInsert = nextInsert
    }

    /// Converts `chunk` (the old file's next bytes; its header record is dropped).
    ///
    /// The state lives in locals for the loop and output goes through `RowText`: this loop
    /// is what a rewrite costs, once per byte of the file, and `close()` often waits for one.
    mutating func process(_ chunk: UnsafeRawBufferPointer) {
        guard let bytes = chunk.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let count = chunk.count
        var (inQuotes, cell, inHeader) = (self.inQuotes, self.cell, self.inHeader)
        var output = self.output
        self.output = RowText(capacity: 0)  // the local is the only owner while it grows
        var completeCount = self.completeCount
        var runStart = 0
        inserts.withUnsafeBufferPointer { inserts in
            let last = inserts.count - 1
            var i = 0
            while i < count {
                // Most of a record is cells that get nothing inserted: sixteen bytes at a time
                // while they hold no quote and no record end and their commas reach no cell
                // that gets an insert.
                if !inQuotes, !inHeader, i + 16 <= count {
                    let block = UnsafeRawPointer(bytes + i).loadUnaligned(as: SIMD16<UInt8>.self)
                    let special = (block .== CSVColumnInserter.quotes) .| (block .== CSVColumnInserter.newlines)
                    if !any(special) {
                        let commas = Int(CSVColumnInserter.zeros.replacing(with: 1, where: block .== CSVColumnInserter.commas).wrappedSum())
                        if cell < nextInsert.count, cell + commas < nextInsert[cell] {
                            cell += commas
                            i += 16
                            continue
                        }
                    }
                }
                defer { i += 1 }
                let byte = bytes[i]
                if byte == UInt8(ascii: "\"") {
                    inQuotes.toggle()
                    continue
                }
                if inQuotes { continue }
                if byte == UInt8(ascii: ","), !inHeader {
                    cell += 1
                    if cell <= last, inserts[cell] > 0 {
                        output.append(UnsafeRawBufferPointer(start: bytes + runStart, count: i + 1 - runStart))
                        output.append(repeating: UInt8(ascii: ","), count: inserts[cell])
                        runStart = i + 1
                    }
                } else if byte == UInt8(ascii: "\n") {
                    if inHeader {
                        inHeader = false
                    } else {
                        var end = i
                        if end > runStart, bytes[end - 1] == UInt8(ascii: "\r") {
                            end -= 1
                        } else if end == runStart, output.last == UInt8(ascii: "\r") {
                            output.removeLast()  // the "\r" ended the previous chunk
                        }
                        output.append(UnsafeRawBufferPointer(start: bytes + runStart, count: end - runStart))
                        // Records shorter than the old header get their missing cells too.
                        let missing = max(0, last - 1 - cell) + inserts[last]
                        output.append(repeating: UInt8(ascii: ","), count: missing)
                        output.append(UInt8(ascii: "\n"))
                        completeCount = output.count
                    }
                    // The next record starts here: its leading inserted cells come first.
                    output.append(repeating: UInt8(ascii: ","), count: inserts[0])
                    cell = 0
                    runStart = i + 1
                }
            }
        }
        if !inHeader, runStart < count {
            output.append(UnsafeRawBufferPointer(start: bytes + runStart, count: count - runStart))
        }
        (self.inQuotes, self.cell, self.inHeader) = (inQuotes, cell, inHeader)
        self.output = output
        self.completeCount = completeCount
    }

    private static let quotes = SIMD16<UInt8>(repeating: UInt8(ascii: "\""))
    private static let newlines = SIMD16<UInt8>(repeating: UInt8(ascii: "\n"))
    private static let commas = SIMD16<UInt8>(repeating: UInt8(ascii: ","))
    private static let zeros = SIMD16<UInt8>(repeating: 0)

    /// Removes and returns the whole records converted so far.
    mutating func takeComplete() -> [UInt8] {
        var complete: [UInt8] = []
        withComplete { complete = Array($0) }
        output.removeFirst(completeCount)
        completeCount = 0
        return complete
    }

    /// Calls `body` with the whole records converted so far, then removes them.
    mutating func writeComplete(_ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        try withComplete(body)
        output.removeFirst(completeCount)
        completeCount = 0
    }

    /// Calls `body` with the whole records converted so far.
    func withComplete<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(rebasing: output.bytes[0..<completeCount]))
    }

    /// Bytes of an unterminated final record (a torn line), which are dropped.
    var tornBytes: Int { max(0, output.count - completeCount - inserts[0]) }
}
