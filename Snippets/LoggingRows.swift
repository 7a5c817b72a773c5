// Rows: dictionaries, structs, levels, steps, and a logger of your own for tests.
import Noko

// snippet.hide
let weights: [Double] = [0.1, -0.2, 0.3]
let gradients: [Double] = [0.01, 0.02, -0.03]
// snippet.show
// A whole row at once; arrays are summarized into mean/min/max/std columns.
Noko.logRow("grad_step", ["loss": 0.25, "weights": weights, "grad": gradients], level: .trace)

// Any struct or class: its stored properties become the columns.
struct EvalRow {
    var accuracy: Double
    var confusion: [[Int]]
}
Noko.logRow("eval", EvalRow(accuracy: 0.91, confusion: [[40, 3], [5, 52]]), step: 1000, level: .results)

// Levels compare by value; name your own.
let evaluation = LogLevel(25, name: "EVAL")
Noko.logRow("eval", ["accuracy": 0.93], level: evaluation)

// A logger of your own, here with an in-memory output, as in a test.
let memory = InMemoryOutput()
let logger = NokoLogger(outputs: [memory], flushInterval: nil)
logger.logRow("t", ["x": 1])
precondition(memory.rows(in: "t").first?["x"] == .int(1))
// snippet.hide
Noko.close()
