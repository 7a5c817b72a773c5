// fuzz-compare: libFuzzer over `compare --rows` (JournalComparison), whose fast path matches a
// rerun's line against the original's without tokenizing it (`make fuzz`; built only with
// NOKO_FUZZ set).
//
// Each input is a journal (lines). The properties checked:
// - nothing traps, whatever the bytes;
// - a journal compared with itself is identical, unless it is malformed (an error);
// - a journal compared with itself with every clock value changed is identical too, when
//   both read.
import Foundation
import FuzzDriver
import NokoCLI
import NokoCore

private let directory = FileManager.default.temporaryDirectory.appendingPathComponent("noko-fuzz-compare-\(ProcessInfo.processInfo.processIdentifier)")
private let original = directory.appendingPathComponent("original.ndjson")
private let rerun = directory.appendingPathComponent("rerun.ndjson")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzComparison(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Data(bytes: data, count: size)
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    guard (try? bytes.write(to: original)) != nil else { return 0 }
    guard let itself = try? JournalComparison.compare(original: .init(path: original.path), rerun: .init(path: original.path)) else {
        return 0
    }
    guard itself.identical else { fatalError("a journal differs from itself: \(Array(bytes))") }
    // The same rows at another time: `$utc_timestamp` numbers get a leading digit,
    // `$localtime` strings a leading letter.
    let text = String(decoding: bytes, as: UTF8.self)
    guard text.utf8.elementsEqual(bytes) else { return 0 }  // not UTF-8: the replacement would change other bytes
    let later = text.replacingOccurrences(of: "\"$utc_timestamp\":", with: "\"$utc_timestamp\":1")
        .replacingOccurrences(of: "\"$localtime\":\"", with: "\"$localtime\":\"x")
    guard (try? Data(later.utf8).write(to: rerun)) != nil,
        let moved = try? JournalComparison.compare(original: .init(path: original.path), rerun: .init(path: rerun.path))
    else { return 0 }
    guard moved.identical else { fatalError("a journal differs from itself at another time: \(Array(bytes))") }
    return 0
}

@_cdecl("fuzz_compare_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runLibFuzzer(argc, argv) { data, size in fuzzComparison(data, size) }
}
