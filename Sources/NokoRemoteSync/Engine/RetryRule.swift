import Foundation

/// Which answers of one endpoint are retried, how many times, and how long to wait in
/// between: data a remote hands the engine with every request (``RemoteRequest``), so that
/// one retry loop serves every remote.
package struct RetryRule: Sendable, Equatable {
    /// What to do with a status.
    package enum Verdict: Sendable, Equatable {
        case success
        case retry
        case fatal
    }

    /// Statuses that mean the request went through.
    package var successStatuses: ClosedRange<Int>
    /// Statuses not worth retrying; every other status (and a transport error) is retried.
    package var fatalStatuses: Set<Int>
    /// Tries after the first.
    package var retries: Int
    /// How long to wait before each retry.
    package var backoff: Backoff

    package init(successStatuses: ClosedRange<Int> = 200...299, fatalStatuses: Set<Int>, retries: Int, backoff: Backoff) {
        self.successStatuses = successStatuses
        self.fatalStatuses = fatalStatuses
        self.retries = retries
        self.backoff = backoff
    }

    package func verdict(status: Int) -> Verdict {
        if successStatuses.contains(status) { return .success }
        return fatalStatuses.contains(status) ? .fatal : .retry
    }
}

/// Exponential backoff with jitter: wait = min(maximum, minimum · 2^attempt · (1 + 0.25·random));
/// a `Retry-After` header replaces the computed wait, up to `maximumRetryAfter`.
package struct Backoff: Sendable, Equatable {
    /// The first wait.
    package var minimumWait: Duration
    /// The longest computed wait.
    package var maximumWait: Duration
    /// The longest `Retry-After` honoured (a server asking for more gets this).
    package var maximumRetryAfter: Duration

    package init(minimumWait: Duration, maximumWait: Duration, maximumRetryAfter: Duration) {
        self.minimumWait = minimumWait
        self.maximumWait = maximumWait
        self.maximumRetryAfter = maximumRetryAfter
    }

    /// The wait before try `attempt + 1` (0-based `attempt`): exponential with 25 % jitter,
    /// or exactly what `Retry-After` asks (capped).
    package func delay(
        attempt: Int, retryAfter: String?, now: Date = Date(), random: Double = Double.random(in: 0..<1)
    ) -> Duration {
        if let retryAfter, let asked = Backoff.parseRetryAfter(retryAfter, now: now) {
            return min(asked, maximumRetryAfter)
        }
        let base = minimumWait.seconds * pow(2, Double(min(attempt, 62))) * (1 + 0.25 * random)
        return min(.seconds(base), maximumWait)
    }

    /// `Retry-After` as seconds (`"3"`) or an HTTP-date (`"Wed, 21 Oct 2015 07:28:00 GMT"`).
    package static func parseRetryAfter(_ value: String, now: Date) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed), seconds >= 0, seconds.isFinite { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return .seconds(max(0, date.timeIntervalSince(now)))
    }
}
