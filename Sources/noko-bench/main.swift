import Foundation
import Noko
import Synchronization

// `swift run -c release noko-bench [case…]`: runs the named cases (default: all).
// Each case prints its figures as ratios against a baseline measured in the same run.
let cases: [(name: String, run: ([String]) throws -> Void)] = [
    ("rows", rowsBenchmark),
    ("struct-rows", structRowsBenchmark),
    ("summarize", summarizeBenchmark),
    ("schema-growth", schemaGrowthBenchmark),
    ("run-overhead", runOverheadBenchmark),
    ("launch", launchBenchmark),
    ("tensorboard", tensorBoardBench),
    ("checkpoint", checkpointBenchmark),
    ("wandb-logrow", WandbBench.logRow),
    ("wandb-upload", WandbBench.upload),
    ("mlflow-logrow", MLflowBench.logRow),
    ("parquet", parquetBenchmark),
    ("cli", cliBenchmark),
    ("report", reportBenchmark),
    ("terminal", terminalBenchmark),
    ("secrets", secretsBenchmark),
    ("console-capture", consoleCaptureBenchmark),
    ("system-sampler", systemSamplerBenchmark),
    ("reproduce-compare", reproduceCompareBenchmark),
]

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "--launch-child" { try launchChild(Array(arguments.dropFirst())) }
if arguments.first == consoleChildMode { try consoleCaptureChild(arguments) }
let selected = arguments.filter { !$0.hasPrefix("-") }
let wanted = selected.isEmpty || selected == ["all"] ? cases.map(\.name) : selected
for name in wanted {
    guard let benchCase = cases.first(where: { $0.name == name }) else {
        print("unknown benchmark \(name); known: \(cases.map(\.name).joined(separator: ", "))")
        exit(2)
    }
    print("== \(name)")
    defer { removeScratchDirectories() }
    try benchCase.run(arguments)
}
