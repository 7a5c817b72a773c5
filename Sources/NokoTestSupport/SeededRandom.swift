import Foundation

/// The generator for fuzz and property tests: seeded from `NOKO_TEST_SEED` when set, else
/// from a fresh random seed, which is printed with the test's name so a failure can be
/// replayed (`NOKO_TEST_SEED=<seed> swift test --filter <test>`). SplitMix64 underneath.
package struct SeededRandom: RandomNumberGenerator, Sendable {
    /// The seed this generator started from; put it in failure messages.
    package let seed: UInt64
    private var state: UInt64

    /// A generator for the test `name` (its function name by default), its seed printed.
    package init(_ name: String = #function, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let seed = environment["NOKO_TEST_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: .min ... .max)
        self.init(seed: seed)
        print("\(name): seed \(seed) (replay with NOKO_TEST_SEED=\(seed))")
    }

    /// A generator from `seed`, printing nothing.
    package init(seed: UInt64) {
        self.seed = seed
        state = seed
    }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
