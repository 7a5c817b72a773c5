import Foundation
import NokoCore

/// How `noko-run` spells times, durations and numbers for people (`--json` keeps raw values).
package enum DisplayFormat {
    /// `2026-11-27 10:27:38` in `timeZone`.
    package static func time(_ unixSeconds: Double, timeZone: TimeZone) -> String {
        guard unixSeconds.isFinite else { return "?" }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents(
            [.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: unixSeconds.rounded(.down)))
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0,
            c.second ?? 0)
    }

    /// A duration at a useful precision: `0.42s`, `4.2s`, `42s`, `3m 05s`, `1h 02m`, `2d 03h`.
    package static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        if seconds < 0 { return "-" + duration(-seconds) }
        if seconds < 1 { return String(format: "%.2fs", seconds) }
        if seconds < 10 { return String(format: "%.1fs", seconds) }
        let whole = Int(seconds.rounded(.down))
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return String(format: "%dm %02ds", whole / 60, whole % 60) }
        if whole < 86400 { return String(format: "%dh %02dm", whole / 3600, whole % 3600 / 60) }
        return String(format: "%dd %02dh", whole / 86400, whole % 86400 / 3600)
    }

    /// A number in at most about ten characters: integers in full (up to 10¹⁵), others with
    /// six significant digits (`0.693147`, `1.5e-07`); `NaN`, `inf`, `-inf`.
    package static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        var text = String(format: "%.6g", value)
        if text.contains("e") {
            // `1.5e-07` → `1.5e-7`: the padding zero only takes room.
            text = text.replacingOccurrences(of: "e-0", with: "e-").replacingOccurrences(of: "e+0", with: "e+")
        }
        return text
    }

    /// A cell value for people: numbers via ``number(_:)``, booleans `true`/`false`,
    /// strings as they are, null as empty text.
    package static func scalar(_ value: Scalar) -> String {
        switch value {
        case .null: return ""
        case .bool(let b): return b ? "true" : "false"
        case .int(let v): return String(v)
        case .double(let v): return number(v)
        case .string(let s): return s
        }
    }

    /// A config or metadata value for people: strings bare, numbers via ``number(_:)``,
    /// arrays and objects as compact JSON.
    package static func json(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let v): return String(v)
        case .double(let v): return number(v)
        case .string(let s): return s
        case .array, .object: return value.serialized()
        }
    }

    /// ``json(_:)`` for the terminal: a string escaped (``TerminalText``); an array or an
    /// object as its compact JSON, which escapes control characters itself (DEL and C1 as
    /// `\u007f`, `\u009b`…), so it stays JSON that can be copied.
    package static func terminalJSON(_ value: JSONValue) -> TerminalText {
        switch value {
        case .array, .object:
            return TerminalText(verbatim: String(decoding: JSONOutput.escapingDELAndC1(value.serializedBytes()), as: UTF8.self))
        default:
            return TerminalText(escaping: json(value))
        }
    }

    /// A value as it must be typed to match it: strings bare, numbers in full (shortest
    /// round-trip text), arrays and objects as compact JSON.
    package static func jsonExact(_ value: JSONValue) -> String {
        switch value {
        case .double(let v): return Scalar.format(v)
        case .string(let s): return s
        default: return json(value)
        }
    }

    /// A byte count: `512 B`, `4.2 kB`, `1.3 MB`, `2.0 GB`.
    package static func bytes(_ count: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(count)
        var unit = 0
        while abs(value) >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f", value) + " " + units[unit]
    }

    /// A count with thousands separators: `1,000,000`.
    package static func count(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }
}
