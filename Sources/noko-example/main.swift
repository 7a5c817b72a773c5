// noko-example: logistic regression on generated data, logged with noko.
//
// Every gradient step logs a `grad_step` row at TRACE (loss, the weight and gradient
// arrays, which noko summarizes to mean/min/max/std); every epoch logs an `epoch` row at
// RESULTS (loss and accuracy on held-out data), which also reaches `noko_pprint.log`.
import Foundation
import Noko

/// The experiment's config: recorded in `config.json`, its `seed` seeds every generator.
/// Any field can be changed at launch without recompiling: `noko-example learningRate=0.1
/// epochs=5`, `--config FILE`, `NOKO_OVERRIDES`; `noko-example --noko-help` lists them.
struct Config: Codable {
    var epochs = 20
    var samples = 2000
    var features = 8
    var learningRate = 0.5
    var batchSize = 64
    var seed = 42
}

/// The program's own command line, after noko's overrides are taken out
/// (`Noko.programArguments`): `noko-example [--runs-dir DIR] [path=value…]`.
struct Arguments {
    var runsDir = "runs"

    init(_ arguments: [String]) {
        var i = 1
        while i < arguments.count {
            let value = i + 1 < arguments.count ? arguments[i + 1] : ""
            switch arguments[i] {
            case "--runs-dir": runsDir = value
            case "--help", "-h":
                print("usage: noko-example [--runs-dir DIR] [--config FILE] [path=value…]   (--noko-help lists the config paths)")
                exit(0)
            case "--epochs", "--seed", "--lr":
                let field = ["--epochs": "epochs", "--seed": "seed", "--lr": "learningRate"][arguments[i]]!
                FileHandle.standardError.write(Data("noko-example: \(arguments[i]) is now an override: \(field)=\(value)\n".utf8))
                exit(2)
            default:
                FileHandle.standardError.write(Data("noko-example: unknown argument \(arguments[i])\n".utf8))
                exit(2)
            }
            i += 2
        }
    }
}

/// Writes a line to stdout unbuffered, so it interleaves with the rows noko prints.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func sigmoid(_ z: Double) -> Double { 1 / (1 + exp(-z)) }

/// A logistic-regression model trained by minibatch gradient descent.
struct Trainer {
    let config: Config
    /// A named stream derived from `config.seed`: the same data and order on every run
    /// with the same seed.
    var rng = Noko.generator(named: "trainer")
    var weights: [Double]
    var bias = 0.0
    var train: [(x: [Double], y: Double)] = []
    var test: [(x: [Double], y: Double)] = []

    init(config: Config) {
        self.config = config
        weights = [Double](repeating: 0, count: config.features)
        // Data: labels from a hidden linear rule plus noise.
        let trueWeights = (0..<config.features).map { _ in Double.random(in: -2...2, using: &rng) }
        train = (0..<config.samples).map { _ in sample(trueWeights) }
        test = (0..<config.samples / 4).map { _ in sample(trueWeights) }
    }

    mutating func sample(_ trueWeights: [Double]) -> (x: [Double], y: Double) {
        let x = (0..<config.features).map { _ in Double.random(in: -1...1, using: &rng) }
        let z = zip(x, trueWeights).map(*).reduce(0, +) + Double.random(in: -0.3...0.3, using: &rng)
        return (x, z > 0 ? 1 : 0)
    }

    func predict(_ x: [Double]) -> Double { sigmoid(zip(x, weights).map(*).reduce(bias, +)) }

    func evaluate(_ data: [(x: [Double], y: Double)]) -> (loss: Double, accuracy: Double) {
        var loss = 0.0, correct = 0
        for (x, y) in data {
            let p = predict(x)
            loss -= y * log(max(p, 1e-12)) + (1 - y) * log(max(1 - p, 1e-12))
            if (p > 0.5) == (y == 1) { correct += 1 }
        }
        return (loss / Double(data.count), Double(correct) / Double(data.count))
    }

    mutating func run() {
        for epoch in 0..<config.epochs {
            var order = Array(train.indices)
            order.shuffle(using: &rng)
            for batchStart in stride(from: 0, to: order.count, by: config.batchSize) {
                step(epoch: epoch, batch: order[batchStart..<min(batchStart + config.batchSize, order.count)])
            }
            let trainMetrics = evaluate(train)
            let testMetrics = evaluate(test)
            Noko.logRow(
                "epoch",
                [
                    "train_loss": trainMetrics.loss, "train_accuracy": trainMetrics.accuracy,
                    "test_loss": testMetrics.loss, "test_accuracy": testMetrics.accuracy,
                ],
                step: epoch, level: .results)
        }
    }

    mutating func step(epoch: Int, batch: ArraySlice<Int>) {
        var gradient = [Double](repeating: 0, count: config.features)
        var biasGradient = 0.0
        var loss = 0.0
        for i in batch {
            let (x, y) = train[i]
            let p = predict(x)
            loss -= y * log(max(p, 1e-12)) + (1 - y) * log(max(1 - p, 1e-12))
            for j in 0..<config.features { gradient[j] += (p - y) * x[j] / Double(batch.count) }
            biasGradient += (p - y) / Double(batch.count)
        }
        for j in 0..<config.features { weights[j] -= config.learningRate * gradient[j] }
        bias -= config.learningRate * biasGradient
        // The whole step as one row: arrays become .mean/.min/.max/.std columns.
        Noko.logRow(
            "grad_step",
            GradStep(
                epoch: epoch, loss: loss / Double(batch.count), weights: weights, gradient: gradient,
                bias: bias, biasGradient: biasGradient, learningRate: config.learningRate),
            level: .trace)
    }
}

struct GradStep {
    var epoch: Int
    var loss: Double
    var weights: [Double]
    var gradient: [Double]
    var bias: Double
    var biasGradient: Double
    var learningRate: Double
}

let arguments = Arguments(Noko.programArguments)
var options = RunOptions()
options.runsDir = arguments.runsDir
// Show the epoch rows (RESULTS) on the terminal too.
options.outputs.standardOutputLevel = .results
var config = Config()
let run: Run
do {
    // `config` comes back with the overrides applied: the values config.json records.
    run = try Noko.initExtra(config: &config, options: options)
} catch {
    FileHandle.standardError.write(Data("noko-example: \(error)\n".utf8))
    exit(2)
}
say("noko-example: logging to \(run.directory.path)")
var trainer = Trainer(config: config)
trainer.run()
run.summary["final_test_accuracy"] = .double(trainer.evaluate(trainer.test).accuracy)
run.finish()
say("noko-example: done; files are in \(run.directory.path)")
