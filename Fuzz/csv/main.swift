// fuzz-csv: libFuzzer over the CSV record scanner, the one loop every CSV reader (loaders,
// the header-growth rewrite) uses (`make fuzz`; built only with NOKO_FUZZ set).
//
// Each input is a CSV file's bytes. The properties checked:
// - nothing traps, whatever the bytes;
// - the records do not depend on how the bytes arrive: fed whole, or in two chunks split
//   anywhere (the scanner is fed 1 MiB reads), the cells and the torn tail are the same;
// - a cell's value written back by the CSV writer reads back as the same value.
import FuzzDriver
@testable import NokoCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let whole = scan([input])
    let split = size == 0 ? 0 : Int(input[0]) % (size + 1)
    let chunked = scan([UnsafeRawBufferPointer(rebasing: input[..<split]), UnsafeRawBufferPointer(rebasing: input[split...])])
    guard whole.records == chunked.records, whole.torn == chunked.torn else {
        fatalError("the records depend on where the input was split (at \(split)): \(Array(input))")
    }
    var scanner = CSVRecordScanner()
    scanner.feed(input) { record in
        for i in record.cells.indices {
            let value = record.value(i)
            var written: [UInt8] = []
            CSVFormat.append(value, to: &written)
            written.append(0x0A)
            var again = CSVRecordScanner()
            var reread: [Scalar] = []
            written.withUnsafeBytes { bytes in again.feed(bytes) { reread.append(contentsOf: ($0.cells.indices).map($0.value)) } }
            guard reread.count == 1, same(reread[0], value) else {
                fatalError("cell \(i) reads as \(value), written back as \(written), reads back as \(reread): \(Array(input))")
            }
        }
    }
    return 0
}

/// Every record's cells as bytes, and the length of the torn tail.
private func scan(_ chunks: [UnsafeRawBufferPointer]) -> (records: [[[UInt8]]], torn: Int) {
    var scanner = CSVRecordScanner()
    var records: [[[UInt8]]] = []
    let collect = { (record: CSVRecordScanner.Record) in records.append(record.cells.indices.map { Array(record.raw($0)) }) }
    for chunk in chunks { scanner.feed(chunk, collect) }
    let torn = scanner.finish(collect)
    return (records, torn)
}

private func same(_ a: Scalar, _ b: Scalar) -> Bool {
    if case .double(let x) = a, case .double(let y) = b { return x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN) }
    return a == b
}

@_cdecl("fuzz_csv_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runLibFuzzer(argc, argv) { data, size in fuzzCSV(data, size) }
}
