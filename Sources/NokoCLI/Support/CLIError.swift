import NokoCore

/// A runtime failure of a `noko-run` command: ArgumentParser prints `Error: ` and the
/// description, and the process exits with code 1.
///
/// Every message says what was expected and what was found, and names the file. Messages
/// are terminal text: the paths, names and values they quote are escaped
/// (``TerminalText``), so an error about a run cannot drive the terminal either.
package struct CLIError: Error, Sendable, CustomStringConvertible, Equatable, TerminalTextConvertible {
    /// The message, escaped for a terminal.
    package let message: TerminalText

    /// A failure described by `message` (interpolated values are escaped).
    package init(_ message: TerminalText) {
        self.message = message
    }

    /// The message as printed.
    public var description: String { message.rendered }

    package var terminalText: TerminalText { message }
}
