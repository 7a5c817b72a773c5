// fuzz-journal: libFuzzer over the journal's one reader (`make fuzz`; built only with
// NOKO_FUZZ set, since it needs -sanitize=fuzzer).
//
// Each input is one journal line. The properties checked:
// - nothing traps: the tokenizer, the row and record decoders, the general parser;
// - the tokenizer never accepts what the strict JSON parser rejects, and what it accepts
//   is an object;
// - a line the row decoder accepts gives the same table and values as the record decoder
//   (keys that repeat aside: a row renames them).
import FuzzDriver
import NokoCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJournalLine(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let line = UnsafeRawBufferPointer(start: data, count: size)
    // The reader hands over lines without their newline.
    if line.contains(0x0A) { return 0 }
    var scanner = JournalScanner(path: "fuzz")
    let problem = scanner.tokenize(line)
    let strict = try? JSONValue(parsing: line)
    if problem == nil {
        guard case .object = strict else {
            fatalError("the tokenizer accepted a line the strict parser rejects or that is not an object: \(Array(line))")
        }
    }
    var rows = JournalScanner(path: "fuzz")
    var records = JournalScanner(path: "fuzz")
    let row = try? rows.row(line, number: 1)
    let record = try? records.record(line, number: 1)
    if let row {
        guard let record, record.table == row.table else {
            fatalError("the row decoder and the record decoder disagree on \(Array(line))")
        }
        let members = record.members.filter { !SummarizedRow.bookkeepingKeys.contains($0.0) }
        // A repeated key is renamed in a row (`k_1`), kept twice in a record: not comparable.
        let values = Dictionary(members.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        guard values.count == members.count else { return 0 }
        for (key, value) in zip(row.keys, row.values) where values[key].map({ !same($0, value) }) ?? true {
            fatalError("row and record disagree on '\(key)' in \(Array(line))")
        }
    }
    return 0
}

private func same(_ a: Scalar, _ b: Scalar) -> Bool {
    if case .double(let x) = a, case .double(let y) = b { return x.bitPattern == y.bitPattern || x == y }
    return a == b
}

@_cdecl("fuzz_journal_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runLibFuzzer(argc, argv) { data, size in fuzzJournalLine(data, size) }
}
