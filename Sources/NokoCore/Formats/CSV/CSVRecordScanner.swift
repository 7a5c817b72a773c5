import NokoPlatform

/// Splits CSV bytes into records and cells, incrementally: feed chunks of any size and get
/// each complete record once its terminating newline has arrived.
///
/// A hand-written byte loop, so rewriting a file whose header grew runs at disk speed, and
/// cells can be copied verbatim (already quoted) from the old file to the new.
struct CSVRecordScanner {
    /// Bytes not yet consumed (the incomplete tail of the input so far).
    private(set) var pending: [UInt8] = []
    /// 1-based number of the next record's first line, for error messages.
    private(set) var line = 1

    /// One record: cell boundaries within `bytes`.
    struct Record {
        /// The raw record bytes, without the newline.
        var bytes: ArraySlice<UInt8>
        /// Each cell's range in `bytes`' indices, quotes included.
        var cells: [Range<Int>]
        var firstLine: Int

        /// The decoded value of cell `i`.
        func value(_ i: Int) -> Scalar {
            let range = cells[i]
            return bytes.withUnsafeBufferPointer { buffer in
                let base = bytes.startIndex
                let raw = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[(range.lowerBound - base)..<(range.upperBound - base)])
                return CSVRecordScanner.decodeCell(raw)
            }
        }

        /// The raw (still escaped) bytes of cell `i`.
        func raw(_ i: Int) -> ArraySlice<UInt8> { bytes[cells[i]] }

        /// Cell `i` as text (quotes removed), for headers.
        func text(_ i: Int) -> String {
            if case .string(let s) = value(i) { return s }
            return String(decoding: raw(i), as: UTF8.self)
        }
    }

    /// Calls `body` with every complete record of the CSV file at `path`, in order, reading
    /// it in chunks (memory stays bounded by the longest record); `body` returns false to
    /// stop. Returns the length of a torn last record (no newline: its writer died mid-line
    /// or is still writing), which is left out; the caller says so
    /// (`warnTornLine(path:bytes:)`). The one loop every CSV reader uses.
    static func forEachRecord(inFile path: String, _ body: (Record) throws -> Bool) throws -> Int {
        let file = try FileDescriptor.open(path, .read)
        defer { file.closeIgnoringErrors() }
        var scanner = CSVRecordScanner()
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 1)
        defer { chunk.deallocate() }
        var stopped = false
        while !stopped {
            let n = try file.read(into: chunk)
            if n == 0 { break }
            try scanner.feed(UnsafeRawBufferPointer(rebasing: chunk[0..<n])) { record in
                if !stopped, try !body(record) { stopped = true }
            }
        }
        return stopped ? 0 : scanner.finish { _ in }
    }

    /// Appends `chunk` and calls `body` with every record completed by it.
    mutating func feed(_ chunk: UnsafeRawBufferPointer, _ body: (Record) throws -> Void) rethrows {
        pending.append(contentsOf: chunk)
        var consumed = 0
        try scan(from: &consumed, body)
        if consumed > 0 { pending.removeSubrange(0..<consumed) }
    }

    /// Emits the last record when the input does not end with a newline (a torn line).
    /// Returns the number of bytes in an unterminated final record that was left out.
    mutating func finish(_ body: (Record) throws -> Void) rethrows -> Int {
        var consumed = 0
        try scan(from: &consumed, body)
        let leftover = pending.count - consumed
        pending.removeAll()
        return leftover
    }

    private mutating func scan(from consumed: inout Int, _ body: (Record) throws -> Void) rethrows {
        let count = pending.count
        var start = consumed
        var cells: [Range<Int>] = []
        var cellStart = start
        var inQuotes = false
        var newlinesInRecord = 0
        var i = start
        // Scan raw bytes (no bounds checks in the loop); records are handed out as slices.
        let records: [(Range<Int>, [Range<Int>], Int)] = pending.withUnsafeBufferPointer { bytes in
            var found: [(Range<Int>, [Range<Int>], Int)] = []
            var line = self.line
            while i < count {
                if !inQuotes {
                    // Digits, letters, '.' and '-' all sort above ',', and the bytes that
                    // matter here (',', '"', '\n', '\r') below it: skip runs in a tight loop.
                    while i < count && bytes[i] > UInt8(ascii: ",") { i += 1 }
                    if i == count { break }
                }
                let byte = bytes[i]
                if inQuotes {
                    if byte == UInt8(ascii: "\"") {
                        if i + 1 >= count { break }  // need the next byte to decide
                        if bytes[i + 1] == UInt8(ascii: "\"") {
                            i += 2
                            continue
                        }
                        inQuotes = false
                    } else if byte == UInt8(ascii: "\n") {
                        newlinesInRecord += 1
                    }
                    i += 1
                    continue
                }
                if byte == UInt8(ascii: ",") {
                    cells.append(cellStart..<i)
                    cellStart = i + 1
                } else if byte == UInt8(ascii: "\n") {
                    var end = i
                    if end > cellStart, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                    cells.append(cellStart..<end)
                    found.append((start..<end, cells, line))
                    line += 1 + newlinesInRecord
                    newlinesInRecord = 0
                    cells.removeAll(keepingCapacity: true)
                    start = i + 1
                    cellStart = start
                    consumed = start
                } else if byte == UInt8(ascii: "\"") {
                    inQuotes = true
                }
                i += 1
            }
            self.line = line
            return found
        }
        for (range, cells, line) in records {
            try body(Record(bytes: pending[range], cells: cells, firstLine: line))
        }
    }

    /// The value of one raw cell.
    static func decodeCell(_ raw: UnsafeRawBufferPointer) -> Scalar {
        guard raw.count >= 2, raw.first == UInt8(ascii: "\""), raw.last == UInt8(ascii: "\"") else {
            return CSVFormat.parseUnquoted(raw)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count - 2)
        var i = 1
        while i < raw.count - 1 {
            let b = raw[i]
            bytes.append(b)
            i += b == UInt8(ascii: "\"") ? 2 : 1
        }
        return .string(String(decoding: bytes, as: UTF8.self))
    }
}
