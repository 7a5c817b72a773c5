import Foundation
import Logging
import NokoPlatform

/// One line of a run's console output (`output.log`).
package struct ConsoleLine: Sendable, Equatable {
    /// Which stream a line came from.
    package enum Stream: String, Sendable {
        case stdout, stderr
        /// A line of noko's own: the separator before a resumed run's output.
        case noko
    }

    /// The line as the program wrote it, without its newline (a redrawn line in its last
    /// state; a cut line ends with noko's marker).
    package var text: [UInt8]
    /// Its stream; `stdout` when the index does not say (its record was never written).
    package var stream: Stream
    /// When the tee read it (Unix seconds), nil when the index does not say.
    package var time: Double?
    /// Its first byte's offset counted over every rotation: the offset in its file plus the
    /// file's base. Stays valid when `output.log` is rotated to `output.1.log`.
    package var offset: UInt64
    /// The offset just past its newline, counted the same way.
    package var endOffset: UInt64

    /// The line as wandb's Logs tab takes it: `<UTC ISO 8601 time> text`, with `ERROR `
    /// first for stderr (wandb's own client sends `output.log` lines so).
    package var wandbText: [UInt8] {
        var out: [UInt8] = stream == .stderr ? Array("ERROR ".utf8) : []
        if let time { out += Array((ConsoleLine.isoUTC(time) + " ").utf8) }
        return out + text
    }

    /// `2026-11-27T10:27:38.123456`: UTC, microseconds, no zone suffix (Python's
    /// `datetime.utcfromtimestamp(t).isoformat()`, which wandb uses, with the microseconds
    /// always shown).
    package static func isoUTC(_ time: Double) -> String {
        let micros = Int64((max(0, time) * 1e6).rounded())
        let seconds = micros / 1_000_000, fraction = micros % 1_000_000
        let (y, m, d) = civilDate(daysSinceEpoch: seconds / 86_400)
        let daySecond = seconds % 86_400
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let micro = String(fraction)
        return "\(y)-\(two(m))-\(two(d))T\(two(daySecond / 3600)):\(two(daySecond / 60 % 60)):\(two(daySecond % 60))."
            + String(repeating: "0", count: 6 - micro.count) + micro
    }

    /// Year, month, day of a day counted from 1970-01-01 (Howard Hinnant's algorithm).
    private static func civilDate(daysSinceEpoch: Int64) -> (Int64, Int64, Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// Reads a run's console output: `output.1.log` (the rotated part, if any), then
/// `output.log`, each line with the stream and time its index records.
///
/// The files are written by the console tee (`ConsoleTee` in the platform layer):
/// `output.log` is plain text, every line ending in `\n`; `output.index` starts with
/// `noko-output-index 1 base <B>` and holds one record per write to the log,
/// `<start> <end> <stream> <unix seconds>`, where stream is `1` (stdout), `2` (stderr) or
/// `0` (noko's own line) and the byte range is in the log. B is the log's first byte counted
/// over every rotation, so `B + offset` names a byte for good. When the log reaches its cap
/// it and its index are renamed to `output.1.log` and `output.1.index` (an older pair is
/// replaced) and new ones are started: the live file is never rewritten.
///
/// With `follow`, ``next()`` returns nil at the end of what is written so far and a later
/// call picks up what was appended, following `output.log` across a rotation (through the
/// ``LineReader``'s tail mode). A follower that falls behind by more than a whole rotated
/// file loses that file; ``skippedBytes`` counts what it missed.
package final class ConsoleLogReader {
    private let layout: RunLayout
    private let follow: Bool
    private let messages: Logging.Logger?
    private var segment: Segment?
    /// Whether the reader is on `output.1.log` (false: on `output.log`).
    private var onRotatedFile: Bool
    /// The offset (over every rotation) just past the last line returned.
    private var expectedOffset: UInt64?
    /// Bytes of output a follower never saw: rotated away twice before it got to them.
    package private(set) var skippedBytes: UInt64 = 0

    /// A reader from the start of the run's console output in `layout`.
    package init(_ layout: RunLayout, follow: Bool = false, messages: Logging.Logger? = nil) {
        self.layout = layout
        self.follow = follow
        self.messages = messages
        onRotatedFile = FileSystem.exists(layout.rotatedOutputLog.path)
    }

    /// Whether the run has any console output at all.
    package static func exists(in layout: RunLayout) -> Bool {
        FileSystem.exists(layout.outputLog.path) || FileSystem.exists(layout.rotatedOutputLog.path)
    }

    /// The next line, or nil at the end of what is written so far.
    package func next() throws -> ConsoleLine? {
        while true {
            if segment == nil {
                segment = onRotatedFile
                    ? Segment(log: layout.rotatedOutputLog.path, index: layout.rotatedOutputIndex.path, messages: messages)
                    : Segment(log: layout.outputLog.path, index: layout.outputIndex.path, messages: messages)
            }
            guard let current = segment else { return nil }
            if let line = try current.next(fallbackBase: expectedOffset ?? 0, waitForIndex: follow) {
                if let expected = expectedOffset, line.offset > expected { skippedBytes += line.offset - expected }
                expectedOffset = line.endOffset
                return line
            }
            if onRotatedFile {
                // The rotated file is complete: go on with the live one.
                onRotatedFile = false
                segment = nil
                continue
            }
            // At the end of the live file: it may have been rotated away (renamed, a new one
            // started); the old one is read to its end first, through the open descriptor.
            guard follow, let open = current.logIdentity, let now = FileSystem.info(layout.outputLog.path)?.identity, open != now
            else { return nil }
            if let line = try current.next(fallbackBase: expectedOffset ?? 0, waitForIndex: true) {
                expectedOffset = line.endOffset
                return line
            }
            segment = nil
        }
    }

    /// Every line from here to the end of what is written.
    package func readAll() throws -> [ConsoleLine] {
        var lines: [ConsoleLine] = []
        while let line = try next() { lines.append(line) }
        return lines
    }

    /// The last `count` lines from here to the end of what is written that pass
    /// `include`, reading everything once (the log is capped, 100 MiB by default).
    package func lastLines(_ count: Int, where include: (ConsoleLine) -> Bool = { _ in true }) throws -> [ConsoleLine] {
        var ring: [ConsoleLine] = []
        var next = 0
        while let line = try self.next() {
            guard count > 0, include(line) else { continue }
            if ring.count < count {
                ring.append(line)
            } else {
                ring[next] = line
                next = (next + 1) % count
            }
        }
        return Array(ring[next...] + ring[..<next])
    }
}

/// One log file and its index.
private final class Segment {
    struct Record {
        var start: UInt64, end: UInt64
        var stream: ConsoleLine.Stream
        var time: Double
    }

    let log: LineReader
    let index: LineReader
    let indexPath: String
    let messages: Logging.Logger?
    var base: UInt64?
    var record: Record?
    var warnedAboutIndex = false
    /// The index is of a newer format: no record is trusted.
    var unreadableIndex = false

    init(log: String, index: String, messages: Logging.Logger?) {
        self.log = LineReader(path: log, bufferSize: 256 << 10, missingFileIsEmpty: true)
        self.index = LineReader(path: index, bufferSize: 64 << 10, missingFileIsEmpty: true)
        indexPath = index
        self.messages = messages
    }

    var logIdentity: FileSystem.Identity? { log.openFileIdentity }

    func next(fallbackBase: UInt64, waitForIndex: Bool) throws -> ConsoleLine? {
        guard let (text, start, end) = try log.withNextLine({ (Array($0.bytes), $0.offset, $0.endOffset) }) else { return nil }
        var found = try recordCovering(start)
        // The tee writes the index record just after the bytes: a follower may be between.
        var tries = 0
        while found == nil && waitForIndex && tries < 20 {
            CurrentProcess.sleep(seconds: 0.001)
            tries += 1
            found = try recordCovering(start)
        }
        let base = self.base ?? fallbackBase
        return ConsoleLine(
            text: text, stream: found?.stream ?? .stdout, time: found?.time, offset: base + start, endOffset: base + end)
    }

    /// The record whose byte range holds `offset`, reading the index as far as needed.
    private func recordCovering(_ offset: UInt64) throws -> Record? {
        while !unreadableIndex {
            if let record, record.start <= offset && offset < record.end { return record }
            if let record, record.start > offset { return nil }
            guard let parsed = try index.withNextLine({ line in parse(line) }) else { return nil }
            if let parsed { record = parsed }
        }
        return nil
    }

    /// A record, or nil for the header or a line that is not one (warned about once).
    private func parse(_ line: LineReader.Line) -> Record? {
        let text = String(decoding: line.bytes, as: UTF8.self)
        let fields = text.split(separator: " ", omittingEmptySubsequences: false)
        if line.offset == 0, fields.count == 4, fields[0] == "noko-output-index" {
            if fields[1] != "1" {
                warn("\(indexPath): written by a newer noko (index version \(fields[1])); streams and times are not shown")
                unreadableIndex = true
            }
            base = UInt64(fields[3])
            return nil
        }
        guard fields.count == 4, let start = UInt64(fields[0]), let end = UInt64(fields[1]), start <= end,
            let time = Double(fields[3])
        else {
            warn("\(indexPath): line \(line.number) is not an index record (\"<start> <end> <stream> <time>\"); skipped")
            return nil
        }
        let stream: ConsoleLine.Stream
        switch fields[2] {
        case "1": stream = .stdout
        case "2": stream = .stderr
        case "0": stream = .noko
        default:
            warn("\(indexPath): line \(line.number) names stream \(fields[2]) (expected 0, 1 or 2); skipped")
            return nil
        }
        return Record(start: start, end: end, stream: stream, time: time)
    }

    private func warn(_ message: String) {
        guard !warnedAboutIndex else { return }
        warnedAboutIndex = true
        messages?.warning("\(message)")
    }
}
