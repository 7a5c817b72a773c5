import Foundation
import Logging

/// What a resumed run does with the journal it continues, in one pass over it.
package enum JournalReplay {
    /// Summarizes every row of `journal` into the statistics output (which starts empty),
    /// writes into each ``JournalView`` among `outputs` the rows its files lack, and returns
    /// the journal's tables in order of first appearance with the step each continues from.
    ///
    /// A view below the journal's level (`OutputOptions.journalLevel`) holds rows the journal
    /// does not, so its files cannot be matched with the journal; it is left as it is.
    @discardableResult
    package static func resume(
        journal path: String, outputs: [any LogOutput], messages: Logging.Logger = NokoMessages.logger()
    ) throws -> [(table: String, nextStep: Int)] {
        let journalLevel = outputs.lazy.compactMap { $0 as? NDJSONOutput }.first?.level ?? .trace
        let statistics = outputs.lazy.compactMap { $0 as? StatisticsOutput }.first
        var views: [(output: any JournalView, isMissing: (SummarizedRow) throws -> Bool, rewritten: Int)] = []
        for case let view as any JournalView in outputs where view.level >= journalLevel {
            do {
                views.append((view, try view.rowsMissingFromFiles(), 0))
            } catch {
                messages.warning("\(view.name): cannot tell which rows its files hold (\(error)); they are not completed from the journal")
            }
        }
        var steps = JournalTableSteps()
        // The logger names files in order of first appearance too (`~2` for case twins).
        var stems = FileStems()
        var summarized = 0
        let torn = try JournalScanner.forEachRow(in: path, fileStem: { stems.stem(for: $0).stem }) { row in
            steps.record(row.table, step: row.step)
            if let statistics, row.level >= statistics.level {
                try statistics.write(row)
                summarized += 1
                if summarized % 256 == 0 { statistics.absorbPending() }
            }
            for i in views.indices where row.level >= views[i].output.level {
                guard try views[i].isMissing(row) else { continue }
                try views[i].output.write(row)
                views[i].rewritten += 1
            }
        }
        messages.warnTornLine(path: path, bytes: torn)
        for view in views where view.rewritten > 0 {
            messages.info("\(view.output.name): \(view.rewritten) rows of the journal were missing from its files (the last process ended before writing them); written now")
        }
        return steps.tables
    }
}
