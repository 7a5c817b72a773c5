/// Appends SVG markup to a string: coordinates rounded to a tenth of a unit (a chart is a few
/// hundred units wide, so that is far below a pixel and keeps files small), text escaped.
struct SVGText {
    private(set) var text = ""

    init(capacity: Int = 4096) {
        text.reserveCapacity(capacity)
    }

    mutating func raw(_ markup: String) { text += markup }

    /// A coordinate: `12.3`, `-4`, `0.1`.
    ///
    /// Every coordinate comes from a finite value through a scale with a finite domain, so a
    /// non-finite one is a bug; it is written as it is (`nan`), not hidden as `0`, so the
    /// report tests (which parse every coordinate) catch it.
    mutating func number(_ value: Double) {
        guard value.isFinite, abs(value) < 1e15 else {
            text += "\(value)"
            return
        }
        let tenths = Int((value * 10).rounded())
        if tenths < 0 { text += "-" }
        let magnitude = tenths.magnitude
        text += String(magnitude / 10)
        if magnitude % 10 != 0 {
            text += "."
            text += String(magnitude % 10)
        }
    }

    /// `x y` as a point of a path or a points list.
    mutating func point(_ x: Double, _ y: Double) {
        number(x)
        text += " "
        number(y)
    }

    /// Text content or an attribute value, escaped for HTML and XML alike.
    mutating func escaped(_ value: String) { text += Self.escape(value) }

    static func escape(_ value: String) -> String {
        guard value.contains(where: { "&<>\"'".contains($0) }) else { return value }
        var out = ""
        out.reserveCapacity(value.utf8.count + 16)
        for c in value {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
