// fuzz-parquet: libFuzzer over the Parquet reader — footer location (a torn tail falls back
// to the last whole footer), Thrift compact decoding, pages, RLE/dictionary and Snappy
// (`make fuzz`; built only with NOKO_FUZZ set).
//
// Each input is a file's bytes. The properties checked:
// - nothing traps or reads out of bounds (ASan), whatever the bytes: the reader throws;
// - the Snappy decompressor never traps on the input taken as compressed data, and
//   compressing the input then decompressing it gives the input back.
import Foundation
import FuzzDriver
@testable import NokoCore

private let file = FileManager.default.temporaryDirectory
    .appendingPathComponent("noko-fuzz-parquet-\(ProcessInfo.processInfo.processIdentifier).parquet")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParquet(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    if (try? Data(input).write(to: file)) != nil {
        _ = try? ParquetReader.read(at: file)
        _ = try? ParquetReader.info(at: file)
    }
    _ = try? SnappyDecompressor.decompress(input)
    let compressed = SnappyCompressor.compress(input)
    let restored = compressed.withUnsafeBytes { try? SnappyDecompressor.decompress($0) }
    guard let restored, restored.elementsEqual(input) else {
        fatalError("Snappy does not give back what it compressed: \(Array(input))")
    }
    return 0
}

@_cdecl("fuzz_parquet_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runLibFuzzer(argc, argv) { data, size in fuzzParquet(data, size) }
}
