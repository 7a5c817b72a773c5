import Testing

@testable import NokoCore

@Suite struct CSVRecordScannerTests {
    /// Quoted commas, doubled quotes, a newline inside quotes, CRLF, empty cells, a long
    /// unquoted run and a torn last line.
    let text = "a,b,c\r\n1,\"x,\"\"y\"\"\n2\",-3.5e-7\r\n,,\nabcdefghijklmnopqrstuvwxyz0123456789,\"\",tail\n4,5"

    func records(feedingChunksOf size: Int) -> (cells: [[Scalar]], lines: [Int], torn: Int) {
        var scanner = CSVRecordScanner()
        var cells: [[Scalar]] = []
        var lines: [Int] = []
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let chunk = Array(bytes[offset..<min(offset + size, bytes.count)])
            chunk.withUnsafeBytes { raw in
                scanner.feed(raw) { record in
                    cells.append(record.cells.indices.map(record.value))
                    lines.append(record.firstLine)
                }
            }
            offset += size
        }
        let torn = scanner.finish { _ in }
        return (cells, lines, torn)
    }

    @Test func recordsAreTheSameWhateverTheChunkSize() {
        let expected: [[Scalar]] = [
            [.string("a"), .string("b"), .string("c")],
            [.int(1), .string("x,\"y\"\n2"), .double(-3.5e-7)],
            [.null, .null, .null],
            [.string("abcdefghijklmnopqrstuvwxyz0123456789"), .string(""), .string("tail")],
        ]
        for size in [1, 2, 3, 5, 7, 64, 4096] {
            let result = records(feedingChunksOf: size)
            #expect(result.cells == expected, "chunks of \(size)")
            #expect(result.lines == [1, 2, 4, 5], "chunks of \(size): a quoted newline counts as a line")
            #expect(result.torn == 3, "chunks of \(size): \"4,5\" has no newline yet")
        }
    }
}
