import NokoPlatform

extension FileDescriptor {
    /// Exactly `count` bytes at `offset`: a Parquet structure that runs past the end of the
    /// file means the file is truncated, which is a format error, not a system error.
    func readExactly(count: Int, at offset: Int64) throws -> [UInt8] {
        let bytes = try read(count: count, at: UInt64(offset))
        guard bytes.count == count else {
            throw ParquetError(file: path, "unexpected end of file reading \(count) bytes at offset \(offset)")
        }
        return bytes
    }
}
