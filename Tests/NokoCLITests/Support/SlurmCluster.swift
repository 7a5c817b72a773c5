import Foundation
import Testing

/// A real one-node SLURM cluster for the tests, started once per test process by
/// `scripts/slurm-local` (which installs `slurm-wlm` and `munge` when missing, as root) and
/// stopped by it when this process ends (`--owner`: it watches our pid).
enum SlurmCluster {
    /// Whether the SLURM tests run: `make test` (and so CI) sets `NOKO_REQUIRE_INTEROP=1`,
    /// which makes a cluster that cannot start a failure; elsewhere they run where SLURM is
    /// installed or can be (root).
    static var isAvailable: Bool {
        ProcessInfo.processInfo.environment["NOKO_REQUIRE_INTEROP"] == "1" || getuid() == 0
            || FileManager.default.isExecutableFile(atPath: "/usr/bin/sbatch")
    }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scripts/slurm-local")

    /// `SLURM_CONF=…` for the clients, or why the cluster did not start.
    private static let started: Result<String, SlurmError> = {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("noko-slurm-\(getpid())")
        let process = Process()
        process.executableURL = script
        process.arguments = ["start", state.path, "--owner", String(getpid())]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { return .failure(SlurmError("cannot run \(script.path): \(error)")) }
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let messages = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let line = output.split(separator: "\n").first(where: { $0.hasPrefix("SLURM_CONF=") })
        else {
            return .failure(SlurmError("scripts/slurm-local start failed (exit \(process.terminationStatus)):\n\(messages)"))
        }
        return .success(String(line.dropFirst("SLURM_CONF=".count)))
    }()

    /// The environment for SLURM's clients (and the tasks, which inherit the submitter's):
    /// `base` plus `SLURM_CONF`. Throws, naming the reason, when the cluster cannot start.
    static func environment(_ base: [String: String]) throws -> [String: String] {
        var environment = base
        environment["SLURM_CONF"] = try started.get()
        environment["PATH"] = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
        return environment
    }

    struct SlurmError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Runs a SLURM client (`squeue`, `sbatch`, `scancel`) and returns its standard output.
    @discardableResult
    static func client(_ arguments: [String], environment: [String: String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw SlurmError("\(arguments.joined(separator: " ")) failed (exit \(process.terminationStatus))")
        }
        return output
    }

    /// Waits until SLURM has none of `jobs`' tasks left (pending or running).
    static func waitUntilDone(_ jobs: [String], environment: [String: String], timeout: Double = 180) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let left = try client(["squeue", "--noheader", "--array", "--jobs", jobs.joined(separator: ","), "--format", "%i %T"], environment: environment)
            if left.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return }
            Thread.sleep(forTimeInterval: 0.5)
        }
        throw SlurmError("jobs \(jobs.joined(separator: ",")) still in SLURM's queue after \(Int(timeout)) s")
    }
}
