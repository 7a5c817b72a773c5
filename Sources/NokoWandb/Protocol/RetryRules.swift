import Foundation
import NokoRemoteSync

/// wandb-core's retry rules as the engine's data (docs/wandb-protocol.md, "Retries").
enum RetryRules {
    /// Which client's rules apply.
    enum Endpoint {
        case fileStream
        case graphQL
        /// UpsertBucket also retries 409 (a conflict while the run is being created).
        case upsertBucket
        /// A run file's PUT: go-retryablehttp's default policy, which retries 429, 5xx
        /// (but 501) and connection errors, and no other 4xx.
        case upload
    }

    /// wandb-core's `filestreamimpl`/`clients` rules: 200–300 is success; 400, 401, 403,
    /// 404, 409, 410, 413, 422 and 501 are fatal (409 is retried for UpsertBucket);
    /// everything else (429, other 4xx/5xx, 0, ≥ 600) is retried, up to the policy's
    /// number of tries for the endpoint.
    static func rule(for endpoint: Endpoint, policy: WandbRetryPolicy) -> RetryRule {
        if endpoint == .upload {
            return RetryRule(
                successStatuses: 200...299, fatalStatuses: Set(400...499).subtracting([429]).union([501]),
                retries: policy.uploadRetries, backoff: backoff(policy))
        }
        var fatal: Set<Int> = [400, 401, 403, 404, 409, 410, 413, 422, 501]
        if endpoint == .upsertBucket { fatal.remove(409) }
        return RetryRule(
            successStatuses: 200...300, fatalStatuses: fatal,
            retries: endpoint == .fileStream ? policy.fileStreamRetries : policy.graphQLRetries,
            backoff: backoff(policy))
    }

    static func backoff(_ policy: WandbRetryPolicy) -> Backoff {
        Backoff(minimumWait: policy.minimumWait, maximumWait: policy.maximumWait, maximumRetryAfter: policy.maximumRetryAfter)
    }

    static func verdict(status: Int, endpoint: Endpoint) -> RetryRule.Verdict {
        rule(for: endpoint, policy: WandbRetryPolicy()).verdict(status: status)
    }

    /// The wait before try `attempt + 1` under `policy`.
    static func delay(
        attempt: Int, retryAfter: String?, policy: WandbRetryPolicy, now: Date = Date(),
        random: Double = Double.random(in: 0..<1)
    ) -> Duration {
        backoff(policy).delay(attempt: attempt, retryAfter: retryAfter, now: now, random: random)
    }

    /// One clear sentence for a fatal status; 401 is the common one.
    static func fatalMessage(status: Int, what: String, serverMessage: String?) -> String {
        let detail = serverMessage.map { ": \($0)" } ?? ""
        switch status {
        case 401: return "wandb rejected the API key (HTTP 401 on \(what)); check WANDB_API_KEY or ~/.netrc"
        case 403: return "wandb refused access (HTTP 403 on \(what))\(detail); check the entity and project, and that the key may write to them"
        case 404: return "wandb has no such endpoint or project (HTTP 404 on \(what))\(detail); check WANDB_BASE_URL, the entity and the project"
        case 400: return "wandb rejected the request as invalid (HTTP 400 on \(what))\(detail)"
        default: return "wandb refused \(what) with HTTP \(status)\(detail)"
        }
    }
}
