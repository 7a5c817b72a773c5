import Foundation
import NokoTestSupport
import NokoCore
import NokoPlatform
import Testing

@Suite struct LineReaderTests {
    private func scratchFile() -> String {
        temporaryDirectory("journal").appendingPathComponent("noko.ndjson").path
    }

    private func append(_ bytes: [UInt8], to path: String) {
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        let handle = FileHandle(forWritingAtPath: path)!
        handle.seekToEndOfFile()
        handle.write(Data(bytes))
        handle.closeFile()
    }

    private func append(_ text: String, to path: String) { append(Array(text.utf8), to: path) }

    /// Every line available now: (offset, endOffset, text).
    private func lines(_ reader: LineReader) throws -> [(UInt64, UInt64, String)] {
        var out: [(UInt64, UInt64, String)] = []
        while let line = try reader.withNextLine({ ($0.offset, $0.endOffset, String(decoding: $0.bytes, as: UTF8.self)) }) {
            out.append(line)
        }
        return out
    }

    @Test func readsLinesWithTheirOffsets() throws {
        let path = scratchFile()
        let first = #"{"loss":0.5,"$table":"train","$step":0}"#
        let second = #"{"acc":"NaN","$table":"eval","$step":3}"#
        append(first + "\n" + second + "\n", to: path)
        let reader = LineReader(path: path, missingFileIsEmpty: true, skipsBlankLines: true)
        let read = try lines(reader)
        #expect(read.map(\.2) == [first, second])
        #expect(read[0].0 == 0 && read[0].1 == UInt64(first.utf8.count + 1))
        #expect(read[1].0 == read[0].1 && read[1].1 == UInt64(first.utf8.count + second.utf8.count + 2))
        #expect(reader.offset == read[1].1)
    }

    @Test func stopsBeforeATornLastLineAndPicksItUpWhenCompleted() throws {
        let path = scratchFile()
        append(#"{"a":1}"# + "\n" + #"{"a":"#, to: path)
        let reader = LineReader(path: path, missingFileIsEmpty: true, skipsBlankLines: true)
        #expect(try lines(reader).count == 1)
        #expect(reader.offset == 8)
        // A torn line stays unread however often we ask.
        #expect(try reader.withNextLine { _ in 1 } == nil)
        #expect(reader.offset == 8)
        append("2}\n", to: path)
        let rest = try lines(reader)
        #expect(rest.map(\.2) == [#"{"a":2}"#])
        #expect(rest[0].0 == 8)
    }

    @Test func resumesFromASavedOffsetAndSkipsBlankLines() throws {
        let path = scratchFile()
        append((0..<5).map { #"{"i":\#($0)}"# + "\n" }.joined() + "\n", to: path)
        let all = try lines(LineReader(path: path, missingFileIsEmpty: true, skipsBlankLines: true))
        #expect(all.count == 5)
        let resumed = try lines(LineReader(path: path, offset: all[2].1, missingFileIsEmpty: true, skipsBlankLines: true))
        #expect(resumed.map(\.2) == [#"{"i":3}"#, #"{"i":4}"#])
    }

    @Test func readsLinesLongerThanItsBuffer() throws {
        let path = scratchFile()
        let long = #"{"s":""# + String(repeating: "x", count: 5000) + #""}"#
        append(long + "\n" + #"{"i":7}"# + "\n", to: path)
        let read = try lines(LineReader(path: path, bufferSize: 100, missingFileIsEmpty: true, skipsBlankLines: true))
        #expect(read.map(\.2) == [long, #"{"i":7}"#])
    }

    @Test func aMissingJournalReadsAsEmptyUntilItAppears() throws {
        let path = scratchFile()
        let reader = LineReader(path: path, missingFileIsEmpty: true, skipsBlankLines: true)
        #expect(try reader.withNextLine { _ in 1 } == nil)
        append(#"{"i":1}"# + "\n", to: path)
        #expect(try lines(reader).count == 1)
    }

    @Test func seeksBackToReadALineAgain() throws {
        let path = scratchFile()
        append(#"{"i":1}"# + "\n" + #"{"i":2}"# + "\n" + #"{"i":3"#, to: path)
        let reader = LineReader(path: path, missingFileIsEmpty: true, skipsBlankLines: true)
        _ = try reader.withNextLine { _ in 0 }
        #expect(try reader.withNextLine { String(decoding: $0.bytes, as: UTF8.self) } == #"{"i":2}"#)
        reader.seek(to: 8)
        #expect(reader.offset == 8)
        #expect(try reader.withNextLine { String(decoding: $0.bytes, as: UTF8.self) } == #"{"i":2}"#)
        // Once the buffer has moved past a line (a torn tail compacts it), seeking back
        // re-reads it from the file.
        #expect(try reader.withNextLine { _ in 1 } == nil)
        reader.seek(to: 0)
        #expect(try lines(reader).map(\.2) == [#"{"i":1}"#, #"{"i":2}"#])
    }

    @Test func anUnreadableJournalIsAnError() throws {
        let directory = temporaryDirectory()
        let reader = LineReader(path: directory.path, missingFileIsEmpty: true, skipsBlankLines: true)  // a directory, not a file
        #expect(throws: NokoSystemError.self) { _ = try reader.withNextLine { _ in 1 } }
    }
}
