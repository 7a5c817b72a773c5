import Foundation

/// Which launch-time inputs `initExtra` reads (``RunOptions/launchInputs``).
public enum LaunchInputs: Sendable, Equatable {
    /// `path=value` and `--config FILE` arguments, and `NOKO_CONFIG` and `NOKO_OVERRIDES`
    /// from the environment (the default).
    case argumentsAndEnvironment
    /// Only `NOKO_CONFIG` and `NOKO_OVERRIDES`: for programs whose own arguments contain
    /// `=` or a `--config` option. The command line is left to the program.
    case environment
    /// None: the config is the code's.
    case none
}

/// What the command line and the environment give at launch, split from the program's
/// own arguments.
struct LaunchArguments: Sendable, Equatable {
    /// Config files, lowest precedence first (`NOKO_CONFIG`, then each `--config`).
    var configFiles: [(source: LaunchSource, path: String)] = []
    /// Overrides, lowest precedence first (`NOKO_OVERRIDES`, then the arguments).
    var overrides: [ConfigOverride] = []
    /// `--noko-help` was given.
    var helpRequested = false
    /// argv without noko's arguments (argv[0] kept).
    var programArguments: [String] = []

    static let helpFlag = "--noko-help"
    static let configFlag = "--config"
    static let configVariable = "NOKO_CONFIG"
    static let overridesVariable = "NOKO_OVERRIDES"

    /// True when anything would change the code's config.
    var changesConfig: Bool { !configFiles.isEmpty || !overrides.isEmpty }

    static func == (lhs: LaunchArguments, rhs: LaunchArguments) -> Bool {
        lhs.configFiles.map { "\($0.source)\u{0}\($0.path)" } == rhs.configFiles.map { "\($0.source)\u{0}\($0.path)" }
            && lhs.overrides == rhs.overrides && lhs.helpRequested == rhs.helpRequested
            && lhs.programArguments == rhs.programArguments
    }

    /// Splits `argv` and reads `environment`; throws for a `--config` without a file, and
    /// for a `NOKO_OVERRIDES` that is not a list of overrides.
    init(argv: [String], environment: [String: String], inputs: LaunchInputs) throws(LaunchConfigError) {
        programArguments = argv
        guard inputs != .none else { return }
        if let file = environment[Self.configVariable], !file.isEmpty {
            configFiles.append((.configEnvironment, file))
        }
        if let text = environment[Self.overridesVariable] {
            for word in try ShellWords.split(text, source: Self.overridesVariable) {
                guard let override = ConfigOverride(word, source: .overridesEnvironment) else {
                    throw LaunchConfigError(
                        "\(Self.overridesVariable): '\(SecretRedactor.strippingCredentials(word))' is not an override (path=value, +path=value, ++path=value or ~path)")
                }
                overrides.append(override)
            }
        }
        guard inputs == .argumentsAndEnvironment, let program = argv.first else { return }
        programArguments = [program]
        var i = 1
        while i < argv.count {
            let argument = argv[i]
            i += 1
            if argument == Self.helpFlag {
                helpRequested = true
            } else if argument == Self.configFlag {
                guard i < argv.count, !argv[i].isEmpty else {
                    throw LaunchConfigError("\(Self.configFlag) needs a file: \(Self.configFlag) FILE (JSON or YAML)")
                }
                configFiles.append((.configArgument, argv[i]))
                i += 1
            } else if argument.hasPrefix(Self.configFlag + "=") {
                let file = String(argument.dropFirst(Self.configFlag.count + 1))
                guard !file.isEmpty else {
                    throw LaunchConfigError("\(Self.configFlag)= needs a file: \(Self.configFlag)=FILE (JSON or YAML)")
                }
                configFiles.append((.configArgument, file))
            } else if let override = ConfigOverride(argument, source: .argument) {
                overrides.append(override)
            } else {
                programArguments.append(argument)
            }
        }
    }
}

/// Why the launch-time config could not be applied: an unknown path, a value that does not
/// fit its field, a malformed file. It names the path, the value and where it came from.
public struct LaunchConfigError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The whole message.
    public let description: String

    init(_ description: String) { self.description = description }
}
