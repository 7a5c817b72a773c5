/// A runtime failure of a `noko-run` command: ArgumentParser prints `Error: ` and the
/// description, and the process exits with code 1.
///
/// Every message says what was expected and what was found, and names the file.
package struct CLIError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The message.
    package let description: String

    /// A failure described by `message`.
    package init(_ message: String) {
        description = message
    }
}
