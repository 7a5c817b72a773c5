import ArgumentParser
import Noko

/// The `noko-run` command: reads run directories back.
public struct NokoRun: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "noko-run",
        abstract: "Read noko run directories back."
    )
    public init() {}
}
