import Foundation

/// Where this process sits in a distributed job, from the launchers' environment variables.
public struct DistributedContext: Sendable, Equatable {
    /// This process's rank (0 owns the run).
    public var rank: Int
    /// The number of processes.
    public var worldSize: Int
    /// The job's id when a scheduler gave one (`SLURM_JOB_ID`, `TORCHELASTIC_RUN_ID`).
    public var jobID: String?

    /// A single-process run.
    public static let single = DistributedContext(rank: 0, worldSize: 1, jobID: nil)

    /// A context with explicit values (tests, custom launchers).
    public init(rank: Int, worldSize: Int, jobID: String? = nil) {
        self.rank = rank
        self.worldSize = worldSize
        self.jobID = jobID
    }

    /// Reads `RANK`/`WORLD_SIZE` (torchrun), then `SLURM_PROCID`/`SLURM_NTASKS`, then
    /// `OMPI_COMM_WORLD_RANK`/`OMPI_COMM_WORLD_SIZE`.
    public init(environment: [String: String]) {
        let pairs = [("RANK", "WORLD_SIZE"), ("SLURM_PROCID", "SLURM_NTASKS"), ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE")]
        var rank = 0, size = 1
        for (r, s) in pairs {
            if let value = environment[r].flatMap({ Int($0) }) {
                rank = value
                size = environment[s].flatMap { Int($0) } ?? max(1, value + 1)
                break
            }
        }
        self.init(rank: rank, worldSize: max(size, rank + 1), jobID: environment["SLURM_JOB_ID"] ?? environment["TORCHELASTIC_RUN_ID"])
    }

    /// True when several processes share one run.
    public var isDistributed: Bool { worldSize > 1 }
}
