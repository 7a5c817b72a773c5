import Foundation
import NokoCore

/// Whether a sweep's metric is better high or low.
package enum SweepGoal: String, Sendable, CaseIterable {
    case max, min

    /// `min` for a `min:` reference, else `max`.
    package static func inferred(from reference: MetricReference) -> SweepGoal {
        reference.statistic == .min ? .min : .max
    }

    /// Whether `a` is better than `b`.
    package func prefers(_ a: Double, over b: Double) -> Bool {
        if a.isNaN { return false }
        if b.isNaN { return true }
        return self == .max ? a > b : a < b
    }
}

/// A sweep's trials with their metric, and the leaderboard: one line per distinct set of
/// overrides, the metric's mean ± sample standard deviation over the axes named by
/// `--over` (each trial's latest attempt, finished or not, as `list --metric` reads it:
/// from `summary.json`).
package struct SweepResults: Sendable {
    /// One trial and its metric.
    package struct Trial: Sendable {
        package var trial: SweepFile.Trial
        /// The latest attempt's run directory, when it made one.
        package var runDirectory: URL?
        package var value: Double?
    }

    /// One line of the leaderboard.
    package struct Group: Sendable {
        /// The overrides the group's trials share (the `--over` axes left out).
        package var overrides: [String]
        package var trials: [Trial]
        /// The metric of the trials that have one.
        package var values: [Double] { trials.compactMap(\.value) }
        package var mean: Double? { SampleSpread(values)?.mean }
        /// The sample standard deviation (n − 1); nil below two values.
        package var standardDeviation: Double? { SampleSpread(values)?.standardDeviation }
    }

    package var sweep: SweepFile
    package var directory: URL
    package var trials: [Trial]

    /// Reads each trial's metric (`reference` nil: none); a run that cannot be read is a
    /// warning through `warn`, and the trial counts as having no value.
    package static func load(
        _ sweep: SweepFile, in directory: URL, reference: MetricReference?, warn: (String) -> Void
    ) -> SweepResults {
        let trials = sweep.trials.map { trial -> Trial in
            let runDirectory = trial.run.map { directory.appendingPathComponent($0, isDirectory: true) }
                .flatMap { FileSystem.exists(RunLayout($0).metadata.path) ? $0 : nil }
            var value: Double?
            if let reference, let runDirectory {
                do {
                    let summary = try LoadedRun.open(runDirectory).loadSummary(messages: NokoMessages.logger()).summary
                    value = reference.value(in: summary)?.doubleValue
                } catch {
                    warn("\(trial.id): cannot read \(reference): \(error)")
                }
            }
            return Trial(trial: trial, runDirectory: runDirectory, value: value)
        }
        return SweepResults(sweep: sweep, directory: directory, trials: trials)
    }

    /// The best trial by `goal`, among those with a value.
    package func best(_ goal: SweepGoal) -> Trial? {
        trials.filter { $0.value != nil }.reduce(nil) { best, trial in
            guard let best else { return trial }
            return goal.prefers(trial.value!, over: best.value!) ? trial : best
        }
    }

    /// The groups, best mean first; groups without a value last, in trial order.
    package func leaderboard(over: Set<String>, goal: SweepGoal) -> [Group] {
        let groups = SettingGrouping.over(over.sorted()).groups(trials) { $0.trial.overrides.compactMap(Setting.init(override:)) }
            .map { Group(overrides: $0.identity.map(\.text), trials: $0.members) }
        return groups.enumerated().sorted { a, b in
            switch (a.element.mean, b.element.mean) {
            case (let x?, let y?) where x != y && !(x.isNaN && y.isNaN): return goal.prefers(x, over: y)
            case (nil, .some): return false
            case (.some, nil): return true
            default: return a.offset < b.offset
            }
        }.map(\.element)
    }
}
