/// A random number generator that can be created from, and reset to, a 64-bit seed: the
/// kind noko can make reproducible.
public protocol SeedableGenerator: RandomNumberGenerator {
    /// A generator whose stream is determined by `seed`.
    init(seed: UInt64)
    /// Restarts the stream as if newly created with `seed`.
    mutating func reseed(_ seed: UInt64)
}

extension SeedableGenerator {
    /// Restarts the stream by making a new generator from `seed`.
    public mutating func reseed(_ seed: UInt64) { self = Self(seed: seed) }
}
