import Foundation
import NokoCore
import NokoPlatform

/// Facts about the machine and process that `metadata.json` records.
enum SystemInfo {
    static var hostName: String { CurrentProcess.hostName }

    static func userName(environment: [String: String]) -> String? {
        CurrentProcess.userName ?? environment["USER"]
    }

    /// Kernel name and release from `uname`, and the distribution's pretty name.
    static var operatingSystem: (os: String, kernel: String) {
        let uname = CurrentProcess.kernel
        let kernel = "\(uname.name) \(uname.release) \(uname.machine)"
        var os = uname.name
        if let bytes = (try? FileSystem.readIfPresent("/etc/os-release")) ?? nil,
            case let release = String(decoding: bytes, as: UTF8.self),
            let line = release.split(separator: "\n").first(where: { $0.hasPrefix("PRETTY_NAME=") })
        {
            os = line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return (os, kernel)
    }

    /// The Swift language version the program was compiled with.
    static var swiftVersion: String {
        #if swift(>=6.5)
        return "6.5+"
        #elseif swift(>=6.4)
        return "6.4"
        #elseif swift(>=6.3)
        return "6.3"
        #elseif swift(>=6.2)
        return "6.2"
        #elseif swift(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }

    /// Environment variables worth recording, by name or prefix: what describes the hardware
    /// and the job, never credentials. Everything else is left out.
    static let environmentAllowList: [String] = [
        "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS", "RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
        "TORCHELASTIC_RUN_ID", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
        "NOKO_RUN_NAME", "NOKO_RUNS_DIR", "NOKO_CONFIG", "NOKO_PARQUET", "NOKO_NO_CHECKPOINT", "HOSTNAME",
    ]
    static let environmentAllowedPrefixes = ["SLURM_JOB_", "SLURM_ARRAY_", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_NODEID",
        "SLURM_LOCALID", "SLURM_CPUS_", "SLURM_GPUS", "SLURM_NNODES", "SLURM_NODELIST", "SLURM_STEP_ID"]

    /// The allow-listed variables, with URL credentials stripped.
    static func capturedEnvironment(_ environment: [String: String]) -> [String: String] {
        var captured: [String: String] = [:]
        for (name, value) in environment
        where environmentAllowList.contains(name) || environmentAllowedPrefixes.contains(where: name.hasPrefix) {
            // A name that looks secret is never recorded, even under an allowed prefix.
            guard !SecretKeys.isSecret(name) else { continue }
            captured[name] = Redaction.strippingCredentials(value)
        }
        return captured
    }
}

/// Keeps credentials out of what noko records on its own.
enum Redaction {
    static let placeholder = "<redacted>"

    /// `value` with the user name and password removed from every URL in it
    /// (`https://u:p@host` → `https://host`, also inside `--db=postgres://u:p@h/x`); other
    /// text unchanged.
    static func strippingCredentials(_ value: String) -> String {
        guard value.contains("@"), value.contains("://") else { return value }
        // Between "scheme://" and the next "@" (before any "/"), drop everything: userinfo.
        var result = ""
        var rest = Substring(value)
        while let scheme = rest.range(of: "://") {
            result += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" || $0 == " " } ?? rest.endIndex
            if let at = rest[..<authorityEnd].lastIndex(of: "@") {
                rest = rest[rest.index(after: at)...]
            }
        }
        return result + rest
    }

    /// The command line with credentials removed: the value after a secret-looking option
    /// (`--api-key X`, `--token=X`), the value of an override of a secret-looking config key
    /// (`apiKey=X`), and URL userinfo.
    static func commandLine(_ argv: [String]) -> [String] {
        var result: [String] = []
        var hideNext = false
        for argument in argv {
            if hideNext {
                result.append(placeholder)
                hideNext = false
                continue
            }
            if let override = ConfigOverride(argument, source: .argument), override.path.isSecret {
                result.append(strippingCredentials(override.recordedText))
                continue
            }
            if argument.hasPrefix("-") {
                let name = argument.drop { $0 == "-" }
                if let equals = name.firstIndex(of: "=") {
                    if SecretKeys.isSecret(String(name[..<equals])) {
                        result.append(String(argument.prefix(argument.count - name[equals...].count + 1)) + placeholder)
                        continue
                    }
                } else if SecretKeys.isSecret(String(name)) {
                    hideNext = true
                }
            }
            result.append(strippingCredentials(argument))
        }
        return result
    }
}

/// Which keys name secrets: words, not substrings, so `max_tokens` and `tokenizer` are
/// ordinary config while `api_key`, `hf_token`, `authToken`, `db_password` are secrets.
enum SecretKeys {
    static let words: Set<String> = [
        "token", "secret", "secrets", "password", "passwd", "passphrase", "credential", "credentials",
        "apikey", "auth", "privatekey", "accesskey",
    ]
    /// Words that make a following "key" a secret: `api_key`, `wandb_key`, `private_key`.
    static let keyQualifiers: Set<String> = ["api", "access", "private", "secret", "wandb", "hf", "openai", "aws"]

    /// True when a word of `key` (split at non-letters and camelCase humps) is a secret
    /// word, or "key" follows one of ``keyQualifiers``.
    static func isSecret(_ key: String) -> Bool {
        let words = split(key)
        if words.contains(where: SecretKeys.words.contains) { return true }
        return zip(words, words.dropFirst()).contains { keyQualifiers.contains($0) && $1 == "key" }
    }

    static func split(_ key: String) -> [String] {
        var words: [String] = []
        var current = ""
        var previousLower = false
        for character in key {
            if !(character.isLetter || character.isNumber) {
                if !current.isEmpty { words.append(current) }
                current = ""
                previousLower = false
                continue
            }
            if character.isUppercase, previousLower, !current.isEmpty {
                words.append(current)
                current = ""
            }
            current.append(contentsOf: character.lowercased())
            previousLower = character.isLowercase || character.isNumber
        }
        if !current.isEmpty { words.append(current) }
        return words
    }
}
