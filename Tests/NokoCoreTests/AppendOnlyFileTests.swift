import Foundation
import NokoPlatform
import NokoTestSupport
import Synchronization
import Testing

@Suite("Append-only files")
struct AppendOnlyFileTests {
    @Test("a failed append whose cut fails too is cut before the next append, which never lands after half a record")
    func aTornTailIsCutBeforeTheNextAppend() throws {
        let directory = temporaryDirectory()
        let path = directory.appendingPathComponent("noko.ndjson").path
        let fd = try FileDescriptor.open(path, .append)
        defer { fd.closeIgnoringErrors() }
        var file = AppendOnlyFile(fd, size: 0)
        try file.append(Array("{\"a\":1}\n".utf8))
        // The next write fails with its cut failing too: what a disk gone read-only between the
        // two calls does (here nothing was written, so the cut has nothing to remove).
        let failing = Failing()
        let token = FaultInjection.install { call, target in
            guard target == path, failing.on.load(ordering: .relaxed), call == .write || call == .truncate else { return nil }
            return .fail(NokoSystemError.ioError)
        }
        defer { FaultInjection.remove(token) }
        #expect(throws: NokoSystemError.self) { try file.append(Array("{\"a\":2}\n".utf8)) }
        #expect(file.hasTornTail, "the failed cut is remembered")
        #expect(throws: NokoSystemError.self) { try file.append(Array("{\"a\":3}\n".utf8)) }
        failing.on.store(false, ordering: .relaxed)
        // Half a record after the last whole one, as a short write would leave it.
        try FileDescriptor(rawValue: fd.rawValue, path: "<raw>").writeAll(Array("{\"a\":".utf8))
        try file.append(Array("{\"a\":4}\n".utf8))
        #expect(!file.hasTornTail)
        #expect(String(decoding: try FileSystem.read(path) ?? [], as: UTF8.self) == "{\"a\":1}\n{\"a\":4}\n")
        #expect(file.size == 16)
    }

    @Test("a file opened with bytes after its last whole record cuts them before its first append")
    func aTailFoundAtOpenIsCut() throws {
        let directory = temporaryDirectory()
        let path = directory.appendingPathComponent("t.csv").path
        try AtomicFile.write(Array("x\n1\n2,".utf8), to: path)
        let fd = try FileDescriptor.open(path, .append)
        defer { fd.closeIgnoringErrors() }
        var file = AppendOnlyFile(fd, size: 4)
        #expect(file.hasTornTail)
        try file.append(Array("3\n".utf8))
        #expect(String(decoding: try FileSystem.read(path) ?? [], as: UTF8.self) == "x\n1\n3\n")
    }
}

/// Whether the injected fault is on (a class: the hook escapes, an `Atomic` alone cannot be captured).
private final class Failing: Sendable {
    let on = Atomic(true)
}
