import ArgumentParser
import Foundation
import NokoCore
import NokoPlatform

/// `noko-run logs RUN`: what the program wrote to stdout and stderr (`output.log`).
package struct LogsCommand: NokoCommand {
    package static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print a run's console output (output.log): what the program wrote to stdout and stderr.",
        discussion: """
            Noko.initExtra keeps everything the program writes to descriptors 1 and 2 (print, \
            C libraries, child processes) in output.log, with the stream and time of each line \
            in output.index; lines redrawn with \\r (progress bars) are kept in their last state. \
            The part rotated away at the size limit (output.1.log) is printed first. On a \
            terminal, colour passes and every other escape sequence is shown as text (\\e[2J), \
            as less -R does; into a pipe or a file the lines are written as they are.

            --since takes a time (2026-11-27T10:27:38, local unless it ends in Z; \
            2026-11-27 10:27), Unix seconds, or an age (30s, 10m, 2h, 1d ago).

            EXAMPLES
              noko-run logs RUN                     everything
              noko-run logs RUN -n 20 --stderr      the last 20 lines of stderr
              noko-run logs RUN -f                  follow a live run until it ends
              noko-run logs RUN --timestamps        <UTC time> text; stderr lines start with ERROR
            """
    )

    @Argument(help: ArgumentHelp("The run directory: a path, or a name under ./runs.", valueName: "run"))
    package var runPath: String

    @Flag(name: [.customShort("f"), .long], help: "Keep printing lines as the run writes them, until it ends.")
    package var follow = false

    @Flag(name: .customLong("stderr"), help: "Only what the program wrote to stderr.")
    package var onlyStandardError = false

    @Option(name: [.customShort("n"), .customLong("lines")], help: ArgumentHelp("Only the last N lines.", valueName: "n"))
    package var count: Int?

    @Option(name: .long, help: ArgumentHelp("Only lines written at or after TIME.", valueName: "time"))
    package var since: String?

    @Flag(name: .long, help: "Start each line with its UTC time, and stderr lines with ERROR (as wandb's Logs tab).")
    package var timestamps = false

    package init() {}

    package func validate() throws {
        if let count, count < 0 { throw ValidationError("-n must be 0 or more, got \(count)") }
        if let since, TimeArgument.parse(since, now: 0, timeZone: .current) == nil {
            throw ValidationError("--since \(since): expected a time (2026-11-27T10:27:38, 2026-11-27 10:27, …Z for UTC), Unix seconds, or an age (30s, 10m, 2h, 1d)")
        }
    }

    package func run(in context: CommandContext) throws {
        let run = try RunLocator.open(runPath, in: context)
        let layout = run.layout
        if !ConsoleLogReader.exists(in: layout) && !follow {
            throw CLIError(
                "\(layout.outputLog.path): missing: the run's console was not captured (NOKO_CONSOLE=off, RunOptions.console.capture = false, or a run from before noko kept output.log)")
        }
        let start = since.flatMap { TimeArgument.parse($0, now: context.now, timeZone: context.timeZone) }
        let include: (ConsoleLine) -> Bool = { line in
            guard !onlyStandardError || line.stream == .stderr else { return false }
            guard let start else { return true }
            return (line.time ?? 0) >= start
        }
        var printer = LinePrinter(context: context, timestamps: timestamps)
        let reader = ConsoleLogReader(layout, follow: follow, messages: CLIMessages.logger(context))
        if let count {
            for line in try reader.lastLines(count, where: include) { printer.print(line) }
        } else {
            while let line = try reader.next() {
                if include(line) { printer.print(line) }
            }
        }
        if follow {
            var ended = false
            while true {
                if let line = try reader.next() {
                    if include(line) { printer.print(line) }
                    continue
                }
                // One more pass after the run has ended: the tee writes out its last lines
                // before `finish` records the status.
                if ended { break }
                ended = Self.hasEnded(run.url)
                if !ended { CurrentProcess.sleep(seconds: 0.2) }
            }
        }
        printer.finish()
    }

    /// Whether the run's process is gone: a status other than `running`, or (on this
    /// machine) no process with the recorded id.
    static func hasEnded(_ url: URL) -> Bool {
        guard let run = try? LoadedRun.open(url), let metadata = run.metadata else { return true }
        if run.status(now: WallClock.now()) != .running { return true }
        if let pid = metadata.pid, metadata.host == CurrentProcess.hostName, !CurrentProcess.isAlive(Int32(pid)) { return true }
        return false
    }
}

/// Writes console lines: through the colour-passing filter on a terminal, as they are into
/// a pipe.
private struct LinePrinter {
    let context: CommandContext
    let timestamps: Bool
    var filter: TerminalText.ColourPassingFilter?

    init(context: CommandContext, timestamps: Bool) {
        self.context = context
        self.timestamps = timestamps
        filter = context.terminal.isInteractive ? TerminalText.ColourPassingFilter(passingBareCarriageReturns: false) : nil
    }

    mutating func print(_ line: ConsoleLine) {
        var bytes = timestamps ? line.wandbText : line.text
        bytes.append(0x0A)
        context.write(bytes: filter?.filter(bytes) ?? bytes)
    }

    mutating func finish() {
        if let rest = filter?.finish(), !rest.isEmpty { context.write(bytes: rest) }
    }
}

/// A time given on the command line: an ISO 8601 date and time (local, or UTC with `Z`),
/// Unix seconds, or an age before now (`30s`, `10m`, `2h`, `1d`).
package enum TimeArgument {
    /// Unix seconds, or nil when `text` is none of the forms.
    package static func parse(_ text: String, now: Double, timeZone: TimeZone) -> Double? {
        let text = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(text), seconds.isFinite { return seconds }
        if let match = text.wholeMatch(of: /(\d+(?:\.\d+)?)([smhd])/), let amount = Double(match.1) {
            let unit: Double = ["s": 1, "m": 60, "h": 3600, "d": 86_400][String(match.2)]!
            return now - amount * unit
        }
        guard
            let match = text.wholeMatch(
                of: /(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?(Z)?/)
        else { return nil }
        var components = DateComponents()
        components.year = Int(match.1)
        components.month = Int(match.2)
        components.day = Int(match.3)
        components.hour = match.4.flatMap { Int($0) } ?? 0
        components.minute = match.5.flatMap { Int($0) } ?? 0
        components.second = match.6.flatMap { Int($0) } ?? 0
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = match.8 != nil ? TimeZone(identifier: "UTC")! : timeZone
        guard let date = calendar.date(from: components), calendar.component(.month, from: date) == components.month else { return nil }
        let fraction = match.7.flatMap { Double("0." + $0) } ?? 0
        return date.timeIntervalSince1970 + fraction
    }
}
