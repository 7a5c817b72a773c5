import Foundation
import NokoCore

/// A remote the sync engine mirrors runs on: wandb today, MLflow next.
///
/// The engine (``SyncEngine``) does what every remote needs: it follows the journals from
/// the byte offsets the remote acknowledged, keeps the cursor (`sync/<name>.json`) and the
/// lock against a second uploader, paces and retries requests, runs the sync thread,
/// finishes within a time limit and reports progress. A remote translates rows into
/// requests and interprets the answers; its object lives on the sync thread alone.
///
/// One session, in the order the engine calls it:
/// 1. ``open(_:link:)`` creates the remote run, or reopens it (resume, `noko-run sync`).
/// 2. Per request: ``beginBatch(_:)``, ``add(_:rank:)`` for each new journal row until it
///    answers ``RowFate/full``, ``endBatch()``, then ``send(_:cursor:link:)`` with the
///    user's summary keys and, in the last request, the run's exit code; after the answer,
///    ``commit(_:to:)`` makes the batch part of the cursor, which the engine saves.
/// 3. ``heartbeat(_:link:)`` while nothing is new, when the pacing asks for one.
///
/// Row batches (wandb's history lines, MLflow's metrics), the run's parameters and tags
/// (sent by `open` from ``RemoteRunInfo``), run status (the exit code of the last batch)
/// each have their place; a remote that needs none of one (MLflow has no heartbeat) leaves
/// it out with ``SyncPacing/heartbeatInterval`` nil.
package protocol SyncRemote: AnyObject {
    associatedtype Cursor: SyncCursor
    associatedtype Record: RemoteRecord

    /// `sync/<name>.json`, `sync/<name>.lock`, and the remote's word in messages (`wandb`).
    var name: String { get }
    /// Online uploads; offline only keeps the user's summary keys in the cursor, for
    /// `noko-run sync` to upload later.
    var isOnline: Bool { get }
    /// The HTTP client's set-up: credentials, proxy, connect timeout. Its password and the
    /// proxy's are redacted from every message.
    var http: HTTPClientConfiguration { get }
    /// Whether libcurl's trace goes to the messages at debug level.
    var tracesHTTP: Bool { get }
    /// How often requests go.
    var pacing: SyncPacing { get }

    /// Where the run lives, as `cursor` says.
    func record(of cursor: Cursor) -> Record

    /// Creates the remote run or reopens it, and records in `cursor` what it learned (the
    /// run's ID, what the server already holds). The engine saves the cursor after it.
    func open(_ cursor: inout Cursor, link: RemoteLink) -> RemoteStep

    /// A new batch begins, after what `cursor` acknowledged.
    func beginBatch(_ cursor: Cursor)
    /// Adds one complete journal line (without its newline) of rank `rank`'s journal.
    func add(_ line: UnsafeRawBufferPointer, rank: Int) -> RowFate
    /// No more rows for this batch: the remote adds what it sends besides rows (wandb's
    /// console lines) and says how much.
    func endBatch() -> BatchExtras
    /// Sends the batch, the user's summary keys when they changed, and the run's end when
    /// `batch.exitCode` is set; the engine retries nothing itself: ``RemoteLink/send(_:)``
    /// does, by each request's rule.
    func send(_ batch: SyncBatch, cursor: inout Cursor, link: RemoteLink) -> RemoteStep
    /// Makes the batch part of `cursor`: after `send` went through, and after a batch of
    /// skipped rows only (nothing to send, but the offsets moved).
    func commit(_ batch: SyncBatch, to cursor: inout Cursor)
    /// Sends what changed about the run (the whole config, its name, tags, notes: every
    /// change since the session began) and records it in `cursor`, which the engine saves after.
    func update(_ update: RunUpdate, cursor: inout Cursor, link: RemoteLink) -> RemoteStep
    /// Keeps an idle remote run alive (called only when ``SyncPacing/heartbeatInterval``
    /// is set).
    func heartbeat(_ cursor: Cursor, link: RemoteLink) -> RemoteStep
    /// One clear sentence for a status the request's rule calls fatal.
    func describeRefusal(status: Int, what: String, serverMessage: String?) -> String
}

/// How often a remote is sent requests.
package struct SyncPacing: Sendable, Equatable {
    /// At most one request per interval after the first, except that a request which hit
    /// the batch limit is followed at once, and at finish everything goes without waiting.
    package var transmitInterval: Duration
    /// An empty request keeps the run alive after this long without one; nil: never.
    package var heartbeatInterval: Duration?

    package init(transmitInterval: Duration, heartbeatInterval: Duration?) {
        self.transmitInterval = transmitInterval
        self.heartbeatInterval = heartbeatInterval
    }
}

/// What became of one journal row handed to a remote.
package enum RowFate: Sendable, Equatable {
    /// In the batch.
    case accepted
    /// Consumed without being uploaded (below the remote's level threshold).
    case skipped
    /// Not a JSON object: skipped, with one warning per journal.
    case malformed(String)
    /// A JSON object but not a noko row: skipped, with one warning per journal.
    case invalid(String)
    /// Larger than a whole request: dropped with a warning saying why.
    case tooBig(table: String, reason: String)
    /// Does not fit in this batch: read again for the next one.
    case full
}

/// What a batch carries besides journal rows: lines the remote reads from other files of
/// the run (wandb: the console, `output.log`).
package struct BatchExtras: Sendable, Equatable {
    /// Lines in the batch.
    package var items: Int
    /// True when more are waiting than fit in the batch.
    package var more: Bool

    package static let none = BatchExtras(items: 0, more: false)

    package init(items: Int, more: Bool) {
        self.items = items
        self.more = more
    }
}

/// What one request carries beyond the rows the remote gathered.
package struct SyncBatch: Sendable {
    /// Rows accepted into the batch.
    package var rows: Int
    /// Lines besides rows (``BatchExtras``).
    package var extras: Int = 0
    /// True when the batch stopped at its limit: more rows are waiting.
    package var full: Bool
    /// The user's summary keys now.
    package var userSummary: [String: JSONValue]
    /// True when they changed since the remote last acknowledged them.
    package var userSummaryChanged: Bool
    /// Set in the session's last request: the run's exit code, to finish the remote run with.
    package var exitCode: Int32?
    /// With ``exitCode``: when the run ended (Unix seconds), if known.
    package var endTime: Double? = nil
}

/// How a step of a session went.
package enum RemoteStep: Sendable, Equatable {
    case done
    /// A fatal answer or an unusable one; the message says which (redacted by the engine).
    case failed(String)
    case cancelled
}

/// One HTTP request a remote asks the engine to send.
package struct RemoteRequest: Sendable {
    package var url: String
    package var body: [UInt8]
    /// The whole-request limit per try.
    package var timeout: Duration
    /// Which answers are retried, how often, with what waits.
    package var rule: RetryRule
    /// What the request does, for messages: "uploading rows (file_stream)".
    package var what: String
    /// `POST`, or `PUT` for a file upload.
    package var method = "POST"
    /// The header lines; nil: a JSON request's (``HTTPClient/jsonHeaders``).
    package var headers: [String]? = nil
    /// False for a URL that authorizes itself (a signed upload URL): the remote's credentials
    /// stay off it.
    package var sendsCredentials = true

    package init(url: String, body: [UInt8], timeout: Duration, rule: RetryRule, what: String) {
        self.url = url
        self.body = body
        self.timeout = timeout
        self.rule = rule
        self.what = what
    }

    /// A raw upload of `body` by `PUT` to `url`, without the remote's credentials, with
    /// `headers` besides the upload's own (``HTTPClient/uploadHeaders``).
    package static func upload(
        to url: String, body: [UInt8], headers: [String], timeout: Duration, rule: RetryRule, what: String
    ) -> RemoteRequest {
        var request = RemoteRequest(url: url, body: body, timeout: timeout, rule: rule, what: what)
        request.method = "PUT"
        request.headers = HTTPClient.uploadHeaders + headers
        request.sendsCredentials = false
        return request
    }
}

/// The answer a remote gets for a request, after the engine's retries.
package enum RemoteAnswer: Sendable {
    case ok(HTTPResponse)
    case failed(String)
    case cancelled
}
