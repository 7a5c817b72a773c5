/// The geometry of one chart, in SVG user units. The chart scales with its box (it is drawn
/// at 100 % of the figure's width); 340 units across means 10.5-unit text is still about
/// 9 px tall at 300 px wide.
enum ChartLayout {
    static let width = 340.0
    static let height = 212.0
    static let plotLeft = 58.0
    static let plotRight = 330.0
    static let plotTop = 10.0
    static let plotBottom = 176.0
    static let fontSize = 10.5
    /// One bucket per unit across the plot: about a device pixel at typical sizes.
    static var slices: Int { Int(plotRight - plotLeft) }
    /// Series with at most this many points also get a dot at each point.
    static let dottedPointLimit = 40
}
