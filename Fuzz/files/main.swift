// fuzz-files: libFuzzer over what noko reads that a person may have edited — the run
// directory's JSON files (metadata.json, summary.json, overrides.json, seeds.json,
// sweep.json), config files (JSON or YAML, `--config`/`NOKO_CONFIG`) and overrides
// (`lr=0.1`, `NOKO_OVERRIDES`) — (`make fuzz`; built only with NOKO_FUZZ set).
//
// Each input is a file's text, and also a list of override arguments (one per line). The
// properties checked:
// - nothing traps, whatever the bytes: bad input is an error naming the file or the key;
// - an override's path, written back the way noko spells it, parses to the same path;
// - the config resolved from the overrides and the file is encoded and decoded again
//   unchanged (what `config.json` records is what the program got).
import Foundation
import FuzzDriver
@testable import Noko
@testable import NokoCore

private let directory = FileManager.default.temporaryDirectory
    .appendingPathComponent("noko-fuzz-files-\(ProcessInfo.processInfo.processIdentifier)")

/// A config with a field of each kind overrides meet.
private struct Config: Codable, Equatable {
    struct Model: Codable, Equatable {
        var layers = 2
        var widths = [64, 32]
        var activation: String? = "relu"
    }
    var lr = 0.1
    var epochs = 3
    var name = "run"
    var flag = false
    var model = Model()
    var extra: [String: Double] = [:]
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFiles(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: data, count: size))
    if let json = try? JSONValue(parsing: bytes) {
        _ = try? RunMetadata.decode(json, path: "metadata.json")
        _ = try? RunStatistics(json: json, path: "summary.json")
        _ = try? OverridesFile(json: json, path: "overrides.json")
        _ = try? SweepFile(json: json, path: "sweep.json")
        _ = try? Seeding.Record(json: json, path: "seeds.json")
    }
    let text = String(decoding: bytes, as: UTF8.self)
    var overrides: [String] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).prefix(16) {
        let word = String(line)
        overrides.append(word)
        guard let override = ConfigOverride(word, source: .argument) else { continue }
        guard let again = ConfigPath(parsing: Substring(override.path.description)), again == override.path else {
            fatalError("override path \(override.path) does not read back as itself: \(Array(word.utf8))")
        }
    }
    _ = try? ShellWords.split(text, source: "NOKO_OVERRIDES")

    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    // No extension: the reader tells JSON from YAML by the first character, as for any name.
    let file = directory.appendingPathComponent("config")
    if (try? Data(bytes).write(to: file)) != nil {
        _ = try? LaunchConfigFile(source: .configArgument, path: file.path)
    }
    if let arguments = try? LaunchArguments(argv: ["fuzz"] + overrides, environment: [:], inputs: .argumentsAndEnvironment),
        let (config, _) = try? LaunchConfig.resolve(Config(), arguments)
    {
        guard let encoded = try? JSONEncoder().encode(config), let decoded = try? JSONDecoder().decode(Config.self, from: encoded),
            decoded == config || config.lr.isNaN || config.extra.values.contains(where: \.isNaN)
        else {
            fatalError("the resolved config does not survive encoding: \(config), from \(overrides)")
        }
    }
    return 0
}

@_cdecl("fuzz_files_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runLibFuzzer(argc, argv) { data, size in fuzzFiles(data, size) }
}
