import Foundation
import NokoTestSupport
import Testing

@testable import NokoCore

@Suite struct CSVColumnInserterTests {
    /// Converts `text` (header + records) in chunks of `chunk` bytes.
    private func convert(_ text: String, mapping: [Int], oldCount: Int, chunk: Int) -> (String, Int) {
        var inserter = CSVColumnInserter(mapping: mapping, oldCount: oldCount)
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + chunk)
            bytes[start..<end].withUnsafeBytes { inserter.process($0) }
            out += inserter.takeComplete()
            start = end
        }
        return (String(decoding: out, as: UTF8.self), inserter.tornBytes)
    }

    @Test(arguments: [1, 2, 3, 7, 1000])
    func insertsEmptyCellsAtTheirPositions(chunk: Int) {
        // old header a,c,e; new header A?,a,b,c,d,e,f -> mapping -1,0,-1,1,-1,2,-1
        let text = "a,c,e\r\n1,\"x,\"\"y\"\"\n2\",3\r\n4,5,6\n"
        let (out, torn) = convert(text, mapping: [-1, 0, -1, 1, -1, 2, -1], oldCount: 3, chunk: chunk)
        #expect(out == ",1,,\"x,\"\"y\"\"\n2\",,3,\n,4,,5,,6,\n")
        #expect(torn == 0)
    }

    @Test func aTornLastRecordIsDropped() {
        let (out, torn) = convert("a,b\n1,2\n3,", mapping: [0, 1, -1], oldCount: 2, chunk: 4)
        #expect(out == "1,2,\n")
        #expect(torn == 2)
    }

    @Test func agreesWithTheRecordScannerOnRandomFiles() {
        var rng = SeededRandom()
        let alphabet = Array("ab,\"\n é")
        for _ in 0..<200 {
            let oldCount = Int.random(in: 1...5, using: &rng)
            var text = (0..<oldCount).map { "h\($0)" }.joined(separator: ",") + "\n"
            var records: [[String]] = []
            for _ in 0..<Int.random(in: 0...6, using: &rng) {
                let cells = (0..<oldCount).map { _ in String((0..<Int.random(in: 0...4, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }) }
                records.append(cells)
                var line: [UInt8] = []
                for (i, c) in cells.enumerated() {
                    if i > 0 { line.append(UInt8(ascii: ",")) }
                    CSVFormat.appendString(c, to: &line)
                }
                text += String(decoding: line, as: UTF8.self) + "\n"
            }
            // Insert new columns at random positions.
            var mapping: [Int] = []
            for old in 0..<oldCount {
                if Bool.random(using: &rng) { mapping.append(-1) }
                mapping.append(old)
            }
            if Bool.random(using: &rng) { mapping.append(-1) }
            let (out, _) = convert(text, mapping: mapping, oldCount: oldCount, chunk: Int.random(in: 1...9, using: &rng))
            var scanner = CSVRecordScanner()
            var got: [[Scalar]] = []
            Array(("H\n" + out).utf8).withUnsafeBytes { raw in
                scanner.feed(raw) { record in got.append(record.cells.indices.map(record.value)) }
            }
            got.removeFirst()
            #expect(got.count == records.count)
            for (r, record) in records.enumerated() where r < got.count {
                #expect(got[r].count == mapping.count)
                for (j, old) in mapping.enumerated() where j < got[r].count {
                    let expected: Scalar = old < 0 ? .null : (record[old].isEmpty ? .string("") : CSVRecordScannerDecode(record[old]))
                    #expect(got[r][j] == expected, "record \(r) column \(j) of \(text.debugDescription)")
                }
            }
        }
    }

    /// Wide records in large chunks take the sixteen-bytes-at-a-time path; one byte at a time
    /// never does: both give the same bytes, whatever the cells (quotes, embedded newlines,
    /// long plain runs) and wherever the new columns go.
    @Test func wideRecordsConvertAsByteByByte() {
        var rng = SeededRandom()
        for round in 0..<60 {
            let oldCount = Int.random(in: 1...80, using: &rng)
            var text = (0..<oldCount).map { "h\($0)" }.joined(separator: ",") + "\n"
            for _ in 0..<Int.random(in: 1...12, using: &rng) {
                var line: [UInt8] = []
                for c in 0..<oldCount {
                    if c > 0 { line.append(UInt8(ascii: ",")) }
                    switch Int.random(in: 0..<10, using: &rng) {
                    case 0: CSVFormat.appendString("q\"u,o\nte", to: &line)
                    case 1, 2: break  // empty
                    case 3: line += Array(String(repeating: "x", count: Int.random(in: 10...40, using: &rng)).utf8)
                    default: line += Array("\(Double(Int.random(in: 0...999, using: &rng)) / 8)".utf8)
                    }
                }
                if round % 7 == 0 { line.removeLast(min(line.count, 3)) }  // a short record
                text += String(decoding: line, as: UTF8.self) + (round % 5 == 0 ? "\r\n" : "\n")
            }
            var mapping: [Int] = []
            let density = Int.random(in: 1...20, using: &rng)
            for old in 0..<oldCount {
                if Int.random(in: 0..<density, using: &rng) == 0 { mapping += repeatElement(-1, count: Int.random(in: 1...3, using: &rng)) }
                mapping.append(old)
            }
            if Bool.random(using: &rng) { mapping.append(-1) }
            let reference = convert(text, mapping: mapping, oldCount: oldCount, chunk: 1)
            for chunk in [16, 17, 100, 4096] {
                let converted = convert(text, mapping: mapping, oldCount: oldCount, chunk: chunk)
                #expect(converted.0 == reference.0, "round \(round), chunk \(chunk)")
                #expect(converted.1 == reference.1)
            }
        }
    }
}

/// What a cell written by CSVFormat reads back as.
private func CSVRecordScannerDecode(_ s: String) -> Scalar {
    var bytes: [UInt8] = []
    CSVFormat.appendString(s, to: &bytes)
    return bytes.withUnsafeBytes { CSVRecordScanner.decodeCell($0) }
}
