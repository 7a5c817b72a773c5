// Reading a run back: the journal, one table of it, a CSV view.
import Noko

// snippet.hide
let run = try Noko.initExtra(config: ["seed": 1], options: { var o = RunOptions(); o.checkpoint = false; return o }())
for step in 0..<5 { Noko.logRow("train", ["loss": 1.0 / Double(step + 1)], level: .info) }
run.finish()
let directory = run.directory.path
// snippet.show
let journal = try Noko.loadLogFile("\(directory)/noko.ndjson")        // columns "table.key", aligned by line
let train = try Noko.loadTable("train", fromJournal: "\(directory)/noko.ndjson")  // one table, plain keys
let losses = train["loss"] ?? []                                       // [Scalar]: .double, .int, .null…
let csv = try Noko.loadLogFile("\(directory)/train.csv", keys: ["loss"])
print(journal.columnNames.count, losses.count, csv.rowCount)
