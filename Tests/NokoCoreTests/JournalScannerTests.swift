import Foundation
import NokoPlatform
import NokoTestSupport
import Testing
@testable import NokoCore

/// The one line reader and row scanner: every byte boundary, torn tails, NUL bytes, a
/// 2 GB sparse journal, and a file another process is appending to.
@Suite struct JournalScannerTests {
    private static let lines = [
        #"{"$table":"train","$step":0,"$level":20,"$localtime":"2026-11-27T10:00:00","$utc_timestamp":1795783060.5,"loss":0.693,"acc":1,"ok":true,"note":"ünïcode"}"#,
        #"{"$table":"train","$step":1,"$level":20,"$localtime":"2026-11-27T10:00:01","$utc_timestamp":1795783061.25,"loss":"NaN","acc":-2,"ok":false,"note":null}"#,
        #"{"$table":"eval","$step":0,"$level":35,"$utc_timestamp":1795783062,"score":1e-5,"esc\"aped":"a\nb"}"#,
    ]

    private func write(_ text: String) throws -> String {
        let path = temporaryDirectory().appendingPathComponent("noko.ndjson").path
        try AtomicFile.write(Array(text.utf8), to: path)
        return path
    }

    private func rows(_ path: String, bufferSize: Int = 1 << 20) throws -> [SummarizedRow] {
        var scanner = JournalScanner(path: path)
        var rows: [SummarizedRow] = []
        let torn = try LineReader(path: path, bufferSize: bufferSize).forEachLine { line in
            rows.append(try scanner.row(line.bytes, number: line.number))
            return true
        }
        #expect(torn == 0)
        return rows
    }

    @Test("rows come out the same whatever the read size, at every byte boundary")
    func everyBufferBoundary() throws {
        let text = Self.lines.joined(separator: "\n") + "\n"
        let path = try write(text)
        let reference = try rows(path)
        #expect(reference.map(\.table) == ["train", "train", "eval"])
        #expect(reference[0].pairs.map { "\($0)=\($1)" } == ["loss=0.693", "acc=1", "ok=true", "note=ünïcode"])
        #expect(reference[1].values[0].doubleValue?.isNaN == true)
        #expect(reference[2].keys == ["score", "esc\"aped"])
        #expect(reference[2].values == [.double(1e-5), .string("a\nb")])
        // The smallest buffer is 64 bytes; every size up to the whole file puts a chunk
        // boundary at every byte of some line.
        for size in 64...(text.utf8.count + 1) {
            let read = try rows(path, bufferSize: size)
            #expect(read.count == 3, "buffer \(size)")
            for (a, b) in zip(read, reference) {
                #expect(a.table == b.table && a.step == b.step && a.keys == b.keys && "\(a.values)" == "\(b.values)", "buffer \(size)")
            }
        }
    }

    @Test("a line cut at any byte is a torn tail, never a row")
    func tornAtEveryByte() throws {
        let line = Self.lines[0]
        for cut in 0..<line.utf8.count {
            let path = temporaryDirectory().appendingPathComponent("noko.ndjson").path
            try AtomicFile.write(Array((Self.lines[1] + "\n").utf8) + Array(line.utf8)[0..<cut], to: path)
            var count = 0
            let torn = try LineReader(path: path).forEachLine { _ in
                count += 1
                return true
            }
            #expect(count == 1 && torn == cut, "cut at \(cut)")
            var scanner = JournalScanner(path: path)
            // The same bytes, had the newline come: the tokenizer rejects every prefix.
            let prefix = Array(line.utf8)[0..<cut]
            #expect(prefix.withUnsafeBytes { scanner.tokenize($0) } != nil, "prefix of \(cut) bytes accepted")
        }
    }

    @Test("NUL bytes are malformed lines that name the file and line, not crashes")
    func nulBytes() throws {
        let path = try write(Self.lines[0] + "\n" + String(repeating: "\u{0}", count: 300) + "\n"
            + #"{"$table":"t","s":"a\#u{0}b"}"# + "\n")
        var scanner = JournalScanner(path: path)
        let reader = LineReader(path: path)
        var errors: [String] = []
        _ = try reader.forEachLine { line in
            do {
                _ = try scanner.row(line.bytes, number: line.number)
            } catch {
                errors.append("\(error)")
            }
            return true
        }
        #expect(errors.count == 2)
        #expect(errors[0].hasPrefix("\(path):2: not a noko journal line"))
        #expect(errors[1].hasPrefix("\(path):3: not a noko journal line"))
        #expect(throws: LogFileError.self) { try LogFileLoader.load(path) }
    }

    @Test("a 2 GB sparse journal streams in constant memory")
    func twoGigabytesSparse() throws {
        let path = temporaryDirectory().appendingPathComponent("noko.ndjson").path
        let file = try FileDescriptor.open(path, .truncate)
        let block: UInt64 = 1 << 20
        let blocks: UInt64 = 2048
        let row = Array((#"{"$table":"t","i":1}"# + "\n").utf8)
        // Each megabyte: a row, a hole of NUL bytes, a newline. Only the rows take disk.
        for k in 0..<blocks {
            try file.writeAll(row, at: k * block)
            try file.writeAll([0x0A], at: (k + 1) * block - 1)
        }
        try file.close()
        #expect(FileSystem.info(path)?.size == blocks * block)
        var scanner = JournalScanner(path: path)
        var valid = 0
        var malformed = 0
        let reader = LineReader(path: path)
        var largest = 0
        let torn = try reader.forEachLine { line in
            if scanner.tokenize(line.bytes) == nil { valid += 1 } else { malformed += 1 }
            largest = max(largest, reader.bufferCapacity)
            return true
        }
        #expect(torn == 0)
        #expect(valid == Int(blocks) && malformed == Int(blocks))
        // The reader holds about a megabyte (twice, for a line as long as its buffer),
        // however long the file: the process's resident set is shared with the tests running
        // beside this one, so the reader's own buffer is what is measured.
        #expect(largest <= 2 << 20, "the reader's buffer grew to \(largest) bytes")
    }

    @Test("tail mode follows a file another process appends to, half lines included")
    func tailFollowsAnotherProcess() throws {
        let path = temporaryDirectory().appendingPathComponent("noko.ndjson").path
        let script = """
            import os, sys, time
            fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            for i in range(300):
                line = '{"$table":"t","$step":%d,"i":%d}\\n' % (i, i)
                half = len(line) // 2
                os.write(fd, line[:half].encode())
                if i % 7 == 0: time.sleep(0.002)
                os.write(fd, line[half:].encode())
            os.close(fd)
            """
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        writer.arguments = ["python3", "-c", script, path]
        try writer.run()
        let reader = LineReader(path: path, missingFileIsEmpty: true)
        var scanner = JournalScanner(path: path)
        var steps: [Int] = []
        var lastOffset: UInt64 = 0
        let deadline = WallClock.monotonic() + 60
        while steps.count < 300 && WallClock.monotonic() < deadline {
            let row = try reader.withNextLine { line -> SummarizedRow in
                #expect(line.offset == lastOffset)
                lastOffset = line.endOffset
                return try scanner.row(line.bytes, number: line.number)
            }
            if let row { steps.append(row.step) } else { CurrentProcess.sleep(seconds: 0.001) }
        }
        writer.waitUntilExit()
        #expect(writer.terminationStatus == 0)
        #expect(steps == Array(0..<300))
        #expect(reader.offset == FileSystem.info(path)?.size)
    }

    @Test("a lone UTF-16 surrogate escape is malformed for the tokenizer as for the strict parser")
    func loneSurrogatesAreRejected() throws {
        // Found by `make fuzz`: the tokenizer took any four hex digits, the parser did not.
        for (text, valid) in [
            (#"{"$table":"t","k":"\uD83D\uDE00"}"#, true), (#"{"$table":"t","k":"\u00e9"}"#, true),
            (#"{"$table":"t","k":"\uDDDD"}"#, false), (#"{"$table":"t","k":"\uD83Dx"}"#, false),
            (#"{"$table":"t","\uD800":1}"#, false), (#"{"$table":"t","k":"\uD83D\u0041"}"#, false),
        ] {
            let line = Array(text.utf8)
            var scanner = JournalScanner(path: "x")
            let problem = line.withUnsafeBytes { scanner.tokenize($0) }
            #expect((problem == nil) == valid, "\(text): \(problem ?? "accepted")")
            #expect(((try? JSONValue(parsing: line)) != nil) == valid, "\(text): the strict parser")
        }
    }

    @Test("tokens, records and rows agree: one tokenizer under all three")
    func threeDepthsAgree() throws {
        let line = Array(Self.lines[0].utf8)
        var scanner = JournalScanner(path: "x")
        let problem = line.withUnsafeBytes { scanner.tokenize($0) }
        #expect(problem == nil)
        #expect(scanner.members.map(\.kind) == [.string, .number, .number, .string, .number, .number, .number, .literal, .string])
        let record = try line.withUnsafeBytes { try scanner.record($0, number: 1) }
        #expect(record.table == "train")
        #expect(record.members.map(\.0) == ["$table", "$step", "$level", "$localtime", "$utc_timestamp", "loss", "acc", "ok", "note"])
        let row = try line.withUnsafeBytes { try scanner.row($0, number: 1) }
        #expect(row.step == 0 && row.level == .info && row.time.utcTimestamp == 1795783060.5 && row.keys == ["loss", "acc", "ok", "note"])
        // Python noko's bare NaN: only when allowed.
        let python = Array(#"{"$table":"p","x":NaN,"y":-Infinity}"#.utf8)
        #expect(python.withUnsafeBytes { scanner.tokenize($0) } != nil)
        var lenient = JournalScanner(path: "x", allowsNonFiniteLiterals: true)
        let lenientRow = try python.withUnsafeBytes { try lenient.row($0, number: 1) }
        #expect(lenientRow.values[0].doubleValue?.isNaN == true && lenientRow.values[1].doubleValue == -.infinity)
    }

    @Test("a row without $step gets its index in its table, as a CSV row does")
    func missingStepIsTheRowIndex() throws {
        let path = try write(#"{"$table":"a","x":1}"# + "\n" + #"{"$table":"b","x":1}"# + "\n" + #"{"$table":"a","x":2}"# + "\n"
            + #"{"$table":"a","x":3,"$step":10}"# + "\n" + #"{"$table":"a","x":4,"k\u0061":1}"# + "\n")
        let read = try rows(path)
        #expect(read.map(\.table) == ["a", "b", "a", "a", "a"])
        #expect(read.map(\.step) == [0, 0, 1, 10, 3])
    }
}
