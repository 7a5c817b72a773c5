import Foundation
import Noko
import NokoCore

/// What recognising secrets by their value costs: `initExtra` with a 1,000-key config with
/// and without the value rules (URL query parameters, token formats), the redaction of that
/// config alone, and `logRow` with and without the row rule, for rows without strings
/// (the rule must cost nothing there) and rows with strings.
func secretsBenchmark(_ arguments: [String]) throws {
    let config = SecretsWorkload.config(keys: 1_000)
    let tree = JSONValue.object(config.mapValues(SecretsWorkload.json))

    var keyNamesOnly = SecretRedactor.standard
    keyNamesOnly.urlParameters = false
    keyNamesOnly.tokenFormats = false
    var sink = 0
    let redaction = try interleaved(
        "redacting a 1,000-key config (×100 per repetition)", repetitions: 11,
        a: ("key names", { time { for _ in 0..<100 { sink &+= keyNamesOnly.redact(tree).1.count } } }),
        b: ("key names + values", { time { for _ in 0..<100 { sink &+= SecretRedactor.standard.redact(tree).1.count } } }))
    print(redaction.report(unit: "µs", scale: 1e6 / 100, per: "/config"))

    func start(valueRules: Bool) throws -> Double {
        var options = RunOptions()
        options.runsDir = scratchDirectory("secrets-init").path
        options.checkpoint = false
        options.handleSignals = false
        options.outputs.stderrLevel = .critical
        options.outputs.tensorBoardLevel = nil
        options.redactSecretValues = valueRules
        var run: Run?
        let seconds = try time { run = try Noko.initExtra(config: config, options: options) }
        run?.finish()
        try? FileManager.default.removeItem(atPath: options.runsDir)
        return seconds
    }
    let initExtra = try interleaved(
        "initExtra with a 1,000-key config (default outputs, no checkpoint)", repetitions: 15,
        a: ("key names", { try start(valueRules: false) }), b: ("key names + values", { try start(valueRules: true) }))
    print(initExtra.report(unit: "ms", scale: 1e3))
    print("  target: ratio within a few per cent (the value rules are one pass over each string)")

    let rows = 20_000
    let workload = SecretsWorkload(rows: rows)
    let redacting = try defaultLogger(in: scratchDirectory("secrets-rows-on"))
    let plain = try defaultLogger(in: scratchDirectory("secrets-rows-off"))
    plain.redactRowStrings(with: nil)
    func loop(_ logger: NokoLogger, strings: Bool) -> Double {
        time {
            for i in 0..<rows { logger.logRow(strings ? "strings" : "numbers", strings ? workload.stringRow(i) : workload.numberRow(i)) }
        }
    }
    let numbers = try interleaved(
        "logRow, 16 numbers (20,000 rows per repetition, default outputs)", repetitions: 21,
        a: ("row rule off", { loop(plain, strings: false) }), b: ("row rule on", { loop(redacting, strings: false) }))
    print(numbers.report(unit: "µs", scale: 1e6 / Double(rows), per: "/row"))
    print("  target: ratio ≈ 1 (rows without strings are not scanned)")
    let strings = try interleaved(
        "logRow, 12 numbers + 4 strings (a path, a URL, a name, a phase)", repetitions: 21,
        a: ("row rule off", { loop(plain, strings: true) }), b: ("row rule on", { loop(redacting, strings: true) }))
    print(strings.report(unit: "µs", scale: 1e6 / Double(rows), per: "/row"))
    redacting.close()
    plain.close()
    if sink == 42 { print("") }  // keeps the work from being optimized away
}

/// Configs and rows as experiments have them: mostly numbers, some names, paths and URLs.
struct SecretsWorkload {
    let doubles: [Double]

    init(rows: Int) {
        var random = SplitMix64(seed: 27)
        doubles = (0..<(rows * 12)).map { _ in random.unit() }
    }

    static let doubleKeys = (0..<12).map { "metric_\($0)" }

    func numberRow(_ i: Int) -> [String: Any] {
        var row: [String: Any] = ["epoch": i / 1000, "batch": i % 1000, "samples": i * 32, "tokens": i * 512]
        for k in 0..<12 { row[SecretsWorkload.doubleKeys[k]] = doubles[i * 12 + k] }
        return row
    }

    func stringRow(_ i: Int) -> [String: Any] {
        var row: [String: Any] = [
            "phase": i % 10 == 0 ? "eval" : "train", "checkpoint": "/data/checkpoints/run-7/step_\(i).safetensors",
            "model": "bert-base-uncased", "source": "https://data.example.com/shards/\(i % 64).tar?page=\(i % 7)",
        ]
        for k in 0..<12 { row[SecretsWorkload.doubleKeys[k]] = doubles[i * 12 + k] }
        return row
    }

    /// `keys` entries: 40 % doubles, 20 % integers, 25 % short names, 10 % paths, 5 % URLs.
    static func config(keys: Int) -> [String: Any] {
        var config: [String: Any] = ["seed": 1]
        for i in 0..<keys - 1 {
            let key = "section_\(i % 20)/param_\(i)"
            switch i % 20 {
            case 0..<8: config[key] = Double(i) * 0.001
            case 8..<12: config[key] = i
            case 12..<17: config[key] = ["adam", "relu", "bert-base-uncased", "cosine", "bf16"][i % 5]
            case 17, 18: config[key] = "/data/datasets/imagenet/train/shard-\(i).tar"
            default: config[key] = "https://data.example.com/v1/files/\(i)?page=\(i % 9)&format=json"
            }
        }
        return config
    }

    static func json(_ value: Any) -> JSONValue {
        switch value {
        case let v as Double: return .double(v)
        case let v as Int: return .int(Int64(v))
        case let v as String: return .string(v)
        default: return .null
        }
    }
}
