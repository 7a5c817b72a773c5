/// A Parquet file could not be written, read or repaired; says which file and why.
package struct ParquetError: Error, Sendable, CustomStringConvertible {
    /// The file concerned, when there is one.
    package let file: String?
    /// What went wrong.
    package let message: String

    /// An error about `file` (nil where the file is not known; callers up the stack add it).
    package init(file: String?, _ message: String) {
        self.file = file
        self.message = message
    }

    package var description: String {
        if let file { return "\(file): \(message)" }
        return message
    }

    /// The same error, naming `file` if it named none.
    func naming(_ file: String) -> ParquetError {
        self.file == nil ? ParquetError(file: file, message) : self
    }
}
