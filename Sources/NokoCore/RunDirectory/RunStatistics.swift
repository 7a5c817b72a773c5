import Foundation
import NokoPlatform

/// `summary.json`: the statistics of a run's tables — per table the row count and step and
/// time range, per column the type, counts, last value, min, max and a downsampled series —
/// so that `noko-run show`, `list` and `report` answer in O(columns) instead of reading
/// every row.
///
/// One type for the file: ``StatisticsOutput`` writes it, the CLI reads it, and a rebuild from
/// the rows (a Python noko run, a run killed before its first flush) produces the same value.
package struct RunStatistics: Sendable, Equatable {
    /// The version of the file's shape.
    package static let formatVersion = 1

    /// The tables, sorted by name.
    package var tables: [TableStatistics]
    /// The journal's size when the file was written (`journal_bytes`): at the run's end, the
    /// whole journal. A finished run whose journal has another size was changed after (rows
    /// appended or cut by hand, a final write that failed), so its summary is stale.
    package var journalBytes: Int64?

    /// Statistics of the given tables.
    package init(tables: [TableStatistics]) {
        self.tables = tables.sorted { $0.name < $1.name }
    }

    /// The table named `name`, or nil.
    package func table(_ name: String) -> TableStatistics? { tables.first { $0.name == name } }

    // MARK: - The file

    /// Reads `summary.json` from the run directory `directory`; nil when it has none.
    package static func read(from directory: URL) throws(LogFileError) -> RunStatistics? {
        let url = RunLayout(directory).summary
        guard let json = try RunFileFormat.readJSON(url) else { return nil }
        return try RunStatistics(json: json, path: url.path)
    }

    /// Reads the file's JSON; `path` names the file in errors.
    package init(json: JSONValue, path: String) throws(LogFileError) {
        try RunFileFormat.checkVersion(json, newest: Self.formatVersion, path: path)
        guard let tables = json["tables"]?.objectValue else {
            throw LogFileError(path: path, message: "expected \"tables\" to be an object")
        }
        var read: [TableStatistics] = []
        for (name, value) in tables { read.append(try TableStatistics(name: name, json: value, path: path)) }
        self.init(tables: read)
        journalBytes = json["journal_bytes"]?.intValue
    }

    /// The file's bytes: canonical JSON (sorted keys), one table per line.
    package func encoded() -> [UInt8] {
        var w = JSONWriter(capacity: 4096)
        w.appendRaw(Array("{\"format_version\":".utf8))
        w.writeInt(Int64(Self.formatVersion))
        if let journalBytes {
            w.appendRaw(Array(",\"journal_bytes\":".utf8))
            w.writeInt(journalBytes)
        }
        w.appendRaw(Array(",\"tables\":{".utf8))
        for (i, table) in tables.enumerated() {
            if i > 0 { w.append(UInt8(ascii: ",")) }
            w.append(0x0A)
            w.writeString(table.name)
            w.append(UInt8(ascii: ":"))
            table.encode(into: &w)
        }
        w.appendRaw(Array("\n}}\n".utf8))
        return w.bytes
    }
}

/// One table of ``RunStatistics``.
package struct TableStatistics: Sendable, Equatable {
    /// The table's name.
    package var name: String
    /// The stem of its files (`<stem>.csv`, `<stem>.parquet`).
    package var fileStem: String
    /// Rows logged.
    package var rows: Int
    /// Steps of the first and last row.
    package var firstStep: Int
    package var lastStep: Int
    /// Unix times of the first and last row (NaN when the rows have none).
    package var firstTime: Double
    package var lastTime: Double
    /// Rows per series bucket.
    package var seriesWidth: Int
    /// The step of each bucket's last row.
    package var seriesSteps: [Int]
    /// The columns, sorted by name.
    package var columns: [ColumnStatistics]

    /// A table from its parts.
    package init(
        name: String, fileStem: String, rows: Int, firstStep: Int, lastStep: Int, firstTime: Double, lastTime: Double,
        seriesWidth: Int, seriesSteps: [Int], columns: [ColumnStatistics]
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

    /// The column named `name`, or nil.
    package func column(_ name: String) -> ColumnStatistics? { columns.first { $0.name == name } }

    init(name: String, json: JSONValue, path: String) throws(LogFileError) {
        func int(_ key: String) throws(LogFileError) -> Int {
            guard let v = json[key]?.intValue else {
                throw LogFileError(path: path, message: "table \"\(name)\": expected an integer \"\(key)\"")
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
            columns: columns.map { ColumnStatistics(name: $0, json: $1) })
    }

    func encode(into w: inout JSONWriter) {
        w.appendRaw(Array("{\"file\":".utf8))
        w.writeString(fileStem)
        w.appendRaw(Array(",\"rows\":".utf8))
        w.writeInt(Int64(rows))
        w.appendRaw(Array(",\"first_step\":".utf8))
        w.writeInt(Int64(firstStep))
        w.appendRaw(Array(",\"last_step\":".utf8))
        w.writeInt(Int64(lastStep))
        w.appendRaw(Array(",\"first_time\":".utf8))
        w.writeDouble(firstTime)
        w.appendRaw(Array(",\"last_time\":".utf8))
        w.writeDouble(lastTime)
        w.appendRaw(Array(",\"series_width\":".utf8))
        w.writeInt(Int64(seriesWidth))
        w.appendRaw(Array(",\"series_step\":[".utf8))
        for (i, step) in seriesSteps.enumerated() {
            if i > 0 { w.append(UInt8(ascii: ",")) }
            w.writeInt(Int64(step))
        }
        w.appendRaw(Array("],\"columns\":{".utf8))
        for (i, column) in columns.enumerated() {
            if i > 0 { w.append(UInt8(ascii: ",")) }
            w.appendRaw(Array("\n ".utf8))
            column.encode(into: &w)
        }
        w.appendRaw(Array("}}".utf8))
    }
}

/// One column of a ``TableStatistics``.
package struct ColumnStatistics: Sendable, Equatable {
    /// The key.
    package var name: String
    /// `double`, `int`, `bool`, `string`, `mixed` or `null`: the types of its values.
    package var type: String
    /// Rows that had the key (null included), nulls, and NaNs.
    package var count: Int
    package var nullCount: Int
    package var nanCount: Int
    /// The last value logged.
    package var last: Scalar
    /// Smallest and largest number (NaN left out); nil when there is none.
    package var min: Double?
    package var max: Double?
    /// Per bucket min, max and last (numeric columns only).
    package var series: BucketSeries?

    /// A column from its parts.
    package init(
        name: String, type: String, count: Int, nullCount: Int, nanCount: Int, last: Scalar, min: Double?, max: Double?,
        series: BucketSeries?
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
            BucketSeries(min: numbers($0["min"]), max: numbers($0["max"]), last: numbers($0["last"]))
        }
        self.init(
            name: name, type: json["type"]?.stringValue ?? "null", count: Int(json["count"]?.intValue ?? 0),
            nullCount: Int(json["null_count"]?.intValue ?? 0), nanCount: Int(json["nan_count"]?.intValue ?? 0),
            last: json["last"]?.scalar ?? .null, min: json["min"]?.doubleValue, max: json["max"]?.doubleValue,
            series: series)
    }

    /// Whether the column holds numbers (ints, doubles or booleans).
    package var isNumeric: Bool { type == "double" || type == "int" || type == "bool" }

    func encode(into w: inout JSONWriter) {
        w.writeString(name)
        w.appendRaw(Array(":{\"type\":".utf8))
        w.writeString(type)
        w.appendRaw(Array(",\"count\":".utf8))
        w.writeInt(Int64(count))
        w.appendRaw(Array(",\"null_count\":".utf8))
        w.writeInt(Int64(nullCount))
        w.appendRaw(Array(",\"nan_count\":".utf8))
        w.writeInt(Int64(nanCount))
        w.appendRaw(Array(",\"last\":".utf8))
        w.write(last)
        if let series {
            w.appendRaw(Array(",\"min\":".utf8))
            if let min { w.writeDouble(min) } else { w.write(Scalar.null) }
            w.appendRaw(Array(",\"max\":".utf8))
            if let max { w.writeDouble(max) } else { w.write(Scalar.null) }
            w.appendRaw(Array(",\"series\":{\"min\":".utf8))
            Self.write(series.min, &w)
            w.appendRaw(Array(",\"max\":".utf8))
            Self.write(series.max, &w)
            w.appendRaw(Array(",\"last\":".utf8))
            Self.write(series.last, &w)
            w.append(UInt8(ascii: "}"))
        }
        w.append(UInt8(ascii: "}"))
    }

    private static func write(_ values: [Double?], _ w: inout JSONWriter) {
        w.append(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            if i > 0 { w.append(UInt8(ascii: ",")) }
            if let v { w.writeDouble(v) } else { w.write(Scalar.null) }
        }
        w.append(UInt8(ascii: "]"))
    }
}

/// A column's downsampled history: per bucket of rows, the smallest, largest and last number.
package struct BucketSeries: Sendable, Equatable {
    /// Per bucket; nil where the bucket had no number.
    package var min: [Double?]
    package var max: [Double?]
    package var last: [Double?]

    /// A series from its parts.
    package init(min: [Double?], max: [Double?], last: [Double?]) {
        self.min = min
        self.max = max
        self.last = last
    }
}
