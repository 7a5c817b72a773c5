import Foundation
import Noko
import NokoCore

/// Whether two runs came out the same: their journals row by row (``JournalComparison``),
/// their `config.json` (apart from keys the original recorded as `<redacted>`) and their
/// `seeds.json`. `noko-run reproduce` judges its rerun with it, `noko-run compare --rows`
/// any two runs.
package struct RunComparison: Sendable {
    /// A config key whose value differs.
    package struct ConfigDifference: Sendable, Equatable {
        package var key: String
        package var original: JSONValue?
        package var rerun: JSONValue?
    }

    package var original: String
    package var rerun: String
    package var options: JournalComparison.Options
    package var journal: JournalComparison.Result
    /// Config keys that differ.
    package var config: [ConfigDifference]
    /// Config keys left out because the original recorded them as `<redacted>`.
    package var redactedKeys: [String]
    /// Whether `seeds.json` is the same; nil when neither run has one.
    package var seedsIdentical: Bool?

    /// Whether the runs came out the same.
    package var identical: Bool { journal.identical && config.isEmpty && seedsIdentical != false }

    /// Compares the run `rerun` with the run `original`.
    package static func compare(original: LoadedRun, rerun: LoadedRun, options: JournalComparison.Options) throws -> RunComparison {
        let journal = try JournalComparison.compare(
            original: .init(path: original.layout.journal.path, allowsNonFiniteLiterals: original.source == .pythonNoko),
            rerun: .init(path: rerun.layout.journal.path, allowsNonFiniteLiterals: rerun.source == .pythonNoko),
            options: options)
        let before = flattened(original.config)
        let after = flattened(rerun.config)
        var config: [ConfigDifference] = []
        var redacted: [String] = []
        for key in Set(before.keys).union(after.keys).sorted() {
            if before[key] == .string(SecretRedactor.placeholder) {
                redacted.append(key)
                continue
            }
            if before[key] != after[key] { config.append(ConfigDifference(key: key, original: before[key], rerun: after[key])) }
        }
        let seeds: Bool? = original.seeds == nil && rerun.seeds == nil ? nil : original.seeds == rerun.seeds
        return RunComparison(
            original: original.name, rerun: rerun.name, options: options, journal: journal, config: config, redactedKeys: redacted,
            seedsIdentical: seeds)
    }

    private static func flattened(_ config: JSONValue?) -> [String: JSONValue] {
        Dictionary((config.map(ConfigFlattening.flatten) ?? []).map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    // MARK: - Saying it

    /// The one-line verdict: `reproduced: 3 tables, 661 rows, 8,593 values identical`.
    package var headline: String {
        let tables = journal.tables.count
        let rows = journal.comparedRows
        let counts = "\(DisplayFormat.count(tables)) table\(tables == 1 ? "" : "s"), \(DisplayFormat.count(rows)) row\(rows == 1 ? "" : "s"), \(DisplayFormat.count(journal.values)) values"
        if identical {
            let how = options.isExact ? "identical" : "equal within rtol \(DisplayFormat.number(options.relativeTolerance)), atol \(DisplayFormat.number(options.absoluteTolerance))"
            return "reproduced: \(counts) \(how)"
        }
        var parts: [String] = []
        let differing = journal.tables.filter { !$0.identical }.count
        if differing > 0 { parts.append("\(differing) of \(tables) table\(tables == 1 ? "" : "s") differ\(differing == 1 ? "s" : "")") }
        if !config.isEmpty { parts.append("config.json differs") }
        if seedsIdentical == false { parts.append("seeds.json differs") }
        return "not reproduced: " + parts.joined(separator: "; ")
    }

    /// What the template `rows.txt` shows.
    package func textContext(_ terminal: Terminal) -> [String: Any] {
        var model = TemplateContext.styles(terminal)
        model["identical"] = identical
        model["headline"] = headline
        model["original"] = original
        model["rerun"] = rerun
        model["tables"] = journal.tables.map { table -> [String: Any] in
            var lines: [String] = []
            if let first = table.first {
                lines.append("first difference at \(Self.describe(first))")
                var extent = "\(DisplayFormat.count(table.differing)) of \(DisplayFormat.count(table.values)) values differ"
                if let largest = table.largestAbsolute {
                    extent += "; largest difference \(DisplayFormat.number(largest))"
                    if let relative = table.largestRelative { extent += " (relative \(DisplayFormat.number(relative)))" }
                }
                lines.append(extent)
            }
            if let rows = Self.rowCountNote(table, maximumLag: options.maximumLag) { lines.append(rows) }
            return [
                "name": table.name, "identical": table.identical,
                "same": options.isExact ? "identical" : "equal within the tolerance", "values_same": table.differing == 0,
                "rows": "\(DisplayFormat.count(table.comparedRows)) row\(table.comparedRows == 1 ? "" : "s")",
                "values": DisplayFormat.count(table.values), "lines": lines,
            ]
        }
        model["skipped_tables"] = journal.skippedTables.joined(separator: ", ")
        model["has_skipped_tables"] = !journal.skippedTables.isEmpty
        model["config_lines"] = config.map { difference in
            "\(difference.key): \(Self.text(difference.original)) (original) vs \(Self.text(difference.rerun)) (rerun)"
        }
        model["has_config_differences"] = !config.isEmpty
        model["redacted_keys"] = redactedKeys.joined(separator: ", ")
        model["has_redacted_keys"] = !redactedKeys.isEmpty
        model["seeds_differ"] = seedsIdentical == false
        return model
    }

    /// `row 12 (step 11), column loss: 0.52341 (original) vs 0.52339 (rerun), difference 2e-05 (relative 3.8e-05)`.
    static func describe(_ d: JournalComparison.Difference) -> String {
        var text = "row \(DisplayFormat.count(d.row))"
        if let step = d.step { text += " (step \(step))" }
        text += ", column \(d.column): \(d.original ?? "(absent)") (original) vs \(d.rerun ?? "(absent)") (rerun)"
        if let absolute = d.absolute {
            text += ", difference \(DisplayFormat.number(absolute))"
            if let relative = d.relative { text += " (relative \(DisplayFormat.number(relative)))" }
        }
        return text
    }

    /// What differs in the number of rows, nil when nothing does.
    static func rowCountNote(_ table: JournalComparison.Table, maximumLag: Int) -> String? {
        if table.lagExceeded {
            return "compared up to row \(DisplayFormat.count(table.comparedRows)) only: past it one journal ran more than \(DisplayFormat.count(maximumLag)) rows ahead of the other in this table (original \(DisplayFormat.count(table.originalRows)) rows, rerun \(DisplayFormat.count(table.rerunRows)))"
        }
        if table.rerunRows < table.originalRows {
            return table.rerunRows == 0
                ? "the rerun logged none of the original's \(DisplayFormat.count(table.originalRows)) rows"
                : "the rerun stopped early: compared its \(DisplayFormat.count(table.rerunRows)) rows with the original's first \(DisplayFormat.count(table.rerunRows)) of \(DisplayFormat.count(table.originalRows))"
        }
        if table.rerunRows > table.originalRows {
            return table.originalRows == 0
                ? "only the rerun has this table (\(DisplayFormat.count(table.rerunRows)) rows)"
                : "the rerun logged \(DisplayFormat.count(table.rerunRows - table.originalRows)) rows more than the original's \(DisplayFormat.count(table.originalRows)); the common \(DisplayFormat.count(table.originalRows)) were compared"
        }
        return nil
    }

    /// A config value as the verdict shows it.
    private static func text(_ value: JSONValue?) -> String {
        value.map(DisplayFormat.json) ?? "(absent)"
    }

    /// The verdict as `--json` prints it (and `metadata.json`'s `reproduction` records it).
    package var json: JSONValue {
        func number(_ value: Double?) -> JSONValue { value.map { $0.isFinite ? .double($0) : .string(String($0)) } ?? .null }
        return [
            "reproduced": .bool(identical),
            "headline": .string(headline),
            "original": .string(original),
            "rerun": .string(rerun),
            "tolerance": ["rtol": .double(options.relativeTolerance), "atol": .double(options.absoluteTolerance)],
            "ignored": .array((options.ignored?.patterns ?? []).map(JSONValue.string)),
            "rows": .int(Int64(journal.comparedRows)),
            "values": .int(Int64(journal.values)),
            "differing": .int(Int64(journal.differing)),
            "tables": .array(journal.tables.map { table in
                [
                    "name": .string(table.name), "identical": .bool(table.identical),
                    "original_rows": .int(Int64(table.originalRows)), "rerun_rows": .int(Int64(table.rerunRows)),
                    "compared_rows": .int(Int64(table.comparedRows)), "values": .int(Int64(table.values)),
                    "differing": .int(Int64(table.differing)), "compared_up_to_lag": .bool(table.lagExceeded),
                    "largest_absolute": number(table.largestAbsolute), "largest_relative": number(table.largestRelative),
                    "first_difference": table.first.map { d in
                        [
                            "row": .int(Int64(d.row)), "step": d.step.map { .int(Int64($0)) } ?? .null, "column": .string(d.column),
                            "original": d.original.map(JSONValue.string) ?? .null, "rerun": d.rerun.map(JSONValue.string) ?? .null,
                            "absolute": number(d.absolute), "relative": number(d.relative),
                        ] as JSONValue
                    } ?? .null,
                ]
            }),
            "skipped_tables": .array(journal.skippedTables.map(JSONValue.string)),
            "config": [
                "identical": .bool(config.isEmpty),
                "differences": .array(config.map { ["key": .string($0.key), "original": $0.original ?? .null, "rerun": $0.rerun ?? .null] }),
                "redacted_keys": .array(redactedKeys.map(JSONValue.string)),
            ],
            "seeds_identical": seedsIdentical.map(JSONValue.bool) ?? .null,
        ]
    }
}
