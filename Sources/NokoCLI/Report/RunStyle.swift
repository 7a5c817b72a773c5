/// How one run is drawn in every chart: a colour from a colour-blind-friendly palette
/// (Okabe & Ito, without its yellow, which vanishes on white), and a dash pattern once the
/// colours repeat.
struct RunStyle: Equatable, Sendable {
    /// A CSS colour (`#0072B2`).
    let colour: String
    /// An SVG `stroke-dasharray`, or nil for a solid line.
    let dash: String?

    static let palette = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"]
    private static let dashes: [String?] = [nil, "5 2", "1.5 1.5", "6 2 1.5 2"]

    /// The style of the run at `index` (0-based) in the report.
    init(index: Int) {
        colour = Self.palette[index % Self.palette.count]
        dash = Self.dashes[(index / Self.palette.count) % Self.dashes.count]
    }
}
