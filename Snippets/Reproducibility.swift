// A reproducible run: seeded generators, a run that records its own failure, resume.
import Noko

struct Config: Codable {
    var seed = 7
    var workers = 2
}

// Your library's global generator, seeded by every run from config.seed.
nonisolated(unsafe) var simulationGenerator = SplitMix64(seed: 0)
_ = Seeding.register(name: "my-simulation") { seed in simulationGenerator = SplitMix64(seed: seed) }

// snippet.hide
var options = RunOptions()
options.checkpoint = false
options.runName = "reproducible-\(Int.random(in: 0..<1_000_000))"
// snippet.show
try Noko.withRun(config: Config(), options: options) { run in
    // The shared generator: one reproducible sequence.
    let noise = Double.random(in: 0..<1, using: &Noko.random)
    // One independent stream per worker: reproducible whichever thread draws first.
    var streams = (0..<Config().workers).map { Noko.generator(named: "worker-\($0)") }
    let draws = streams.indices.map { UInt64.random(in: 0..<100, using: &streams[$0]) }
    Noko.logRow("sample", ["noise": noise, "draws": draws.map(Int.init)], level: .info)
    print("root seed", run.seed ?? 0)
}   // finished here, or `failed` with the error if the body throws

// The same name again with `resume`: steps and summary.json continue where they stopped.
options.resume = true
let resumed = try Noko.initExtra(config: Config(), options: options)
Noko.logRow("sample", ["noise": 0.5], level: .info)
resumed.finish()
