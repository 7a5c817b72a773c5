// A first run: a config, one line to start the run, rows, a summary value.
import Noko

struct Config: Codable {
    var learningRate = 0.1
    var epochs = 3
    var seed = 42
}

// snippet.hide
var options = RunOptions()
options.runsDir = "runs"
options.checkpoint = false
// snippet.show
var config = Config()  // path=value arguments change it at launch: `first-run epochs=10`
let run = try Noko.initExtra(config: &config, options: options)
var weight = Double.random(in: -1...1, using: &Noko.random)  // seeded from config.seed
var best = Double.infinity
for epoch in 0..<config.epochs {
    for step in 0..<100 {
        let gradient = 2 * (weight - 0.5)
        weight -= config.learningRate * gradient
        Noko.logRow("grad_step", ["loss": (weight - 0.5) * (weight - 0.5), "grad": gradient], level: .trace)
        _ = step
    }
    let loss = (weight - 0.5) * (weight - 0.5)
    best = min(best, loss)
    Noko.logRow("epoch", ["epoch": epoch, "loss": loss], level: .results)
}
run.summary["best_loss"] = .double(best)
run.finish()
print("wrote \(run.directory.path)")
