import Foundation
import Noko

/// Short, consistent text for axis ticks and displayed values.
///
/// Ticks share one precision, taken from the tick step (0.25-steps get two decimals, steps of
/// 200,000 read `0.2M`), so neighbouring labels line up and never show float noise.
enum AxisLabels {
    /// Labels for linear ticks `values` spaced by `step`.
    static func linear(_ values: [Double], step: Double) -> [String] {
        let largest = values.map(abs).max() ?? 0
        let decimals = stepDecimals(step)
        if largest >= 1e4 && step >= 1 {
            let (unit, suffix) = largest >= 1e12 ? (0, "") : largest >= 1e9 ? (9, "G") : largest >= 1e6 ? (6, "M") : (3, "k")
            if !suffix.isEmpty {
                let scale = pow(10, Double(unit))
                return values.map { $0 == 0 ? "0" : fixed($0 / scale, decimals: max(0, decimals + unit)) + suffix }
            }
            return values.map { scientific($0, stepDecimals: decimals) }
        }
        if largest > 0 && largest < 1e-3 {
            return values.map { scientific($0, stepDecimals: decimals) }
        }
        return values.map { $0 == 0 ? "0" : fixed($0, decimals: max(0, decimals)) }
    }

    /// The label of a power of ten on a log axis: `0.01`, `1`, `100`, `10k`, `1M`, `1e-5`.
    static func decade(_ value: Double) -> String {
        let exponent = Int(log10(value).rounded())
        switch exponent {
        case -3...3: return fixed(value, decimals: max(0, -exponent))
        case 4...5: return fixed(value / 1e3, decimals: 0) + "k"
        case 6...8: return fixed(value / 1e6, decimals: 0) + "M"
        case 9...11: return fixed(value / 1e9, decimals: 0) + "G"
        default: return "1e\(exponent)"
        }
    }

    /// A value with four significant digits (`0.1235`, `1.235e-5`, `1.235e+6` → `1.235e6`),
    /// non-finite values spelled as in the journal.
    static func value(_ v: Double) -> String {
        guard v.isFinite else { return Scalar.format(v) }
        if v == 0 { return "0" }
        if v == v.rounded(), abs(v) < 1e7 { return String(Int64(v)) }
        let magnitude = abs(v)
        if magnitude >= 1e6 || magnitude < 1e-3 { return trimExponent(String(format: "%.4g", v)) }
        return String(format: "%.4g", v)
    }

    /// The number of decimals that writes every multiple of `step` exactly (negative for steps
    /// of tens, hundreds…).
    static func stepDecimals(_ step: Double) -> Int {
        guard step > 0, step.isFinite else { return 0 }
        for d in -15...15 {
            let scaled = step * pow(10, Double(d))
            let whole = scaled.rounded()
            if whole != 0 && abs(scaled - whole) <= 1e-9 * scaled { return d }
        }
        return 15
    }

    private static func fixed(_ v: Double, decimals: Int) -> String {
        let text = String(format: "%.\(min(decimals, 15))f", v)
        // "-0.0" for a tiny negative rounding to zero reads as a bug.
        return text.allSatisfy({ "-0.".contains($0) }) ? "0" : text
    }

    private static func scientific(_ v: Double, stepDecimals: Int) -> String {
        if v == 0 { return "0" }
        let exponent = Int(log10(abs(v)).rounded(.down))
        let digits = max(0, min(stepDecimals + exponent, 6))
        return trimExponent(String(format: "%.\(digits)e", v))
    }

    /// `1.5e-05` → `1.5e-5`, `2e+06` → `2e6`.
    private static func trimExponent(_ text: String) -> String {
        guard let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) else { return text }
        let mantissa = text[..<e]
        var exponent = text[text.index(after: e)...]
        var sign = ""
        if exponent.first == "-" { sign = "-" }
        if exponent.first == "-" || exponent.first == "+" { exponent = exponent.dropFirst() }
        let digits = exponent.drop { $0 == "0" }
        return "\(mantissa)e\(sign)\(digits.isEmpty ? "0" : String(digits))"
    }
}
