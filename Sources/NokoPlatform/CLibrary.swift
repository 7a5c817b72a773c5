#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The C library's number parsing, shell patterns and random generators.
package enum CLibrary {
    /// The double nearest to number text already known to be valid (JSON's grammar), by
    /// `strtod(3)` on a NUL-terminated copy: correctly rounded, for the numbers fast paths
    /// leave over.
    package static func parseDouble(_ text: UnsafeRawBufferPointer) -> Double {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: text.count + 1) { buffer in
            for i in 0..<text.count { buffer[i] = CChar(bitPattern: text[i]) }
            buffer[text.count] = 0
            return strtod(buffer.baseAddress!, nil)
        }
    }

    /// Whether `name` matches the shell pattern `pattern` (`fnmatch(3)` without flags: `*`,
    /// `?` and `[…]`; `*` also matches `/`).
    package static func matchesShellPattern(_ pattern: String, _ name: String) -> Bool {
        fnmatch(pattern, name, 0) == 0
    }

    /// Seeds `rand(3)`'s generator (`srand(3)`).
    package static func seedRand(_ seed: UInt32) { srand(seed) }
    /// Seeds `random(3)`'s generator (`srandom(3)`).
    package static func seedRandom(_ seed: UInt32) { srandom(seed) }
    /// Seeds `drand48(3)`'s generator (`srand48(3)`).
    package static func seedRand48(_ seed: Int) { srand48(seed) }

    /// One draw from each C library generator, for tests of seeding: `rand()`, `random()`,
    /// `drand48()`.
    package static func drawFromGenerators() -> (rand: Int32, random: Int, drand48: Double) {
        (rand(), random(), drand48())
    }
}
