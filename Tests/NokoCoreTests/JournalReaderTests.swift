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
