/// How important a row is. Every output has a threshold and receives the rows at or above it.
///
/// The built-in levels match Python noko and the `logging` module:
///
/// | level      | value |
/// |------------|-------|
/// | `trace`    | 5     |
/// | `debug`    | 10    |
/// | `info`     | 20    |
/// | `warning`  | 30    |
/// | `results`  | 35    |
/// | `error`    | 40    |
/// | `critical` | 50    |
///
/// Name your own with ``init(_:name:)``; levels compare by value only.
public struct LogLevel: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The numeric value; larger is more important.
    public let value: Int
    /// The name shown in human-readable outputs.
    public let name: String

    /// A level with a custom value and name, for example `LogLevel(25, name: "EVAL")`.
    public init(_ value: Int, name: String) {
        self.value = value
        self.name = name
    }

    /// Every step of an inner loop; the journal and CSV files keep these by default.
    public static let trace = LogLevel(5, name: "TRACE")
    /// Diagnostics.
    public static let debug = LogLevel(10, name: "DEBUG")
    /// The default level of `logRow`.
    public static let info = LogLevel(20, name: "INFO")
    /// Something looks wrong.
    public static let warning = LogLevel(30, name: "WARNING")
    /// Results worth reading: the pretty-printer shows these by default.
    public static let results = LogLevel(35, name: "RESULTS")
    /// Errors.
    public static let error = LogLevel(40, name: "ERROR")
    /// Failures that end the run.
    public static let critical = LogLevel(50, name: "CRITICAL")

    /// The built-in levels, in increasing order.
    public static let builtIn: [LogLevel] = [.trace, .debug, .info, .warning, .results, .error, .critical]

    /// The built-in level with this value, or a level named after the number.
    public init(value: Int) {
        self = LogLevel.builtIn.first { $0.value == value } ?? LogLevel(value, name: "LEVEL\(value)")
    }

    /// Parses a built-in name (case-insensitive) or a number.
    public init?(parsing text: String) {
        if let number = Int(text) {
            self.init(value: number)
            return
        }
        guard let level = LogLevel.builtIn.first(where: { $0.name.uppercased() == text.uppercased() }) else {
            return nil
        }
        self = level
    }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.value < rhs.value }
    public static func == (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.value == rhs.value }
    public func hash(into hasher: inout Hasher) { hasher.combine(value) }
    public var description: String { name }
}
