import Foundation
import NokoPlatform

/// Where this test process's directories go: one directory, removed when the process exits
/// (the runs that tests and their child processes log add up to tens of megabytes per
/// `swift test`).
package let temporaryRoot: URL = {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("noko-tests-\(CurrentProcess.id)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    CurrentProcess.onExit { _ in try? FileManager.default.removeItem(at: url) }
    return url
}()

/// A fresh directory under ``temporaryRoot``, named after the calling test.
package func temporaryDirectory(_ label: String = #function) -> URL {
    let safe = label.filter { $0.isLetter || $0.isNumber }
    let url = temporaryRoot.appendingPathComponent("\(safe)-\(UUID().uuidString.prefix(8))")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
