/// xoshiro256** (Blackman and Vigna, 2018): noko's generator. Fast, 256 bits of state,
/// passes BigCrush; the reference is Vigna's `xoshiro256starstar.c`.
///
/// Seeding from a single `UInt64` fills the state with four outputs of ``SplitMix64``, as
/// the authors recommend.
public struct Xoshiro256StarStar: SeedableGenerator, Sendable, Equatable {
    private var s0, s1, s2, s3: UInt64

    /// The stream determined by `seed`.
    public init(seed: UInt64) {
        var expander = SplitMix64(seed: seed)
        s0 = expander.next()
        s1 = expander.next()
        s2 = expander.next()
        s3 = expander.next()
    }

    /// A generator with this exact state (not all zero), for checking reference outputs.
    public init(state: (UInt64, UInt64, UInt64, UInt64)) {
        precondition(state != (0, 0, 0, 0), "xoshiro256** must not start from the all-zero state")
        (s0, s1, s2, s3) = state
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = Self.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = Self.rotl(s3, 45)
        return result
    }
}
