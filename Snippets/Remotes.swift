// Mirroring a run on wandb; offline here, uploaded later with `noko-run sync`.
import Noko

var options = RunOptions()
options.wandb = WandbOptions(project: "noko-docs", tags: ["example"], mode: .offline)
// snippet.hide
options.checkpoint = false
// snippet.show
let run = try Noko.initExtra(config: ["learning_rate": 0.1, "seed": 1], options: options)
for step in 0..<10 {
    Noko.logRow("train", ["loss": 1.0 / Double(step + 1)])
}
run.summary["best_loss"] = .double(0.1)
if run.stopRequested { print("the dashboard's Stop button was pressed") }
run.finish()
// Later, from any machine that has the run directory:
//     noko-run sync \(run.directory.path)
