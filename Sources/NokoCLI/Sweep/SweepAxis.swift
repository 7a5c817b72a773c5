import Foundation
import Noko
import NokoCore

/// One axis of a sweep, as given on the command line: `KEY=SPEC`.
///
/// KEY is an override's left side (`lr`, `model.layers`, `+extra.tag`). SPEC is a list
/// `0.1,0.01,0.001` (split at top-level commas only, so `[64,128],[32,64]` is two array
/// values and `"a,b"` one string), `range(STOP)`, `range(START,STOP[,STEP])` (Python's:
/// STOP excluded), or, drawn afresh for each of `--trials` draws, `uniform(LOW,HIGH)`,
/// `loguniform(LOW,HIGH)` (both bounds positive) or `choice(A,B,…)`.
package struct SweepAxis: Sendable, Equatable {
    /// The values an axis takes.
    package enum Values: Sendable, Equatable {
        /// Every value in turn: a grid axis.
        case list([String])
        /// Drawn uniformly between the bounds.
        case uniform(Double, Double)
        /// Drawn so that its logarithm is uniform between the bounds'.
        case logUniform(Double, Double)
        /// One of the values, each as likely.
        case choice([String])
    }

    /// The override's left side.
    package let key: String
    /// The right side as given.
    package let spec: String
    package let values: Values

    /// The axis as given.
    package var text: String { key + "=" + spec }

    /// Whether values are drawn at random (`--trials`) rather than enumerated.
    package var isRandom: Bool {
        if case .list = values { return false }
        return true
    }

    /// Parses `KEY=SPEC`; errors name the axis and say what was expected.
    package init(_ text: String) throws {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw CLIError("axis '\(text)': expected KEY=VALUES, e.g. lr=0.1,0.01 or seed=range(5)")
        }
        key = String(text[..<equals])
        spec = String(text[text.index(after: equals)...])
        guard ConfigOverride(key + "=0", source: .argument) != nil else {
            throw CLIError("axis '\(text)': '\(key)' is not a config path (e.g. lr, model.layers, hidden[1], +extra.tag)")
        }
        func fail(_ message: String) -> CLIError { CLIError("axis '\(text)': \(message)") }
        if let arguments = Self.call("range", spec) {
            let numbers = try arguments.map { word in
                guard let n = Int(word.trimmingCharacters(in: .whitespaces)) else {
                    throw fail("range takes integers; '\(word)' is not one")
                }
                return n
            }
            let (start, stop, step): (Int, Int, Int)
            switch numbers.count {
            case 1: (start, stop, step) = (0, numbers[0], 1)
            case 2: (start, stop, step) = (numbers[0], numbers[1], 1)
            case 3: (start, stop, step) = (numbers[0], numbers[1], numbers[2])
            default: throw fail("range takes 1 to 3 integers: range(STOP), range(START,STOP) or range(START,STOP,STEP)")
            }
            guard step != 0 else { throw fail("range's step must not be 0") }
            let list = Array(stride(from: start, to: stop, by: step)).map(String.init)
            guard !list.isEmpty else { throw fail("range(\(arguments.joined(separator: ","))) is empty") }
            values = .list(list)
        } else if let arguments = Self.call("uniform", spec) ?? Self.call("loguniform", spec) {
            let logarithmic = spec.hasPrefix("log")
            let function = logarithmic ? "loguniform" : "uniform"
            guard arguments.count == 2,
                let low = Double(arguments[0].trimmingCharacters(in: .whitespaces)),
                let high = Double(arguments[1].trimmingCharacters(in: .whitespaces)),
                low.isFinite, high.isFinite
            else { throw fail("expected \(function)(LOW,HIGH) with two finite numbers") }
            guard low < high else { throw fail("\(function)'s LOW must be below HIGH") }
            if logarithmic {
                guard low > 0 else { throw fail("loguniform's bounds must be positive") }
                values = .logUniform(low, high)
            } else {
                values = .uniform(low, high)
            }
        } else if let arguments = Self.call("choice", spec) {
            guard !arguments.isEmpty, !arguments.contains(where: \.isEmpty) else { throw fail("choice takes one or more values, none empty") }
            values = .choice(arguments)
        } else {
            let list = Self.splitTopLevel(spec)
            if let empty = list.firstIndex(where: \.isEmpty) {
                throw fail(spec.isEmpty ? "no values" : "value \(empty + 1) is empty (two commas, or one at an end)")
            }
            values = .list(list)
        }
    }

    /// The arguments of `name(…)` when `spec` is that call, split at top-level commas.
    private static func call(_ name: String, _ spec: String) -> [String]? {
        guard spec.hasPrefix(name + "("), spec.hasSuffix(")") else { return nil }
        let inside = String(spec.dropFirst(name.count + 1).dropLast())
        return inside.isEmpty ? [] : splitTopLevel(inside)
    }

    /// `text` split at the commas outside brackets, braces, parentheses and quotes.
    package static func splitTopLevel(_ text: String) -> [String] {
        var parts: [String] = [], current = "", depth = 0
        var quote: Character?
        for character in text {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if "[{(".contains(character) {
                depth += 1
            } else if "]})".contains(character) {
                depth = max(0, depth - 1)
            } else if character == ",", depth == 0 {
                parts.append(current)
                current = ""
                continue
            }
            current.append(character)
        }
        parts.append(current)
        return parts
    }

    /// One draw of a random axis from `generator`, as override text; nil for a grid axis.
    /// The arithmetic is spelled out (not `Double.random(in:)`, whose algorithm Swift may
    /// change) so a recorded seed gives the same trials with any later noko.
    package func draw(_ generator: inout SplitMix64) -> String? {
        func unit() -> Double { Double(generator.next() >> 11) * 0x1p-53 }
        switch values {
        case .list: return nil
        case .uniform(let low, let high): return String(describing: low + (high - low) * unit())
        case .logUniform(let low, let high): return String(describing: exp(log(low) + (log(high) - log(low)) * unit()))
        case .choice(let options): return options[Int(generator.next().multipliedFullWidth(by: UInt64(options.count)).high)]
        }
    }
}
