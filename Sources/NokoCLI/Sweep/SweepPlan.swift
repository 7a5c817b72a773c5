import Noko
import NokoCore

/// The trials a sweep's axes make, in a fixed order.
///
/// The grid is the product of the list axes, the last axis varying fastest (as
/// `itertools.product` and Hydra's multirun order it). With `--trials N`, each of N draws
/// takes one value of every random axis (axis order, from one SplitMix64 stream seeded with
/// `--seed`), and is crossed with the whole grid: `lr=loguniform(1e-5,1e-1) seed=range(3)
/// --trials 4` is 4 learning rates, each over 3 seeds.
package enum SweepPlan {
    /// Each trial's overrides (`KEY=VALUE`, in axis order).
    package static func overrides(axes: [SweepAxis], draws: Int?, seed: UInt64) throws -> [[String]] {
        var seen: Set<String> = []
        for axis in axes where !seen.insert(axis.key).inserted {
            throw CLIError("axis '\(axis.key)' is given twice; give one axis per key")
        }
        let random = axes.filter(\.isRandom)
        if let draws {
            guard draws > 0 else { throw CLIError("--trials \(draws): expected a positive number of draws") }
            guard !random.isEmpty else {
                throw CLIError(
                    "--trials draws random axes (uniform, loguniform, choice), and none is given; list axes form a grid without it")
            }
        } else if let first = random.first {
            throw CLIError("axis '\(first.text)' is drawn at random: give --trials N, the number of draws")
        }
        var grid: [[(Int, String)]] = [[]]
        for (index, axis) in axes.enumerated() {
            guard case .list(let values) = axis.values else { continue }
            grid = grid.flatMap { point in values.map { point + [(index, "\(axis.key)=\($0)")] } }
        }
        guard let draws else { return grid.map { $0.map(\.1) } }
        var generator = SplitMix64(seed: seed)
        var trials: [[String]] = []
        for _ in 0..<draws {
            let drawn = axes.enumerated().compactMap { index, axis in axis.draw(&generator).map { (index, "\(axis.key)=\($0)") } }
            for point in grid {
                trials.append((drawn + point).sorted { $0.0 < $1.0 }.map(\.1))
            }
        }
        return trials
    }

    /// Trial ids that sort in trial order: `t000`…`t999`, wider when there are more.
    package static func ids(count: Int) -> [String] {
        let width = max(3, String(max(count - 1, 0)).count)
        return (0..<count).map { n in
            let digits = String(n)
            return "t" + String(repeating: "0", count: width - digits.count) + digits
        }
    }
}
