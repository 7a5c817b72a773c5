import Foundation
import NokoPlatform

/// Streams a file line by line in fixed-size chunks, so a multi-gigabyte journal is read
/// with a few megabytes of memory.
///
/// Only lines ending in `\n` are complete; a final line without one is torn (its writer
/// died mid-write, or is still writing) and is reported separately, never as a line.
struct LineReader {
    let path: String
    private let file: FileDescriptor
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    /// File offset of `buffer[0]`.
    private var bufferOffset: UInt64
    private var atEOF = false
    /// 1-based number of the next line.
    private(set) var lineNumber = 1

    init(path: String, offset: UInt64 = 0, chunkSize: Int = 1 << 20) throws {
        self.path = path
        file = try FileDescriptor.open(path, .read)
        if offset > 0 { try file.seek(to: offset) }
        bufferOffset = offset
        buffer = [UInt8](repeating: 0, count: chunkSize)
    }

    func close() { file.closeIgnoringErrors() }

    /// A complete line (without its `\n`), where it starts in the file and its number.
    struct Line {
        var bytes: UnsafeRawBufferPointer
        var offset: UInt64
        var endOffset: UInt64
        var number: Int
    }

    /// Index of the next `\n` in `buffer[start..<end]` (memchr: the journal can be gigabytes).
    private func nextNewline() -> Int? {
        guard start < end else { return nil }
        return buffer.withUnsafeBytes { raw -> Int? in
            let base = raw.baseAddress! + start
            guard let hit = memchr(base, 0x0A, end - start) else { return nil }
            return start + (UnsafeRawPointer(hit) - base)
        }
    }

    /// Calls `body` for each complete line. Returns the length of a torn final line (0 if
    /// the file ends with a newline). `body` returns false to stop early.
    mutating func forEachLine(_ body: (Line) throws -> Bool) throws -> Int {
        while true {
            if let newline = nextNewline() {
                let lineStart = start
                start = newline + 1
                let keepGoing = try buffer.withUnsafeBytes { raw in
                    try body(
                        Line(
                            bytes: UnsafeRawBufferPointer(rebasing: raw[lineStart..<newline]),
                            offset: bufferOffset + UInt64(lineStart), endOffset: bufferOffset + UInt64(newline + 1),
                            number: lineNumber))
                }
                lineNumber += 1
                if !keepGoing { return 0 }
                continue
            }
            if atEOF { return end - start }
            // Move the partial line to the front, grow if a single line fills the buffer.
            if start > 0 {
                // In place: a slice of `buffer` would make the replacement copy the whole buffer.
                let (from, count) = (start, end - start)
                buffer.withUnsafeMutableBytes { raw in
                    _ = memmove(raw.baseAddress!, raw.baseAddress! + from, count)
                }
                bufferOffset += UInt64(start)
                end -= start
                start = 0
            }
            if end == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
            let n = try buffer.withUnsafeMutableBytes { raw in
                try file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[end...]))
            }
            if n == 0 { atEOF = true } else { end += n }
        }
    }
}
