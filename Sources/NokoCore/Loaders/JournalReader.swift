import Foundation
import NokoPlatform

/// One complete line of a journal, unparsed; valid only inside
/// ``JournalReader/withNextLine(_:)``.
public struct JournalLine {
    /// Byte offset of the line's first byte in the file.
    public let offset: Int64
    /// Byte offset just past the line's `\n`.
    public let endOffset: Int64
    /// The line without its `\n`; it points into the reader's buffer.
    public let bytes: UnsafeRawBufferPointer
}

/// The journal could not be opened or read.
public struct JournalReadError: Error, Sendable, CustomStringConvertible {
    /// The journal's path.
    public let path: String
    /// What failed, with the system's reason.
    public let message: String

    public var description: String { "\(path): \(message)" }
}

/// Tails a journal from a byte offset, line by line, while its writer appends to it.
///
/// The journal is appended to while it is read, one `write` per row, so its last line may
/// be torn (no `\n` yet). The reader never consumes a line without its `\n`: it returns
/// nil there and picks the completed line up on a later call (unlike ``JournalScan``,
/// which reads a finished file once). A journal that does not exist yet reads as empty.
/// ``offset`` is always the start of the next unread line, so a caller can persist it and
/// resume with `JournalReader(path:offset:)` after a crash. Lines come unparsed: the
/// wandb upload scans them itself.
///
/// Not thread-safe: one reader per thread.
public final class JournalReader {
    /// The journal's path.
    public let path: String
    /// The byte offset of the next unread line.
    public private(set) var offset: Int64

    private var file: FileDescriptor?
    private var buffer: [UInt8]
    /// File offset of `buffer[0]`.
    private var bufferFileOffset: Int64
    /// Bytes of `buffer` holding file data.
    private var filled = 0
    /// Index in `buffer` of the next unread line.
    private var cursor = 0

    /// A reader positioned at `offset`, which must be the start of a line (0, or an
    /// `endOffset` returned earlier). `bufferSize` is the initial read size; lines longer
    /// than it grow the buffer.
    public init(path: String, offset: Int64 = 0, bufferSize: Int = 1 << 20) {
        self.path = path
        self.offset = offset
        self.bufferFileOffset = offset
        self.buffer = [UInt8](repeating: 0, count: max(bufferSize, 64))
    }

    deinit {
        file?.closeIgnoringErrors()
    }

    /// Calls `body` with the next complete line's bytes (without its `\n`) and returns its
    /// result, or returns nil when the journal ends here (or with a torn line).
    ///
    /// For readers that scan rows themselves instead of building ``JSONValue`` trees. The
    /// line is not checked; `body` must not keep `line.bytes` beyond the call.
    public func withNextLine<Result>(_ body: (JournalLine) -> Result) throws(JournalReadError) -> Result? {
        guard let (lineStart, newline, start, end) = try advance() else { return nil }
        return buffer.withUnsafeBytes { raw in
            body(JournalLine(offset: start, endOffset: end, bytes: UnsafeRawBufferPointer(rebasing: raw[lineStart..<newline])))
        }
    }

    /// Moves to `offset`, which must be the start of a line (the `offset` or `endOffset` of
    /// a line read earlier), so that the next call reads that line again.
    public func seek(to offset: Int64) {
        let bufferEnd = bufferFileOffset + Int64(filled)
        if offset >= bufferFileOffset && offset <= bufferEnd {
            cursor = Int(offset - bufferFileOffset)
        } else {
            bufferFileOffset = offset
            filled = 0
            cursor = 0
        }
        self.offset = offset
    }

    /// Steps over the next non-blank complete line: its buffer range and file offsets.
    private func advance() throws(JournalReadError) -> (Int, Int, Int64, Int64)? {
        while true {
            if let newline = findNewline() {
                let lineStart = cursor
                let start = offset
                let end = offset + Int64(newline - lineStart + 1)
                cursor = newline + 1
                offset = end
                if newline == lineStart { continue }  // blank line: nothing to report
                return (lineStart, newline, start, end)
            }
            guard try fill() else { return nil }
        }
    }

    /// Index of the next `\n` at or after `cursor` in the filled part of the buffer.
    private func findNewline() -> Int? {
        guard cursor < filled else { return nil }
        return buffer.withUnsafeBytes { raw -> Int? in
            let base = raw.baseAddress! + cursor
            guard let hit = memchr(base, 0x0A, filled - cursor) else { return nil }
            return cursor + (UnsafeRawPointer(hit) - base)
        }
    }

    /// Reads more of the file after the unread bytes; false when there is nothing new.
    private func fill() throws(JournalReadError) -> Bool {
        if file == nil {
            do {
                file = try FileDescriptor.open(path, .read)
            } catch {
                if error.code == NokoSystemError.noSuchFile { return false }
                throw JournalReadError(path: path, message: "cannot open: \(error.reason)")
            }
        }
        guard let file else { return false }
        // Keep only the unread tail, at the front; grow when one line fills the buffer.
        if cursor > 0 {
            let tail = filled - cursor
            if tail > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    _ = memmove(raw.baseAddress!, raw.baseAddress! + cursor, tail)
                }
            }
            bufferFileOffset += Int64(cursor)
            filled = tail
            cursor = 0
        }
        if filled == buffer.count {
            buffer.append(contentsOf: repeatElement(0, count: buffer.count))
        }
        let fileOffset = bufferFileOffset + Int64(filled)
        let result: Result<Int, NokoSystemError> = buffer.withUnsafeMutableBytes { raw in
            Result { () throws(NokoSystemError) in
                try file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...]), at: UInt64(fileOffset))
            }
        }
        let count: Int
        switch result {
        case .success(let n): count = n
        case .failure(let error): throw JournalReadError(path: path, message: "cannot read: \(error.reason)")
        }
        filled += count
        return count > 0
    }
}
