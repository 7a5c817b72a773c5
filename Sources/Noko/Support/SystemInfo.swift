import Foundation
import NokoCore
import NokoPlatform

/// Facts about the machine and process that `metadata.json` records.
package enum SystemInfo {
    static var hostName: String { CurrentProcess.hostName }

    static func userName(environment: [String: String]) -> String? {
        CurrentProcess.userName ?? environment["USER"]
    }

    /// Kernel name and release from `uname`, and the distribution's pretty name.
    package static var operatingSystem: (os: String, kernel: String) {
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
        "NOKO_RUN_NAME", "NOKO_RUNS_DIR", "NOKO_CONFIG", "NOKO_PARQUET", "NOKO_NO_CHECKPOINT", "NOKO_CHECKPOINT", "HOSTNAME",
    ]
    static let environmentAllowedPrefixes = ["SLURM_JOB_", "SLURM_ARRAY_", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_NODEID",
        "SLURM_LOCALID", "SLURM_CPUS_", "SLURM_GPUS", "SLURM_NNODES", "SLURM_NODELIST", "SLURM_STEP_ID"]

    /// The allow-listed variables, through the secret rules (URL credentials, tokens).
    static func capturedEnvironment(_ environment: [String: String]) -> [String: String] {
        var captured: [String: String] = [:]
        for (name, value) in environment
        where environmentAllowList.contains(name) || environmentAllowedPrefixes.contains(where: name.hasPrefix) {
            // A name that looks secret is never recorded, even under an allowed prefix.
            guard !SecretRules.isSecretKey(name) else { continue }
            captured[name] = SecretRedactor.standard.redact(value).text
        }
        return captured
    }
}
