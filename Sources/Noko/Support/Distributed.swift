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

    /// The variables that make a process believe it is one rank of a distributed job (those
    /// read above, and what torchrun, SLURM's tasks, Open MPI and PMI set with them): a
    /// launcher starting whole runs inside such a job (a sweep's trials) clears them.
    package static let rankVariables = [
        "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK", "GROUP_WORLD_SIZE", "ROLE_RANK",
        "ROLE_WORLD_SIZE", "ROLE_NAME", "MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_RUN_ID", "TORCHELASTIC_RESTART_COUNT",
        "TORCHELASTIC_MAX_RESTARTS", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NODEID", "SLURM_STEP_ID",
        "SLURM_STEPID", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
        "OMPI_COMM_WORLD_LOCAL_SIZE", "PMI_RANK", "PMI_SIZE", "PMIX_RANK",
    ]

    /// True when several processes share one run.
    public var isDistributed: Bool { worldSize > 1 }
}
