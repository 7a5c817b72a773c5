import Foundation
import NokoCore
import NokoPlatform
import Synchronization

/// The registry of seedable generators: every library registers its global generator once,
/// and `seedAll` seeds them all from one root seed.
///
/// Each generator gets its own seed, derived from the root seed and the generator's name
/// (``derivedSeed(root:name:)``), so adding a library never changes another's stream.
///
/// ```swift
/// Seeding.register(name: "my-sim") { seed in MySim.rng = MyRNG(seed: seed) }
/// ```
public enum Seeding {
    /// Seeds and names, as `seeds.json` records them.
    public struct Record: Sendable, Equatable {
        /// The root seed.
        public var root: UInt64
        /// The seed each registered generator received, by name.
        public var generators: [String: UInt64]
        /// The seed of each named stream handed out by `Noko.generator(named:)`.
        public var streams: [String: UInt64]

        /// A record of seeds.
        public init(root: UInt64, generators: [String: UInt64], streams: [String: UInt64]) {
            self.root = root
            self.generators = generators
            self.streams = streams
        }

        /// Reads `seeds.json`'s content; `path` names the file in errors.
        package init(json: JSONValue, path: String) throws(LogFileError) {
            guard let root = json["root_seed"]?.intValue else {
                throw LogFileError(path: path, message: "expected an integer \"root_seed\"")
            }
            func seeds(_ key: String) -> [String: UInt64] {
                (json[key]?.objectValue ?? [:]).compactMapValues { $0.intValue.map { UInt64(bitPattern: $0) } }
            }
            self.init(root: UInt64(bitPattern: root), generators: seeds("generators"), streams: seeds("streams"))
        }

        /// The `seeds.json` of run directory `directory` (a rank's directory for rank > 0);
        /// nil when it has none.
        package static func read(from directory: URL) throws(LogFileError) -> Record? {
            let url = RunLayout(directory).seeds
            guard let json = try RunFileFormat.readJSON(url) else { return nil }
            return try Record(json: json, path: url.path)
        }

        /// Writes `seeds.json` into `directory`, atomically.
        package func write(to directory: URL) throws(NokoSystemError) {
            try RunFileFormat.write(json, to: RunLayout(directory).seeds)
        }

        /// `seeds.json`'s content.
        public var json: JSONValue {
            func object(_ seeds: [String: UInt64]) -> JSONValue { .object(seeds.mapValues { .int(Int64(bitPattern: $0)) }) }
            return [
                "root_seed": .int(Int64(bitPattern: root)), "generators": object(generators), "streams": object(streams),
                "derivation": "seed(name) = splitmix64_mix(root + 0x9E3779B97F4A7C15 * fnv1a64(name)) & 0x7FFFFFFFFFFFFFFF",
            ]
        }
    }

    private struct State {
        var generators: [(name: String, seed: @Sendable (UInt64) -> Void)] = []
        var record: Record?
    }

    private static let state = Mutex(State())

    /// The seed of the generator called `name` under root seed `root`: stable across
    /// versions, independent of other registrations, and below 2^63 (so it is an ordinary
    /// integer in any JSON reader).
    ///
    /// `seed(name) = splitmix64_mix(root &+ 0x9E3779B97F4A7C15 &* fnv1a64(name)) & (2^63 - 1)`
    public static func derivedSeed(root: UInt64, name: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return SplitMix64.mix(root &+ 0x9E37_79B9_7F4A_7C15 &* hash) & 0x7FFF_FFFF_FFFF_FFFF
    }

    /// Registers a global generator; `seed` is called with its derived seed by every
    /// ``seedAll(_:)`` (and at once, if noko has already been seeded). Registering a name
    /// again replaces the earlier registration and returns true.
    @discardableResult
    public static func register(name: String, _ seed: @escaping @Sendable (UInt64) -> Void) -> Bool {
        let (replaced, root) = state.withLock { s -> (Bool, UInt64?) in
            let replaced = s.generators.contains { $0.name == name }
            s.generators.removeAll { $0.name == name }
            s.generators.append((name, seed))
            if let root = s.record?.root { s.record?.generators[name] = derivedSeed(root: root, name: name) }
            return (replaced, s.record?.root)
        }
        if let root { seed(derivedSeed(root: root, name: name)) }
        return replaced
    }

    /// The names of the registered generators, in registration order.
    public static var registeredNames: [String] { state.withLock { $0.generators.map(\.name) } }

    /// Seeds every registered generator from `root` and returns what each received.
    @discardableResult
    public static func seedAll(_ root: UInt64) -> Record {
        registerBuiltIns()
        let (generators, record) = state.withLock { s -> ([(name: String, seed: @Sendable (UInt64) -> Void)], Record) in
            var record = Record(root: root, generators: [:], streams: s.record?.root == root ? s.record!.streams : [:])
            for g in s.generators { record.generators[g.name] = derivedSeed(root: root, name: g.name) }
            s.record = record
            return (s.generators, record)
        }
        for g in generators { g.seed(record.generators[g.name]!) }
        return record
    }

    /// The last ``seedAll(_:)`` record, with the streams handed out since.
    public static var current: Record? { state.withLock { $0.record } }

    static func noteStream(_ name: String, seed: UInt64) {
        state.withLock { $0.record?.streams[name] = seed }
    }

    private static let builtIns: Void = {
        register(name: "noko") { seed in SharedGenerator.global.withLock { $0 = Xoshiro256StarStar(seed: seed) } }
        register(name: "libc.srand") { seed in CLibrary.seedRand(UInt32(truncatingIfNeeded: seed)) }
        register(name: "libc.srandom") { seed in CLibrary.seedRandom(UInt32(truncatingIfNeeded: seed)) }
        register(name: "libc.srand48") { seed in CLibrary.seedRand48(Int(truncatingIfNeeded: seed)) }
    }()

    /// noko's own generator and the C library's are registered before anything is seeded.
    static func registerBuiltIns() { _ = builtIns }
}
