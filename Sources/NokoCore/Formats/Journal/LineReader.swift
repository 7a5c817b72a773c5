import Foundation
import Logging
import NokoPlatform

/// Reads a file line by line in fixed-size chunks: the one line reader of noko, for the
/// journal and every other line-oriented file (`output.log`).
///
/// Memory stays constant for any file size: a multi-gigabyte journal is read with a
/// buffer of about a megabyte (it grows only for a line longer than the buffer).
///
/// Only lines ending in `\n` are complete. What follows the last newline is a *torn* line
/// (its writer died mid-write, or is still writing it); it is never returned as a line:
///
/// - Reading a finished file, ``forEachLine(_:)`` returns the torn line's length so the
///   caller can say so (``warnTornLine(path:bytes:messages:)``, the one wording).
/// - **Tail mode**: ``withNextLine(_:)`` returns nil at the end of what is written so far,
///   and a later call picks up lines appended since (a torn line once its newline arrives).
///   ``offset`` is always the start of the next unread line, so a caller can persist it and
///   resume with `LineReader(path:offset:)` after a crash; ``seek(to:)`` goes back to a
///   line read earlier. A file that does not exist yet reads as empty when
///   `missingFileIsEmpty` is set.
///
/// Not thread-safe: one reader per thread.
package final class LineReader {
    /// A complete line, valid only inside the closure it is given to.
    package struct Line {
        /// The line without its `\n`; it points into the reader's buffer.
        package var bytes: UnsafeRawBufferPointer
        /// Byte offset of the line's first byte in the file.
        package var offset: UInt64
        /// Byte offset just past the line's `\n`.
        package var endOffset: UInt64
        /// 1-based line number, counted from where the reader started.
        package var number: Int
    }

    /// The file's path.
    package let path: String
    /// The byte offset of the next unread line.
    package private(set) var offset: UInt64
    /// 1-based number of the next line.
    package private(set) var lineNumber = 1

    /// The bytes the reader holds: its read size, or the longest line read so far if longer.
    package var bufferCapacity: Int { buffer.count }

    private let missingFileIsEmpty: Bool
    private let skipsBlankLines: Bool
    private var file: FileDescriptor?
    private var buffer: [UInt8]
    /// File offset of `buffer[0]`.
    private var bufferOffset: UInt64
    /// Bytes of `buffer` holding file data.
    private var filled = 0
    /// Index in `buffer` of the next unread line.
    private var cursor = 0

    /// A reader positioned at `offset`, which must be the start of a line (0, or an
    /// `endOffset` returned earlier). `bufferSize` is the read size; a longer line grows
    /// the buffer. With `skipsBlankLines`, empty lines are stepped over, never returned.
    package init(
        path: String, offset: UInt64 = 0, bufferSize: Int = 1 << 20, missingFileIsEmpty: Bool = false,
        skipsBlankLines: Bool = false
    ) {
        self.path = path
        self.offset = offset
        self.bufferOffset = offset
        self.missingFileIsEmpty = missingFileIsEmpty
        self.skipsBlankLines = skipsBlankLines
        buffer = [UInt8](repeating: 0, count: max(bufferSize, 64))
    }

    deinit {
        file?.closeIgnoringErrors()
    }

    /// Which file the reader has open, nil before its first read: a follower compares it
    /// with what the path names now to notice that the file was rotated away.
    package var openFileIdentity: FileSystem.Identity? { try? file?.info().identity }

    /// Releases the file; a later read opens it again.
    package func close() {
        file?.closeIgnoringErrors()
        file = nil
    }

    /// Calls `body` with the next complete line and returns its result, or returns nil when
    /// the file ends here (or with a torn line).
    package func withNextLine<Result>(_ body: (Line) throws -> Result) throws -> Result? {
        guard let (start, newline) = try advance() else { return nil }
        let line = Line(
            bytes: UnsafeRawBufferPointer(start: nil, count: 0), offset: bufferOffset + UInt64(start),
            endOffset: bufferOffset + UInt64(newline + 1), number: lineNumber - 1)
        return try buffer.withUnsafeBytes { raw in
            var line = line
            line.bytes = UnsafeRawBufferPointer(rebasing: raw[start..<newline])
            return try body(line)
        }
    }

    /// Calls `body` with each complete line to the end of the file; `body` returns false to
    /// stop. Returns the length of a torn last line (0 when the file ends with a newline or
    /// `body` stopped early).
    package func forEachLine(_ body: (Line) throws -> Bool) throws -> Int {
        while let keepGoing = try withNextLine(body) {
            if !keepGoing { return 0 }
        }
        return filled - cursor
    }

    /// Moves to `offset`, which must be the start of a line (the `offset` or `endOffset` of
    /// a line read earlier), so that the next call reads that line again.
    package func seek(to offset: UInt64) {
        let bufferEnd = bufferOffset + UInt64(filled)
        if offset >= bufferOffset && offset <= bufferEnd {
            cursor = Int(offset - bufferOffset)
        } else {
            bufferOffset = offset
            filled = 0
            cursor = 0
        }
        self.offset = offset
    }

    /// Steps over the next complete line: its start and newline index in `buffer`.
    private func advance() throws(NokoSystemError) -> (Int, Int)? {
        while true {
            if let newline = nextNewline() {
                let start = cursor
                cursor = newline + 1
                offset = bufferOffset + UInt64(cursor)
                lineNumber += 1
                if skipsBlankLines && newline == start { continue }
                return (start, newline)
            }
            guard try fill() else { return nil }
        }
    }

    /// Index of the next `\n` at or after `cursor` (memchr: the journal can be gigabytes).
    private func nextNewline() -> Int? {
        guard cursor < filled else { return nil }
        return buffer.withUnsafeBytes { raw -> Int? in
            let base = raw.baseAddress! + cursor
            guard let hit = memchr(base, 0x0A, filled - cursor) else { return nil }
            return cursor + (UnsafeRawPointer(hit) - base)
        }
    }

    /// Reads more of the file after the unread bytes; false when there is nothing new.
    private func fill() throws(NokoSystemError) -> Bool {
        if file == nil {
            // Opened at the first read: in tail mode a missing file is one not written yet.
            do {
                file = try FileDescriptor.open(path, .read)
            } catch {
                if missingFileIsEmpty && error.code == NokoSystemError.noSuchFile { return false }
                throw error
            }
        }
        guard let file else { return false }
        // Keep only the unread tail, at the front, in place (a slice would copy the buffer);
        // grow when one line fills the buffer.
        if cursor > 0 {
            let tail = filled - cursor
            if tail > 0 {
                let from = cursor
                buffer.withUnsafeMutableBytes { raw in _ = memmove(raw.baseAddress!, raw.baseAddress! + from, tail) }
            }
            bufferOffset += UInt64(cursor)
            filled = tail
            cursor = 0
        }
        if filled == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
        let at = bufferOffset + UInt64(filled)
        let start = filled
        // withUnsafeMutableBytes rethrows untyped errors, so the typed error travels as a value.
        let result = buffer.withUnsafeMutableBytes { raw in
            Result { () throws(NokoSystemError) in
                try file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[start...]), at: at)
            }
        }
        let count = try result.get()
        filled += count
        return count > 0
    }
}

extension Logging.Logger {
    /// The one warning about a torn last line: what it is and that it was skipped.
    package func warnTornLine(path: String, bytes: Int) {
        guard bytes > 0 else { return }
        warning("\(path): the last line is incomplete (\(bytes) bytes: the writer died mid-line or is still writing it); skipped")
    }
}
