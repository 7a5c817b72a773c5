import Foundation
import NokoPlatform
import Logging
import Synchronization

/// noko's global API: a thin facade over a default ``NokoLogger``.
///
/// ```swift
/// import Noko
///
/// for step in 0..<1000 {
///     let loss = train()
///     Noko.logRow("grad_step", ["loss": loss, "weights": weights], level: .trace)
/// }
/// ```
///
/// The first `logRow` without ``initialize(runsDir:runName:options:)`` initializes noko with
/// its defaults, as Python noko's `log_row` does.
public enum Noko {
    /// noko's version, recorded in every run.
    public static let version = "0.1.0"
    /// The version of the run directory layout (`metadata.json`'s `format_version`).
    public static let formatVersion = 1

    private static let current = Mutex<NokoLogger?>(nil)
    private static let exitHook = Mutex(false)
    /// Serializes initialization, so threads racing to the first `logRow` share one run.
    private static let initializing = Mutex(())

    /// The default logger; like `logRow`, the first use initializes noko with defaults
    /// (a run directory under `runs/`). ``initializedLogger`` never initializes.
    public static var logger: NokoLogger {
        if let logger = current.withLock({ $0 }) { return logger }
        return initializing.withLock { _ in
            if let logger = current.withLock({ $0 }) { return logger }
            do {
                try initializeUnlocked(runsDir: "runs", runName: nil, options: OutputOptions())
                return current.withLock { $0! }
            } catch {
                // logRow cannot throw: say why once and keep the program running.
                let fallback = NokoLogger(outputs: [], flushInterval: nil)
                fallback.messages.error("noko could not initialize its run directory: \(error); rows are not written")
                current.withLock { $0 = fallback }
                return fallback
            }
        }
    }

    /// The default logger if noko is initialized; nil otherwise (it never initializes).
    public static var initializedLogger: NokoLogger? { current.withLock { $0 } }

    /// The former name of ``initializedLogger``.
    @available(*, deprecated, renamed: "initializedLogger")
    public static var currentLogger: NokoLogger? { initializedLogger }

    /// Python's `noko.init()`: a run directory with the default outputs.
    ///
    /// Calling it again keeps the first run (with a warning) and returns its directory.
    /// - Parameters:
    ///   - runsDir: where run directories go.
    ///   - runName: the run directory's name; by default `<program>_<local time>`, made
    ///     unique. An explicit name that exists is an error.
    ///   - options: each output's level, the flush interval and noko's stderr level.
    /// - Returns: the run directory.
    @discardableResult
    public static func initialize(runsDir: String = "runs", runName: String? = nil, options: OutputOptions = OutputOptions())
        throws -> URL
    {
        try initializing.withLock { _ in try initializeUnlocked(runsDir: runsDir, runName: runName, options: options) }
    }

    @discardableResult
    private static func initializeUnlocked(runsDir: String, runName: String?, options: OutputOptions) throws -> URL {
        if let existing = initializedLogger, let directory = existing.directory {
            existing.messages.warning("noko is already initialized with run directory \(directory.path); keeping it")
            return directory
        }
        let runs = URL(fileURLWithPath: runsDir, isDirectory: true)
        let created = try RunDirectory.create(
            in: runs, name: runName ?? RunDirectory.defaultName(), collision: runName == nil ? .uniquify : .fail)
        var metadata = RunMetadata(runName: created.name)
        metadata.runDir = created.url.standardizedFileURL.path
        metadata.startTime = RowClock.system.now()
        metadata.program = ProcessInfo.processInfo.processName
        metadata.pid = Int(ProcessInfo.processInfo.processIdentifier)
        metadata.nokoVersion = version
        try metadata.write(to: created.url)
        let logger = try makeRunLogger(directory: created.url, options: options)
        install(logger)
        return created.url
    }

    /// A logger with the default outputs and a `debug.log`, writing into `directory`.
    package static func makeRunLogger(
        directory: URL, options: OutputOptions, extraOutputs: (Logging.Logger) throws -> [any LogOutput] = { _ in [] }
    ) throws -> NokoLogger {
        let debugLog = try DebugLogFile(url: RunLayout(directory).debugLog)
        let messages = NokoMessages.logger(stderrLevel: options.stderrLevel.swiftLogLevel, debugLog: debugLog)
        let outputs = try DefaultOutputs.make(directory: directory, options: options, messages: messages) + extraOutputs(messages)
        return NokoLogger(
            directory: directory, outputs: outputs, flushInterval: options.flushInterval, messages: messages, debugLog: debugLog,
            summarizers: .shared)
    }

    /// Makes `logger` the default; the previous default is closed. Normal process exit
    /// closes the default logger (flushing and syncing every file).
    package static func install(_ logger: NokoLogger) {
        let previous = current.withLock { existing in
            defer { existing = logger }
            return existing
        }
        if let previous, previous !== logger { previous.close() }
        exitHook.withLock { registered in
            guard !registered else { return }
            registered = true
            atexit { Noko.initializedLogger?.close() }
        }
    }

    /// Logs one row into `table` through the default logger. See ``NokoLogger/logRow(_:_:step:level:)``.
    public static func logRow(_ table: String, _ row: Any, step: Int? = nil, level: LogLevel = .info) {
        logger.logRow(table, row, step: step, level: level)
    }

    /// Logs one row into a table named after the call site (`Module/File.swift:42`).
    public static func logRow(_ row: Any, step: Int? = nil, level: LogLevel = .info, fileID: String = #fileID, line: Int = #line) {
        logger.logRow(NokoLogger.callSiteTable(fileID: fileID, line: line), row, step: step, level: level)
    }

    /// Writes every buffered row of the default logger through to the OS.
    public static func flush() { initializedLogger?.flush() }

    /// Flushes, syncs and closes the default logger.
    public static func close() { initializedLogger?.close() }

    /// Registers a summarizer for a type you don't own; it receives the value, its key
    /// prefix and the summary to add keys to. Declaring one again for the same type
    /// replaces it, with a warning.
    public static func declareSummarizer<T>(for type: T.Type, _ body: @escaping @Sendable (T, String, inout ValueColumns) -> Void) {
        if SummarizerRegistry.shared.declare(for: type, body) {
            (initializedLogger?.messages ?? NokoMessages.logger()).warning(
                "a summarizer for \(String(reflecting: type)) was already declared; the new one replaces it")
        }
    }

    /// Reads a `.ndjson` journal, a `.csv` table or a `.parquet` table back: columns aligned
    /// by row (a journal's are `table.key`, aligned by line, as Python noko loads them); a
    /// missing cell is `.null`. Files are streamed; a torn last line is skipped with a
    /// warning, any other malformed line is an error naming the file and line.
    ///
    /// - Parameters:
    ///   - path: the file; its extension says how to read it.
    ///   - keys: the columns to keep (all when nil); for a journal, as `table.key`.
    ///   - allowsNonFiniteLiterals: accept the bare `NaN`/`Infinity` of Python noko's journals.
    public static func loadLogFile(_ path: String, keys: [String]? = nil, allowsNonFiniteLiterals: Bool = false) throws -> LogTable {
        try LogFileLoader.load(path, keys: keys, allowsNonFiniteLiterals: allowsNonFiniteLiterals)
    }

    /// Reads the rows of one table from a journal, with plain keys (and the `$` columns).
    ///
    /// - Parameters:
    ///   - table: the table's name, as logged.
    ///   - path: the journal (`noko.ndjson`).
    ///   - allowsNonFiniteLiterals: accept the bare `NaN`/`Infinity` of Python noko's
    ///     journals.
    public static func loadTable(_ table: String, fromJournal path: String, allowsNonFiniteLiterals: Bool = false) throws -> LogTable {
        try LogFileLoader.loadTable(table, fromJournal: path, allowsNonFiniteLiterals: allowsNonFiniteLiterals)
    }
}
