/// SplitMix64 (Steele, Lea and Flood; the reference is Vigna's `splitmix64.c`): tiny and
/// fast, used to expand one 64-bit seed into a larger state and to derive seeds.
public struct SplitMix64: SeedableGenerator, Sendable {
    private var state: UInt64

    /// The stream starting from `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// SplitMix64's output function: a bijective scrambler of 64-bit values.
    @inline(__always)
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
