/// Maps table names to file names that are safe on every file system and never collide.
///
/// The mapping, so you can find a table's files by hand:
/// - ASCII letters, digits, `_` and `-` stay as they are; so does `.`, except at the start.
/// - Every other byte of the name's UTF-8 (`/`, `:`, spaces, control characters, `%`,
///   non-ASCII letters, a leading `.`) becomes `%XX` with two upper-case hex digits.
///   `grad_step` → `grad_step`; `train/loss` → `train%2Floss`; `../x` → `%2E.%2Fx`.
/// - The empty name becomes `%`.
/// - Names whose encoding exceeds 200 bytes keep their first 180 bytes, then `%~` and 16 hex
///   digits of a hash of the whole name.
///
/// Percent-encoding is reversible, so two different tables can never share a file (short of
/// a 64-bit hash collision between two names longer than 200 bytes). On case-insensitive file
/// systems (macOS by default) `Loss` and `loss` would share a file; the logger detects that
/// and appends `~2`, `~3`… to the later table (recorded in `summary.json`).
package enum TableFileName {
    /// The file name stem (without extension) for `table`.
    package static func encode(_ table: String) -> String {
        if table.isEmpty { return "%" }
        var out: [UInt8] = []
        out.reserveCapacity(table.utf8.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for (i, byte) in table.utf8.enumerated() {
            let safe: Bool
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                safe = true
            case UInt8(ascii: "."):
                safe = i > 0
            default:
                safe = false
            }
            if safe {
                out.append(byte)
            } else {
                out.append(contentsOf: [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            }
        }
        if out.count > 200 {
            out = Array(out.prefix(180))
            // Never cut an escape in half.
            if let percent = out.suffix(2).lastIndex(of: UInt8(ascii: "%")) { out.removeSubrange(percent...) }
            out.append(contentsOf: Array("%~".utf8))
            out.append(contentsOf: Array(hex64(fnv1a(table)).utf8))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The table name a file name stem stands for, or nil if it is not an encoding (or is a
    /// hashed long name, which cannot be reversed).
    package static func decode(_ stem: String) -> String? {
        if stem == "%" { return "" }
        if stem.contains("%~") { return nil }
        var bytes: [UInt8] = []
        var iterator = Array(stem.utf8).makeIterator()
        while let b = iterator.next() {
            if b == UInt8(ascii: "%") {
                guard let h = iterator.next(), let l = iterator.next(), let hi = hexValue(h), let lo = hexValue(l) else {
                    return nil
                }
                bytes.append(hi << 4 | lo)
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    static func fnv1a(_ s: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in s.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }

    private static func hex64(_ v: UInt64) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
