import Foundation

/// Which answers are retried, and how long to wait (wandb-protocol.md §7).
enum RetryRules {
    /// What to do with a status.
    enum Verdict: Equatable {
        case success
        case retry
        case fatal
    }

    /// Which client's rules apply.
    enum Endpoint {
        case fileStream
        case graphQL
        /// UpsertBucket also retries 409 (a conflict while the run is being created).
        case upsertBucket
    }

    /// wandb-core's `filestreamimpl`/`clients` rules: 200–300 is success; 400, 401, 403,
    /// 404, 409, 410, 413, 422 and 501 are fatal (409 is retried for UpsertBucket);
    /// everything else (429, other 4xx/5xx, 0, ≥ 600) is retried.
    static func verdict(status: Int, endpoint: Endpoint) -> Verdict {
        if (200...300).contains(status) { return .success }
        if status == 409 && endpoint == .upsertBucket { return .retry }
        if [400, 401, 403, 404, 409, 410, 413, 422, 501].contains(status) { return .fatal }
        return .retry
    }

    /// The wait before try `attempt + 1` (0-based `attempt`): exponential with 25 % jitter,
    /// or exactly what `Retry-After` asks (capped).
    static func delay(
        attempt: Int, retryAfter: String?, policy: WandbRetryPolicy, now: Date = Date(),
        random: Double = Double.random(in: 0..<1)
    ) -> Duration {
        if let retryAfter, let asked = parseRetryAfter(retryAfter, now: now) {
            return min(asked, policy.maximumRetryAfter)
        }
        let base = policy.minimumWait.seconds * pow(2, Double(min(attempt, 62))) * (1 + 0.25 * random)
        return min(.seconds(base), policy.maximumWait)
    }

    /// `Retry-After` as seconds (`"3"`) or an HTTP-date (`"Wed, 21 Oct 2015 07:28:00 GMT"`).
    static func parseRetryAfter(_ value: String, now: Date) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed), seconds >= 0, seconds.isFinite { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return .seconds(max(0, date.timeIntervalSince(now)))
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
