/// A runtime failure of a `noko-run` command: ArgumentParser prints `Error: ` and the
/// description, and the process exits with code 1.
///
/// Every message says what was expected and what was found, and names the file.
public struct CLIError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The message.
    public let description: String

    /// A failure described by `message`.
    public init(_ message: String) {
        description = message
    }
}
