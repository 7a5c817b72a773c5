import NokoPlatform

/// Parses decimal number text (JSON's grammar) into a ``Scalar`` quickly, for readers that
/// stream millions of numbers (`StatisticsRebuild` on a Python noko journal).
///
/// Integers that fit `Int64` become `.int`; other numbers `.double`, correctly rounded:
/// numbers of at most 19 significant digits whose mantissa fits 53 bits and whose decimal
/// exponent is within ±22 take Clinger's fast path (one exact product or quotient of two
/// exactly representable doubles, so a single rounding); anything else goes to `strtod`.
package enum DecimalNumber {
    /// Powers of ten that doubles hold exactly.
    private static let exactPowers: [Double] = (0...22).map { e in
        var p = 1.0
        for _ in 0..<e { p *= 10 }
        return p
    }

    /// The same powers as integers.
    private static let integerPowers: [UInt128] = (0...22).map { e in
        var p: UInt128 = 1
        for _ in 0..<e { p *= 10 }
        return p
    }

    /// The index just past the JSON number that starts at `bytes[start]` (and ends before
    /// `end` or at the first byte that cannot continue it), or nil when the text is not a
    /// JSON number: ``parse(_:from:to:)``'s grammar without computing the value, for readers
    /// that only need to know where a number ends.
    @inline(__always)
    package static func end(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int? {
        var i = start
        @inline(__always) func isDigit(_ i: Int) -> Bool { i < end && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
        if i < end && bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard isDigit(i) else { return nil }
        if bytes[i] == 0x30 {
            i += 1
            if isDigit(i) { return nil }
        } else {
            while isDigit(i) { i += 1 }
        }
        if i < end && bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard isDigit(i) else { return nil }
            while isDigit(i) { i += 1 }
        }
        if i < end && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
            i += 1
            if i < end && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) { i += 1 }
            guard isDigit(i) else { return nil }
            while isDigit(i) { i += 1 }
        }
        return i
    }

    /// Parses the number that starts at `bytes[start]` and ends before `end` or at the first
    /// byte that cannot continue it. Returns the value and the index just past the number,
    /// or nil when the text is not a JSON number (the caller reports the error).
    @inline(__always)
    package static func parse(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> (Scalar, Int)? {
        var i = start
        var negative = false
        if i < end && bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        guard i < end, bytes[i] >= 0x30 && bytes[i] <= 0x39 else { return nil }
        var mantissa: UInt64 = 0
        var digits = 0
        var dropped = 0  // integer digits beyond 19 (only counted)
        if bytes[i] == 0x30 {
            i += 1
            // JSON has no leading zeros: "01" is not a number.
            if i < end && bytes[i] >= 0x30 && bytes[i] <= 0x39 { return nil }
        } else {
            while digits <= 11, i + 8 <= end, let chunk = eightDigits(bytes, at: i) {
                mantissa = mantissa &* 100_000_000 &+ chunk
                digits += 8
                i += 8
            }
            while i < end, bytes[i] >= 0x30 && bytes[i] <= 0x39 {
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(bytes[i] - 0x30)
                    digits += 1
                } else {
                    dropped += 1
                }
                i += 1
            }
        }
        var exponent = dropped
        var isInteger = true
        if i < end && bytes[i] == UInt8(ascii: ".") {
            isInteger = false
            i += 1
            guard i < end, bytes[i] >= 0x30 && bytes[i] <= 0x39 else { return nil }
            while i < end, bytes[i] >= 0x30 && bytes[i] <= 0x39 {
                // Eight digits at once once the leading zeros are behind (they do not count).
                if mantissa != 0, digits <= 11, i + 8 <= end, let chunk = eightDigits(bytes, at: i) {
                    mantissa = mantissa &* 100_000_000 &+ chunk
                    digits += 8
                    exponent -= 8
                    i += 8
                    continue
                }
                if digits < 19 {
                    if mantissa != 0 || bytes[i] != 0x30 { digits += 1 }
                    mantissa = mantissa &* 10 &+ UInt64(bytes[i] - 0x30)
                    exponent -= 1
                } else {
                    dropped += 1
                }
                i += 1
            }
        }
        if i < end && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
            isInteger = false
            i += 1
            var negativeExponent = false
            if i < end && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) {
                negativeExponent = bytes[i] == UInt8(ascii: "-")
                i += 1
            }
            guard i < end, bytes[i] >= 0x30 && bytes[i] <= 0x39 else { return nil }
            var value = 0
            while i < end, bytes[i] >= 0x30 && bytes[i] <= 0x39 {
                if value < 100_000 { value = value * 10 + Int(bytes[i] - 0x30) }
                i += 1
            }
            exponent += negativeExponent ? -value : value
        }
        if isInteger && dropped == 0 {
            if negative {
                if mantissa <= UInt64(Int64.max) { return (.int(-Int64(mantissa)), i) }
                if mantissa == UInt64(Int64.max) + 1 { return (.int(Int64.min), i) }
            } else if mantissa <= UInt64(Int64.max) {
                return (.int(Int64(mantissa)), i)
            }
        }
        if dropped == 0, exponent >= -22, exponent <= 22 {
            if mantissa <= 1 << 53 {
                var value = Double(mantissa)
                value = exponent < 0 ? value / exactPowers[-exponent] : value * exactPowers[exponent]
                return (.double(negative ? -value : value), i)
            }
            // 17 to 19 digits (most printed doubles): the quotient of the exact integer by an
            // exact power of ten, rounded correctly by checking it against the true value.
            if exponent < 0, let value = correctlyRoundedQuotient(mantissa, powerOfTen: -exponent) {
                return (.double(negative ? -value : value), i)
            }
            if exponent >= 0 && exponent <= 19 {
                let (product, overflow) = mantissa.multipliedReportingOverflow(by: UInt64(integerPowers[exponent]))
                if !overflow { return (.double(negative ? -Double(product) : Double(product)), i) }
            }
        }
        return (.double(CLibrary.parseDouble(UnsafeRawBufferPointer(rebasing: bytes[start..<i]))), i)
    }

    /// `m / 10^k` rounded to the nearest double (ties to even), or nil when the exact check
    /// would not fit in 128 bits (the caller uses `strtod`).
    ///
    /// The quotient of two doubles is within one ulp of the true value; comparing the true
    /// value with the midpoints around the candidate, in exact integer arithmetic, picks the
    /// right neighbour.
    static func correctlyRoundedQuotient(_ m: UInt64, powerOfTen k: Int) -> Double? {
        let p = integerPowers[k]
        var q = Double(m) / exactPowers[k]
        for _ in 0..<3 {
            guard q.isNormal else { return nil }
            // q = M · 2^E with M a 53-bit integer; compare in units of 2^(E-2).
            let bigM = UInt128(q.significandBitPattern | (1 << 52))
            let e = Int(q.exponent) - 52 - 2
            let (upper, overflow) = (4 * bigM + 2).multipliedReportingOverflow(by: p)
            guard !overflow else { return nil }
            let lower = (q.significandBitPattern == 0 ? 4 * bigM - 1 : 4 * bigM - 2) * p
            // The true value, scaled: m · 2^(-e) against X · p, or m against X · p · 2^e.
            let value: UInt128
            var upperScaled = upper, lowerScaled = lower
            if e <= 0 {
                guard m.leadingZeroBitCount + 64 > -e + 1 else { return nil }
                value = UInt128(m) << -e
            } else {
                guard upper.leadingZeroBitCount > e + 1 else { return nil }
                value = UInt128(m)
                upperScaled = upper << e
                lowerScaled = lower << e
            }
            if value > upperScaled {
                q = q.nextUp
            } else if value < lowerScaled {
                q = q.nextDown
            } else if value == upperScaled {
                return bigM & 1 == 0 ? q : q.nextUp
            } else if value == lowerScaled {
                return bigM & 1 == 0 ? q : q.nextDown
            } else {
                return q
            }
        }
        return nil
    }

    /// The value of the eight ASCII digits at `bytes[i...]`, or nil when they are not all
    /// digits (the SWAR method of simdjson: one load, three multiplications).
    @inline(__always)
    private static func eightDigits(_ bytes: UnsafeRawBufferPointer, at i: Int) -> UInt64? {
        let x = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
        let high: UInt64 = 0xF0F0_F0F0_F0F0_F0F0
        guard (x & high) | (((x &+ 0x0606_0606_0606_0606) & high) >> 4) == 0x3333_3333_3333_3333 else { return nil }
        var v = x & 0x0F0F_0F0F_0F0F_0F0F
        v = (v &* 2561) >> 8
        v = ((v & 0x00FF_00FF_00FF_00FF) &* 6_553_601) >> 16
        return ((v & 0x0000_FFFF_0000_FFFF) &* 42_949_672_960_001) >> 32
    }
}
