import NokoCore

/// Reads wandb's "extended JSON" lines (bare `NaN`, `Infinity`, `-Infinity`) with noko's
/// strict parser: the bare tokens become the strings noko's journal uses for them, which
/// `JSONValue.doubleValue` reads back as doubles.
package enum ExtendedJSON {
    package static func parse(_ line: String) throws -> JSONValue {
        try JSONValue(parsing: quotingNonFiniteTokens(line))
    }

    /// `line` with every bare non-finite token outside strings put in quotes.
    package static func quotingNonFiniteTokens(_ line: String) -> String {
        var out: [UInt8] = []
        let bytes = Array(line.utf8)
        out.reserveCapacity(bytes.count + 16)
        var inString = false
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if inString {
                out.append(c)
                if c == 0x5C, i + 1 < bytes.count {
                    out.append(bytes[i + 1])
                    i += 2
                    continue
                }
                if c == 0x22 { inString = false }
                i += 1
                continue
            }
            if c == 0x22 {
                inString = true
                out.append(c)
                i += 1
                continue
            }
            var matched = false
            for token in tokens where bytes[i...].starts(with: token) {
                out.append(0x22)
                out.append(contentsOf: token)
                out.append(0x22)
                i += token.count
                matched = true
                break
            }
            if !matched {
                out.append(c)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let tokens: [[UInt8]] = [Array("-Infinity".utf8), Array("Infinity".utf8), Array("NaN".utf8)]
}
