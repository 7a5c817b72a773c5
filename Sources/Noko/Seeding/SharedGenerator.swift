import Foundation
import NokoCore
import Synchronization

/// `Noko.random`: one global generator that any thread may draw from.
///
/// Draws are serialized by a lock, so the sequence of numbers is reproducible, but which
/// thread gets which number is not when several threads draw at once: give such code its
/// own stream with `Noko.generator(named:)`.
public struct SharedGenerator: RandomNumberGenerator, Sendable {
    static let global = Mutex(Xoshiro256StarStar(seed: UInt64.random(in: .min ... .max)))

    /// A handle on the global generator.
    public init() {}

    public mutating func next() -> UInt64 {
        SharedGenerator.global.withLock { $0.next() }
    }
}

extension Noko {
    /// The global generator: `Float.random(in: 0..<1, using: &Noko.random)`,
    /// `xs.shuffled(using: &Noko.random)`. Seeded by `initExtra` from `config.seed`
    /// (unseeded until then).
    public static var random: SharedGenerator {
        get { SharedGenerator() }
        // A handle has no state of its own; `inout` use just needs a setter.
        set {}
    }

    /// An independent stream for `name`, derived from the root seed (or random when noko is
    /// not seeded): give each thread or component its own, so results do not depend on
    /// which thread draws first. The same name gives the same stream in every run with the
    /// same seed.
    public static func generator(named name: String) -> Xoshiro256StarStar {
        Seeding.registerBuiltIns()
        guard let root = Seeding.current?.root else { return Xoshiro256StarStar(seed: UInt64.random(in: .min ... .max)) }
        let seed = Seeding.derivedSeed(root: root, name: "stream:" + name)
        Seeding.noteStream(name, seed: seed)
        return Xoshiro256StarStar(seed: seed)
    }
}
