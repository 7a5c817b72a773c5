import CNokoPlatform

/// SHA-256 (FIPS 180-4), streaming: what `metadata.json` records of the executable.
///
/// Written here rather than taken from swift-crypto (a dependency that doubles the first
/// build for one function); the compression runs in C (`noko_sha256.c`), which stays fast
/// in unoptimized debug builds. `sha256sum` checks it in the tests.
package struct SHA256 {
    private var context = noko_sha256_context()

    package init() { noko_sha256_init(&context) }

    /// Hashes more bytes.
    package mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        noko_sha256_update(&context, base, bytes.count)
    }

    package mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest as 64 lowercase hex digits.
    package mutating func finalize() -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        noko_sha256_final(&context, &digest)
        let hex = Array("0123456789abcdef".utf8)
        return String(decoding: digest.flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 0xF)]] }, as: UTF8.self)
    }

    /// The digest of the file at `path`, read in 1 MiB pieces.
    package static func hashFile(_ path: String) throws(NokoSystemError) -> String {
        let file = try FileDescriptor.open(path, .read)
        defer { file.closeIgnoringErrors() }
        var hasher = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try file.read(into: buffer)
            if count == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        return hasher.finalize()
    }
}
