import Foundation
import NokoCore
import Testing

@Suite struct JournalReaderTests {
    private func scratchFile() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("noko-journal-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("noko.ndjson").path
    }

    private func append(_ text: String, to path: String) {
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        let handle = FileHandle(forWritingAtPath: path)!
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
        handle.closeFile()
    }

    private func records(_ reader: JournalReader) throws -> [JournalRecord] {
        var out: [JournalRecord] = []
        while let item = try reader.next() {
            if case .record(let record) = item { out.append(record) }
        }
        return out
    }

    @Test func readsRowsWithOffsetsAndMembersInOrder() throws {
        let path = scratchFile()
        let first = #"{"loss":0.5,"$table":"train","$step":0}"# + "\n"
        let second = #"{"acc":"NaN","$table":"eval","$step":3}"# + "\n"
        append(first + second, to: path)
        let reader = JournalReader(path: path)
        let rows = try records(reader)
        #expect(rows.count == 2)
        #expect(rows[0].offset == 0)
        #expect(rows[0].endOffset == Int64(first.utf8.count))
        #expect(rows[1].offset == rows[0].endOffset)
        #expect(rows[1].endOffset == Int64((first + second).utf8.count))
        #expect(rows[0].members.map(\.key) == ["loss", "$table", "$step"])
        #expect(rows[0]["loss"] == .double(0.5))
        #expect(rows[1]["acc"] == .string("NaN"))
        #expect(reader.offset == rows[1].endOffset)
    }

    @Test func stopsBeforeATornLastLineAndPicksItUpWhenCompleted() throws {
        let path = scratchFile()
        append(#"{"a":1}"# + "\n" + #"{"a":"#, to: path)
        let reader = JournalReader(path: path)
        #expect(try records(reader).count == 1)
        #expect(reader.offset == 8)
        // A torn line stays unread however often we ask.
        #expect(try reader.next().map { _ in 1 } == nil)
        append("2}\n", to: path)
        let rest = try records(reader)
        #expect(rest.count == 1)
        #expect(rest[0]["a"] == .int(2))
        #expect(rest[0].offset == 8)
    }

    @Test func resumesFromASavedOffset() throws {
        let path = scratchFile()
        append((0..<5).map { #"{"i":\#($0)}"# + "\n" }.joined(), to: path)
        let all = try records(JournalReader(path: path))
        let resumed = try records(JournalReader(path: path, offset: all[2].endOffset))
        #expect(resumed.map { $0["i"] } == [.int(3), .int(4)])
    }

    @Test func reportsMalformedLinesAndGoesOn() throws {
        let path = scratchFile()
        append(#"{"i":1}"# + "\nnot json\n\n" + #"{"i":2}"# + "\n", to: path)
        let reader = JournalReader(path: path)
        var items: [String] = []
        while let item = try reader.next() {
            switch item {
            case .record(let record): items.append("row \(record["i"]!)")
            case .malformed(let offset, let end, _): items.append("bad \(offset)-\(end)")
            }
        }
        #expect(items == ["row int(1)", "bad 8-17", "row int(2)"])
    }

    @Test func readsLinesLongerThanItsBuffer() throws {
        let path = scratchFile()
        let long = String(repeating: "x", count: 5000)
        append(#"{"s":"\#(long)"}"# + "\n" + #"{"i":7}"# + "\n", to: path)
        let rows = try records(JournalReader(path: path, bufferSize: 100))
        #expect(rows.count == 2)
        #expect(rows[0]["s"] == .string(long))
        #expect(rows[1]["i"] == .int(7))
    }

    @Test func aMissingJournalReadsAsEmptyUntilItAppears() throws {
        let path = scratchFile()
        let reader = JournalReader(path: path)
        #expect(try reader.next().map { _ in 1 } == nil)
        append(#"{"i":1}"# + "\n", to: path)
        #expect(try records(reader).count == 1)
    }
}

extension JournalReaderTests {
    @Test func givesRawLinesAndSeeksBackToReadOneAgain() throws {
        let path = scratchFile()
        append(#"{"i":1}"# + "\n" + #"{"i":2}"# + "\n" + #"{"i":3"#, to: path)
        let reader = JournalReader(path: path)
        let first = try reader.withNextLine { line in (line.offset, line.endOffset, String(decoding: line.bytes, as: UTF8.self)) }
        #expect(first?.0 == 0 && first?.1 == 8 && first?.2 == #"{"i":1}"#)
        let second = try reader.withNextLine { line in (line.offset, String(decoding: line.bytes, as: UTF8.self)) }
        #expect(second?.0 == 8 && second?.1 == #"{"i":2}"#)
        reader.seek(to: 8)
        #expect(reader.offset == 8)
        #expect(try reader.withNextLine { String(decoding: $0.bytes, as: UTF8.self) } == #"{"i":2}"#)
        #expect(try reader.withNextLine { _ in 1 } == nil)  // the torn line waits
        // Once the buffer has moved past a line, seeking back re-reads it from the file.
        let other = JournalReader(path: path)
        _ = try other.next()
        _ = try other.next()
        #expect(try other.next().map { _ in 1 } == nil)  // compacts the buffer past line 2
        other.seek(to: 0)
        #expect(try other.withNextLine { String(decoding: $0.bytes, as: UTF8.self) } == #"{"i":1}"#)
    }
}

extension JournalReaderTests {
    @Test func decodesEscapedAndNonASCIIStrings() throws {
        let path = scratchFile()
        append(#"{"plain":"abc","esc":"a\"b\\c\nd\u00e9\ud83d\ude00 tail","utf8":"é😀","k\u00e9y":1}"# + "\n", to: path)
        let rows = try records(JournalReader(path: path))
        #expect(rows.count == 1)
        #expect(rows[0]["plain"] == "abc")
        #expect(rows[0]["esc"] == .string("a\"b\\c\nd\u{e9}\u{1F600} tail"))
        #expect(rows[0]["utf8"] == "é😀")
        #expect(rows[0]["kéy"] == 1)
        // Invalid UTF-8 is still refused.
        let bad = scratchFile()
        append(#"{"s":""#, to: bad)
        let handle = FileHandle(forWritingAtPath: bad)!
        handle.seekToEndOfFile()
        handle.write(Data([0xC3, 0x28, 0x22, 0x7D, 0x0A]))
        handle.closeFile()
        guard case .malformed? = try JournalReader(path: bad).next() else {
            Issue.record("invalid UTF-8 was accepted")
            return
        }
    }
}
