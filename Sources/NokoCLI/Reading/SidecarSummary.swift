import Foundation
import NokoCore
import NokoPlatform

/// What `summary.json` says about a run's tables (or the same rebuilt from its rows; see
/// ``LoadedRun/summary()``): per table the row count and step range, per column the last
/// value, min, max and a downsampled series.
public struct SidecarSummary: Sendable {
    /// The tables, sorted by name.
    public var tables: [SummaryTable]

    /// A summary of the given tables.
    public init(tables: [SummaryTable]) {
        self.tables = tables.sorted { $0.name < $1.name }
    }

    /// The table named `name`, or nil.
    public func table(_ name: String) -> SummaryTable? { tables.first { $0.name == name } }

    /// Reads the shape `SummaryOutput` writes; `path` names the file in errors.
    public init(json: JSONValue, path: String) throws {
        guard let version = json["format_version"]?.intValue else {
            throw CLIError("\(path): expected a noko summary (an object with \"format_version\" and \"tables\"); found no \"format_version\"")
        }
        guard version <= Int64(SummaryOutput.formatVersion) else {
            throw CLIError("\(path): written by a newer noko (summary format_version \(version); this noko-run reads up to \(SummaryOutput.formatVersion)); upgrade noko-run")
        }
        guard let tables = json["tables"]?.objectValue else {
            throw CLIError("\(path): expected \"tables\" to be an object")
        }
        self.init(tables: try tables.map { name, value in try SummaryTable(name: name, json: value, path: path) })
    }

    /// Reads a `summary.json` file.
    public static func read(from url: URL) throws -> SidecarSummary {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.read(url.path) ?? []
        } catch {
            throw CLIError("\(url.path): cannot read: \(error.reason)")
        }
        let json: JSONValue
        do {
            json = try JSONValue(parsing: bytes)
        } catch {
            throw CLIError("\(url.path): not valid JSON: \(error)")
        }
        return try SidecarSummary(json: json, path: url.path)
    }
}

/// One table of a ``SidecarSummary``.
public struct SummaryTable: Sendable {
    /// The table's name.
    public var name: String
    /// The stem of its files (`<stem>.csv`, `<stem>.parquet`).
    public var fileStem: String
    /// Rows logged.
    public var rows: Int
    /// Steps of the first and last row.
    public var firstStep: Int
    public var lastStep: Int
    /// Unix times of the first and last row.
    public var firstTime: Double
    public var lastTime: Double
    /// Rows per series bucket.
    public var seriesWidth: Int
    /// The step of each bucket's last row.
    public var seriesSteps: [Int]
    /// The columns, sorted by name.
    public var columns: [SummaryColumn]

    /// A table from its parts.
    public init(
        name: String, fileStem: String, rows: Int, firstStep: Int, lastStep: Int, firstTime: Double, lastTime: Double,
        seriesWidth: Int, seriesSteps: [Int], columns: [SummaryColumn]
    ) {
        self.name = name
        self.fileStem = fileStem
        self.rows = rows
        self.firstStep = firstStep
        self.lastStep = lastStep
        self.firstTime = firstTime
        self.lastTime = lastTime
        self.seriesWidth = seriesWidth
        self.seriesSteps = seriesSteps
        self.columns = columns.sorted { $0.name < $1.name }
    }

    init(name: String, json: JSONValue, path: String) throws {
        func int(_ key: String) throws -> Int {
            guard let v = json[key]?.intValue else {
                throw CLIError("\(path): table \"\(name)\": expected an integer \"\(key)\"")
            }
            return Int(v)
        }
        let columns = json["columns"]?.objectValue ?? [:]
        self.init(
            name: name, fileStem: json["file"]?.stringValue ?? TableFileName.encode(name), rows: try int("rows"),
            firstStep: try int("first_step"), lastStep: try int("last_step"),
            firstTime: json["first_time"]?.doubleValue ?? .nan, lastTime: json["last_time"]?.doubleValue ?? .nan,
            seriesWidth: Int(json["series_width"]?.intValue ?? 1),
            seriesSteps: (json["series_step"]?.arrayValue ?? []).map { Int($0.intValue ?? 0) },
            columns: columns.map { SummaryColumn(name: $0, json: $1) })
    }

    /// The column named `name`, or nil.
    public func column(_ name: String) -> SummaryColumn? { columns.first { $0.name == name } }
}

/// One column of a ``SummaryTable``.
public struct SummaryColumn: Sendable {
    /// The key.
    public var name: String
    /// `double`, `int`, `bool`, `string`, `mixed` or `null`: the types of its values.
    public var type: String
    /// Rows that had the key (null included), nulls, and NaNs.
    public var count: Int
    public var nullCount: Int
    public var nanCount: Int
    /// The last value logged.
    public var last: Scalar
    /// Smallest and largest number (NaN left out); nil when there is none.
    public var min: Double?
    public var max: Double?
    /// Per bucket min, max and last (numeric columns only).
    public var series: SummarySeries?

    /// A column from its parts.
    public init(
        name: String, type: String, count: Int, nullCount: Int, nanCount: Int, last: Scalar, min: Double?, max: Double?,
        series: SummarySeries?
    ) {
        self.name = name
        self.type = type
        self.count = count
        self.nullCount = nullCount
        self.nanCount = nanCount
        self.last = last
        self.min = min
        self.max = max
        self.series = series
    }

    init(name: String, json: JSONValue) {
        func numbers(_ v: JSONValue?) -> [Double?] { (v?.arrayValue ?? []).map(\.doubleValue) }
        let series = json["series"].map {
            SummarySeries(min: numbers($0["min"]), max: numbers($0["max"]), last: numbers($0["last"]))
        }
        self.init(
            name: name, type: json["type"]?.stringValue ?? "null", count: Int(json["count"]?.intValue ?? 0),
            nullCount: Int(json["null_count"]?.intValue ?? 0), nanCount: Int(json["nan_count"]?.intValue ?? 0),
            last: json["last"]?.scalar ?? .null, min: json["min"]?.doubleValue, max: json["max"]?.doubleValue,
            series: series)
    }

    /// Whether the column holds numbers (ints, doubles or booleans).
    public var isNumeric: Bool { type == "double" || type == "int" || type == "bool" }
}

/// A column's downsampled history: per bucket of rows, the smallest, largest and last number.
public struct SummarySeries: Sendable {
    /// Per bucket; nil where the bucket had no number.
    public var min: [Double?]
    public var max: [Double?]
    public var last: [Double?]

    /// A series from its parts.
    public init(min: [Double?], max: [Double?], last: [Double?]) {
        self.min = min
        self.max = max
        self.last = last
    }
}
