/// The tables of a journal in the order they first appear, each with the step it continues
/// from: what a resumed run needs to carry on where the journal stops.
package struct JournalTableSteps: Sendable {
    /// Each table once, in order of first appearance, with one past its last row's step.
    package private(set) var tables: [(table: String, nextStep: Int)] = []
    private var index: [String: Int] = [:]

    /// Nothing recorded yet.
    package init() {}

    /// Notes a row of `table` at `step`; the last row of a table decides where it continues.
    package mutating func record(_ table: String, step: Int) {
        // `&+`: a hand-edited journal's Int.max step must not trap the resuming program.
        if let i = index[table] {
            tables[i].nextStep = step &+ 1
        } else {
            index[table] = tables.count
            tables.append((table, step &+ 1))
        }
    }

    /// Scans a journal for its tables (a row without a `$step` counts as step 0, as
    /// everywhere rows are read back).
    package static func scan(_ path: String) throws -> [(table: String, nextStep: Int)] {
        var steps = JournalTableSteps()
        _ = try JournalScanner.forEachRow(in: path, fileStem: { $0 }) { row in
            steps.record(row.table, step: row.step)
        }
        return steps.tables
    }
}
