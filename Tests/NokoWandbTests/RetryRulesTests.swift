import Foundation
@testable import NokoWandb
import NokoRemoteSync
import Testing

@Suite struct RetryRulesTests {
    @Test func retriesExactlyTheStatusesTheSpecLists() {
        for status in [200, 204, 300] { #expect(RetryRules.verdict(status: status, endpoint: .fileStream) == .success) }
        for status in [400, 401, 403, 404, 409, 410, 413, 422, 501] {
            #expect(RetryRules.verdict(status: status, endpoint: .fileStream) == .fatal, "\(status)")
            #expect(RetryRules.verdict(status: status, endpoint: .graphQL) == .fatal, "\(status)")
        }
        for status in [0, 301, 408, 429, 500, 502, 503, 504, 600, 799] {
            #expect(RetryRules.verdict(status: status, endpoint: .fileStream) == .retry, "\(status)")
        }
        #expect(RetryRules.verdict(status: 409, endpoint: .upsertBucket) == .retry)
        #expect(RetryRules.verdict(status: 400, endpoint: .upsertBucket) == .fatal)
    }

    @Test func backsOffExponentiallyWithJitterUpToTheMaximum() {
        let policy = WandbRetryPolicy()
        #expect(RetryRules.delay(attempt: 0, retryAfter: nil, policy: policy, random: 0) == .seconds(2))
        #expect(RetryRules.delay(attempt: 1, retryAfter: nil, policy: policy, random: 0) == .seconds(4))
        #expect(RetryRules.delay(attempt: 3, retryAfter: nil, policy: policy, random: 0) == .seconds(16))
        #expect(RetryRules.delay(attempt: 2, retryAfter: nil, policy: policy, random: 0.999).seconds > 9.99)
        #expect(RetryRules.delay(attempt: 2, retryAfter: nil, policy: policy, random: 0.999).seconds < 10)
        #expect(RetryRules.delay(attempt: 10, retryAfter: nil, policy: policy, random: 0.5) == .seconds(60))
        #expect(RetryRules.delay(attempt: 1000, retryAfter: nil, policy: policy, random: 0.5) == .seconds(60))
    }

    @Test func retryAfterReplacesTheComputedWait() {
        let policy = WandbRetryPolicy()
        #expect(RetryRules.delay(attempt: 5, retryAfter: "3", policy: policy) == .seconds(3))
        #expect(RetryRules.delay(attempt: 0, retryAfter: "0.5", policy: policy) == .milliseconds(500))
        #expect(RetryRules.delay(attempt: 0, retryAfter: "100000", policy: policy) == .seconds(600))
        let now = Date(timeIntervalSince1970: 1_445_412_470)  // 2015-10-21 07:27:50 GMT
        #expect(RetryRules.delay(attempt: 0, retryAfter: "Wed, 21 Oct 2015 07:28:00 GMT", policy: policy, now: now) == .seconds(10))
        // Garbage is ignored: the computed backoff applies.
        #expect(RetryRules.delay(attempt: 0, retryAfter: "soon", policy: policy, random: 0) == .seconds(2))
    }

    @Test func saysClearlyWhenTheKeyIsRejected() {
        #expect(RetryRules.fatalMessage(status: 401, what: "x", serverMessage: nil).hasPrefix("wandb rejected the API key"))
    }
}
