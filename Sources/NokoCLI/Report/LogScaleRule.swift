/// When a chart also gets a log-scale version: its values are all positive and span at least
/// three orders of magnitude (a loss falling from 10 to 0.01, a learning-rate schedule), where
/// a linear axis flattens everything but the first steps.
enum LogScaleRule {
    /// The ratio of largest to smallest value from which a log axis is offered.
    static let minimumRatio = 1000.0

    static func offersLog(minimum: Double, maximum: Double) -> Bool {
        minimum > 0 && maximum.isFinite && maximum / minimum >= minimumRatio
    }
}
