import Foundation
import NokoCore
import Testing

@testable import NokoCLI

/// Python noko itself (`pip install noko==0.3.1`, driven by `python/python_noko.py`), both
/// ways: runs it wrote read by noko's loaders and `noko-run`, and noko's journal and CSV files
/// read by its `load_log_file`. `Fixtures.pythonRun` stays for what the real one cannot give
/// (fixed times for the golden outputs, a run without its journal).
@Suite(.enabled(if: PythonNoko.isAvailable, "python3 with noko 0.3.1 and numpy is not installed (pip install noko==0.3.1 numpy)"))
struct PythonNokoInteropTests {
    // MARK: - Python noko writes, noko reads

    /// A run Python noko wrote, and what its script logged (table → rows of flat keys).
    struct PythonRun {
        var directory: URL
        var logged: [String: [[String: Scalar]]]

        /// Every key logged into `table`, in no particular order.
        func keys(_ table: String) -> Set<String> { Set(logged[table, default: []].flatMap(\.keys)) }

        /// The column `key` of `table` as logged: `.null` in rows without it.
        func column(_ table: String, _ key: String) -> [Scalar] { logged[table, default: []].map { $0[key] ?? .null } }
    }

    /// Has Python noko log a run into `runs/<name>`; `killAfter` rows of `train` in, it
    /// SIGKILLs itself.
    func pythonNokoRun(_ fixtures: Fixtures, _ name: String, killAfter: Int? = nil) throws -> PythonRun {
        let expected = fixtures.url("\(name).expected.json")
        let result = try PythonNoko.run(
            ["write", fixtures.url("runs").path, name, expected.path] + (killAfter.map { [String($0)] } ?? []))
        if killAfter != nil {
            #expect(result.status == SIGKILL, "the script kills itself mid-run: \(result.output)")
        } else {
            #expect(result.status == 0, "\(result.output)")
        }
        let json = try JSONValue(parsing: [UInt8](Data(contentsOf: expected)))
        var logged: [String: [[String: Scalar]]] = [:]
        for (table, rows) in json["tables"]?.objectValue ?? [:] {
            logged[table] = (rows.arrayValue ?? []).map { row in (row.objectValue ?? [:]).mapValues(PythonNoko.scalar) }
        }
        return PythonRun(directory: fixtures.url("runs/\(name)"), logged: logged)
    }

    /// Expects `table` (a loaded journal table or CSV file) to hold what Python logged.
    func expectLogged(_ loaded: LogTable, _ run: PythonRun, _ table: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let rows = run.logged[table, default: []].count
        #expect(loaded.rowCount == rows, "\(what): \(loaded.rowCount) rows, Python logged \(rows)", sourceLocation: sourceLocation)
        #expect(loaded["$step"] == (0..<rows).map { .int(Int64($0)) }, "\(what): $step", sourceLocation: sourceLocation)
        for key in run.keys(table).sorted() {
            let values = loaded[key] ?? []
            let wanted = run.column(table, key)
            #expect(PythonNoko.same(values, wanted), "\(what): column \(key) reads \(values), Python logged \(wanted)", sourceLocation: sourceLocation)
        }
    }

    @Test func runsWrittenByPythonNokoLoadWithTheValuesItLogged() throws {
        let fixtures = Fixtures()
        for (name, killAfter) in [("full", nil), ("killed", 5)] as [(String, Int?)] {
            let run = try pythonNokoRun(fixtures, name, killAfter: killAfter)
            #expect(run.logged["train"]?.count == killAfter ?? 12)
            #expect(run.keys("train").isSuperset(of: ["loss", "opt/lr", "opt/betas/b1", "weights.mean", "counts.max", "phase", "done"]))
            #expect(run.keys("train").contains("grad_norm") == (killAfter == nil), "a key that appears mid-run")
            let journal = run.directory.appendingPathComponent("noko.ndjson").path
            for table in ["train", "eval"] {
                // Python noko writes bare NaN and Infinity: not strict JSON, accepted when asked.
                #expect(throws: (any Error).self, "a strict read refuses bare NaN") {
                    try Noko.loadTable("train", fromJournal: journal)
                }
                expectLogged(try Noko.loadTable(table, fromJournal: journal, allowsNonFiniteLiterals: true), run, table, "\(name) journal \(table)")
                expectLogged(
                    try Noko.loadLogFile(run.directory.appendingPathComponent("\(table).csv").path), run, table, "\(name) \(table).csv")
                // The whole journal: `table.key` columns, the rows of `table` where its $step is set.
                #expect(throws: (any Error).self, "a strict read refuses bare NaN") { try Noko.loadLogFile(journal) }
                let all = try Noko.loadLogFile(journal, allowsNonFiniteLiterals: true)
                let lines = (0..<all.rowCount).filter { !(all["\(table).$step"]?[$0].isNull ?? true) }
                var perTable = LogTable()
                for line in lines {
                    perTable.append(all.columnNames.filter { $0.hasPrefix(table + ".") }.map { (String($0.dropFirst(table.count + 1)), all[$0]![line]) })
                }
                expectLogged(perTable, run, table, "\(name) loadLogFile(noko.ndjson) \(table)")
            }
        }
    }

    @Test func noKoRunShowsListsAndExportsPythonNokoRuns() throws {
        let fixtures = Fixtures()
        let runs = [try pythonNokoRun(fixtures, "full"), try pythonNokoRun(fixtures, "killed", killAfter: 5)]
        for run in runs {
            let name = run.directory.lastPathComponent
            // show --json: every numeric column's count, NaN count, last, min and max.
            let show = try JSONValue(parsing: try fixtures.run(["show", "runs/\(name)", "--json"]))
            #expect(show["source"] == "python-noko")
            #expect(show["status"] == "unknown")
            for table in ["train", "eval"] {
                let shown = try #require(show["tables"]?.arrayValue?.first { $0["name"]?.stringValue == table }, "\(name): \(table)")
                #expect(shown["rows"] == .int(Int64(run.logged[table]!.count)), "\(name) \(table)")
                for key in run.keys(table) {
                    // Python logs None as null: a cell that is there, counted, and null.
                    let present = run.logged[table]!.compactMap { $0[key] }
                    let values = present.filter { !$0.isNull }
                    let column = try #require(shown["columns"]?.arrayValue?.first { $0["name"]?.stringValue == key }, "\(name) \(table): \(key)")
                    #expect(column["count"] == .int(Int64(present.count)), "\(name) \(table) \(key)")
                    #expect(column["null_count"] == .int(Int64(present.count - values.count)), "\(name) \(table) \(key)")
                    guard values.allSatisfy(\.isNumber) else {
                        #expect(column["last"]?.scalar == values.last, "\(name) \(table) \(key): last")
                        continue
                    }
                    let numbers = values.compactMap(\.doubleValue)
                    let ordered = numbers.filter { !$0.isNaN }
                    #expect(column["nan_count"] == .int(Int64(numbers.count - ordered.count)), "\(name) \(table) \(key)")
                    #expect(PythonNoko.same(PythonNoko.number(column["last"]), numbers.last), "\(name) \(table) \(key): last \(String(describing: column["last"]))")
                    #expect(PythonNoko.number(column["min"]) == ordered.min(), "\(name) \(table) \(key): min \(String(describing: column["min"]))")
                    #expect(PythonNoko.number(column["max"]) == ordered.max(), "\(name) \(table) \(key): max \(String(describing: column["max"]))")
                }
            }
            // export, from the journal, as ndjson and as csv: read back, the values Python logged.
            for (format, file) in [("ndjson", "train.export.ndjson"), ("csv", "train.export.csv")] {
                try fixtures.run(["export", "runs/\(name)", "--table", "train", "--format", format, "-o", file])
                let path = fixtures.url(file).path
                let loaded = format == "csv" ? try Noko.loadLogFile(path) : try Noko.loadTable("train", fromJournal: path)
                expectLogged(loaded, run, "train", "\(name) export --format \(format)")
            }
        }
        // list --json: both runs, with the last value each logged.
        let list = try JSONValue(parsing: try fixtures.run(["list", "runs", "--json", "--metric", "train/loss", "--metric", "eval/accuracy"]))
        let listed = list["runs"]?.arrayValue ?? []
        #expect(Set(listed.compactMap { $0["name"]?.stringValue }) == ["full", "killed"])
        for run in runs {
            let entry = try #require(listed.first { $0["name"]?.stringValue == run.directory.lastPathComponent })
            #expect(entry["status"] == "unknown")
            let metrics = entry["metrics"]
            #expect(PythonNoko.same(PythonNoko.number(metrics?["train/loss"]), run.column("train", "loss").last?.doubleValue), "\(String(describing: metrics))")
            #expect(PythonNoko.same(PythonNoko.number(metrics?["eval/accuracy"]), run.column("eval", "accuracy").last?.doubleValue), "\(String(describing: metrics))")
        }
    }

    // MARK: - noko writes, Python noko reads

    /// A run logged through noko's journal and CSV outputs, with what Python noko's loader
    /// has trouble with: NaN and infinities, quotes and commas, nil, booleans, nested values,
    /// an array, a key that appears mid-run.
    func nokoRun(_ fixtures: Fixtures) throws -> URL {
        let directory = fixtures.url("runs/swift")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let logger = NokoLogger(
            directory: directory,
            outputs: [try NDJSONOutput(url: directory.appendingPathComponent("noko.ndjson")), CSVOutput(directory: directory)],
            flushInterval: nil, messages: Fixtures.quietMessages, summarizers: SummarizerRegistry(),
            clock: .stepping(from: Fixtures.start, by: 0.125))
        for i in 0..<20 {
            var row: [String: Any] = [
                "loss": i == 4 ? Double.nan : 1 / Double(i + 1), "epoch": i / 5, "phase": i < 10 ? "warm, \"up\"" : "main",
                "done": i % 3 == 0, "opt": ["lr": 0.1 / Double(i + 1), "betas": ["b1": 0.9]], "weights": [Double(i), -1.5, 2.0],
                "note": (i == 7 ? nil : "row \(i)") as String? as Any,
            ]
            if i >= 8 { row["grad_norm"] = i == 11 ? Double.infinity : i == 12 ? -Double.infinity : Double(20 - i) }
            logger.logRow("train", row)
            if i % 4 == 3 { logger.logRow("eval", ["accuracy": 0.5 + Double(i) / 100, "tag": "e\(i)"], level: .results) }
        }
        logger.close()
        return directory
    }

    @Test func pythonNokoLoadsOurJournalAndEveryCSVFile() throws {
        let fixtures = Fixtures()
        let directory = try nokoRun(fixtures)
        let journal = directory.appendingPathComponent("noko.ndjson").path
        let tables = ["train", "eval"]
        let truth = try Dictionary(uniqueKeysWithValues: tables.map { ($0, try Noko.loadTable($0, fromJournal: journal)) })
        #expect(truth["train"]?.rowCount == 20 && truth["eval"]?.rowCount == 5)
        #expect(truth["train"]?["loss"]?[4].doubleValue?.isNaN == true)

        // The journal: `table.key` columns, each the rows of its table. Our journal is strict
        // JSON, so Python's `json` reads NaN and ±infinity as the strings "NaN", "Infinity",
        // "-Infinity" (Python noko itself writes the bare tokens).
        let fromJournal = try PythonNoko.load(journal, fixtures)
        for (table, rows) in truth {
            for key in rows.columnNames {
                let wanted = rows[key]!.map(PythonNoko.asStrictJSONReadsIt)
                let got = fromJournal["\(table).\(key)"] ?? []
                #expect(PythonNoko.same(got, wanted), "load_log_file(noko.ndjson) \(table).\(key): \(got), journal has \(wanted)")
            }
        }
        #expect(Set(fromJournal.keys) == Set(truth.flatMap { table, rows in rows.columnNames.map { "\(table).\($0)" } }))

        // Every CSV file: Python noko's loader makes every number a float, leaves True/False
        // as text and reads nan, inf and -inf as floats.
        let csvFiles = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".csv") }.sorted()
        #expect(csvFiles == ["eval.csv", "train.csv"])
        for file in csvFiles {
            let table = String(file.dropLast(4))
            let rows = try #require(truth[table])
            let fromCSV = try PythonNoko.load(directory.appendingPathComponent(file).path, fixtures)
            #expect(Set(fromCSV.keys) == Set(rows.columnNames).union(["$table"]), "\(file)")
            for key in rows.columnNames {
                let wanted = rows[key]!.map(PythonNoko.asItsCSVLoaderReadsIt)
                #expect(PythonNoko.same(fromCSV[key] ?? [], wanted), "load_log_file(\(file)) \(key): \(fromCSV[key] ?? []), journal has \(wanted)")
            }
            #expect(fromCSV["$table"] == Array(repeating: .string(table), count: rows.rowCount))
        }
    }
}

/// python3 with the real Python noko 0.3.1 and numpy, and `python/python_noko.py`.
enum PythonNoko {
    static let interpreter: String? = {
        var candidates = ["/usr/bin/python3", "/usr/local/bin/python3"]
        if let path = ProcessInfo.processInfo.environment["PATH"] {
            candidates += path.split(separator: ":").map { "\($0)/python3" }
        }
        let probe = "import importlib.metadata, numpy, noko; assert importlib.metadata.version('noko') == '0.3.1'"
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) && (try? runCapturing($0, ["-c", probe]).status) == 0 }
    }()

    /// Whether the tests run: `make test` (and so CI) sets `NOKO_REQUIRE_INTEROP=1`, which
    /// turns a missing Python noko from a skip into a failure.
    static var isAvailable: Bool {
        interpreter != nil || ProcessInfo.processInfo.environment["NOKO_REQUIRE_INTEROP"] == "1"
    }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/python_noko.py").path

    /// Runs the script with `arguments`.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let python = try #require(interpreter, "python3 with noko 0.3.1 and numpy is required (pip install noko==0.3.1 numpy)")
        return try runCapturing(python, [script] + arguments)
    }

    /// What `noko.load_log_file(path)` returns: key → column.
    static func load(_ path: String, _ fixtures: Fixtures) throws -> [String: [Scalar]] {
        let out = fixtures.url("loaded-\(UUID().uuidString.prefix(8)).json")
        let result = try run(["load", path, out.path])
        try #require(result.status == 0, "load_log_file(\(path)) failed: \(result.output)")
        let json = try JSONValue(parsing: [UInt8](Data(contentsOf: out)))
        return (json.objectValue ?? [:]).mapValues { ($0.arrayValue ?? []).map(scalar) }
    }

    /// A value of the script's JSON: a non-finite float is `{"$float": "NaN"}`, so it stays
    /// apart from the string "NaN".
    static func scalar(_ json: JSONValue) -> Scalar {
        if let spelled = json["$float"]?.stringValue {
            return .double(spelled == "NaN" ? .nan : spelled == "Infinity" ? .infinity : -.infinity)
        }
        // A string is a string here (`JSONValue.scalar` reads "NaN" as the journal's NaN).
        if let text = json.stringValue { return .string(text) }
        return json.scalar ?? .string("\(json)")
    }

    /// A journal value as Python's `json` reads our strict journal back.
    static func asStrictJSONReadsIt(_ value: Scalar) -> Scalar {
        guard case .double(let v) = value, !v.isFinite else { return value }
        return .string(v.isNaN ? "NaN" : v > 0 ? "Infinity" : "-Infinity")
    }

    /// A journal value as Python noko's CSV loader reads our CSV cell back.
    static func asItsCSVLoaderReadsIt(_ value: Scalar) -> Scalar {
        switch value {
        case .int(let v): return .double(Double(v))
        case .bool(let v): return .string(v ? "True" : "False")
        default: return value
        }
    }

    /// A number of `noko-run`'s JSON output, where NaN and ±infinity are strings.
    static func number(_ json: JSONValue?) -> Double? {
        switch json?.stringValue {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: return json?.scalar?.doubleValue
        }
    }

    static func same(_ a: Double?, _ b: Double?) -> Bool {
        a == b || (a?.isNaN == true && b?.isNaN == true)
    }

    /// Equal, NaN equal to NaN; an int and a double are different values.
    static func same(_ a: Scalar?, _ b: Scalar?) -> Bool {
        if case .double(let x)? = a, case .double(let y)? = b { return x == y || (x.isNaN && y.isNaN) }
        return a == b
    }

    static func same(_ a: [Scalar], _ b: [Scalar]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { same($0, $1) }
    }
}
