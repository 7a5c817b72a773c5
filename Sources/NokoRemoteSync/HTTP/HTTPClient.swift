import CCurl
import Foundation
import Synchronization

/// What an HTTP client is set up with, once.
package struct HTTPClientConfiguration: Sendable {
    /// Basic-auth user (wandb: the literal `api`).
    package var username: String?
    /// Basic-auth password (wandb: the API key). Held by libcurl only; never logged.
    package var password: String?
    /// A token sent as `Authorization: Bearer` instead of Basic auth (MLflow's
    /// `MLFLOW_TRACKING_TOKEN`). Held by libcurl only (`CURLOPT_XOAUTH2_BEARER`); never logged.
    package var bearerToken: String?
    package var connectTimeout: Duration
    package var proxy: ProxySettings
    package var userAgent: String
    /// Receives libcurl's connection and header trace, credentials already redacted; nil
    /// turns tracing off.
    package var trace: (@Sendable (String) -> Void)?

    package init(
        username: String? = nil, password: String? = nil, bearerToken: String? = nil, connectTimeout: Duration = .seconds(20),
        proxy: ProxySettings = ProxySettings(), userAgent: String = "noko-swift",
        trace: (@Sendable (String) -> Void)? = nil
    ) {
        self.username = username
        self.password = password
        self.bearerToken = bearerToken
        self.connectTimeout = connectTimeout
        self.proxy = proxy
        self.userAgent = userAgent
        self.trace = trace
    }
}

/// A response of any status: HTTP errors are data, not exceptions.
package struct HTTPResponse: Sendable {
    package var status: Int
    /// Header fields of the final response, in order.
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]

    /// The first header named `name` (case-insensitive).
    package func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// The request never got a complete response.
package enum HTTPClientError: Error, Sendable, CustomStringConvertible {
    /// Connection refused or reset, DNS, TLS, timeout…: libcurl's code and message.
    case transport(code: Int32, message: String)
    /// ``HTTPCancellation/cancel()`` was called.
    case cancelled
    /// libcurl could not be set up.
    case setup(String)

    package var description: String {
        switch self {
        case .transport(let code, let message): return "\(message) (curl error \(code))"
        case .cancelled: return "cancelled"
        case .setup(let message): return "cannot set up libcurl: \(message)"
        }
    }

    /// True when a per-try timeout expired (`CURLE_OPERATION_TIMEDOUT`).
    package var isTimeout: Bool {
        if case .transport(let code, _) = self { return code == Int32(CURLE_OPERATION_TIMEDOUT.rawValue) }
        return false
    }
}

/// A small blocking HTTP client over one libcurl easy handle, driven through a multi
/// handle so that another thread can abort it at once (``HTTPCancellation``).
///
/// One handle means one kept-alive connection, reused request after request, and strictly
/// serial requests, which is what an append-only stream (wandb's file_stream) wants. TLS is verified (libcurl's
/// default, never turned off); redirects are not followed, so credentials never travel to
/// another host; proxies come from ``ProxySettings``; the `Authorization` header and the
/// password never reach the trace or an error message.
///
/// Not thread-safe: use it from one thread; only ``cancellation`` is shared.
package final class HTTPClient {
    /// Aborts the request in flight and every later one.
    package let cancellation: HTTPCancellation

    private let easy: UnsafeMutableRawPointer
    private let sink: ResponseSink
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let username: String?
    private let password: String?
    private let bearerToken: String?
    private var hasCredentials: Bool { username != nil || password != nil || bearerToken != nil }

    /// The headers of a JSON request. "Expect:" turns off 100-continue: one round trip per
    /// request, as wandb-core.
    package static let jsonHeaders = ["Content-Type: application/json", "Accept: application/json", "Expect:"]
    /// The headers of a raw upload: no `Content-Type` at all (an empty value removes
    /// libcurl's own), as wandb-core's PUT of a run file.
    package static let uploadHeaders = ["Content-Type:", "Expect:"]

    package init(configuration: HTTPClientConfiguration) throws(HTTPClientError) {
        guard CurlGlobal.initialized else { throw .setup("curl_global_init failed") }
        guard let easy = curl_easy_init() else { throw .setup("curl_easy_init failed") }
        guard let multi = curl_multi_init() else {
            curl_easy_cleanup(easy)
            throw .setup("curl_multi_init failed")
        }
        self.easy = easy
        self.cancellation = HTTPCancellation(multi: multi)
        self.username = configuration.username
        self.password = configuration.password
        self.bearerToken = configuration.bearerToken
        let size = Int(noko_curl_error_size())
        self.errorBuffer = .allocate(capacity: size)
        errorBuffer.initialize(repeating: 0, count: size)
        let secrets = [configuration.password, configuration.bearerToken, configuration.proxy.proxy.flatMap(ProxySettings.password(in:))]
        self.sink = ResponseSink(trace: configuration.trace, redactor: Redactor(secrets: secrets))
        try configure(configuration)
    }

    deinit {
        curl_easy_cleanup(easy)
        if let headerList { curl_slist_free_all(headerList) }
        errorBuffer.deallocate()
    }

    private func configure(_ configuration: HTTPClientConfiguration) throws(HTTPClientError) {
        var failures: [String] = []
        func check(_ code: CURLcode, _ what: String) {
            if code != CURLE_OK { failures.append("\(what): \(String(cString: curl_easy_strerror(code)))") }
        }
        func setString(_ option: CURLoption, _ value: String, _ what: String) {
            // libcurl copies string options, so the temporary C string may go.
            check(value.withCString { noko_curl_easy_setopt_string(easy, option, $0) }, what)
        }
        check(noko_curl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1), "NOSIGNAL")
        check(noko_curl_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1), "TCP_KEEPALIVE")
        check(noko_curl_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0), "FOLLOWLOCATION")
        check(noko_curl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1), "SSL_VERIFYPEER")
        check(noko_curl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2), "SSL_VERIFYHOST")
        setString(CURLOPT_PROTOCOLS_STR, "http,https", "PROTOCOLS_STR")
        check(
            noko_curl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, configuration.connectTimeout.milliseconds),
            "CONNECTTIMEOUT_MS")
        setString(CURLOPT_USERAGENT, configuration.userAgent, "USERAGENT")
        // An empty proxy string makes libcurl ignore its own reading of the environment, so
        // only the injected environment decides.
        setString(CURLOPT_PROXY, configuration.proxy.proxy ?? "", "PROXY")
        if let noProxy = configuration.proxy.noProxy { setString(CURLOPT_NOPROXY, noProxy, "NOPROXY") }
        if hasCredentials { setCredentials(on: true) }
        headerList = Self.list(Self.jsonHeaders)
        check(noko_curl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList), "HTTPHEADER")
        check(noko_curl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer), "ERRORBUFFER")
        let context = Unmanaged.passUnretained(sink).toOpaque()
        check(noko_curl_easy_setopt_callback(easy, CURLOPT_WRITEFUNCTION, curlBodyCallback), "WRITEFUNCTION")
        check(noko_curl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, context), "WRITEDATA")
        check(noko_curl_easy_setopt_callback(easy, CURLOPT_HEADERFUNCTION, curlHeaderCallback), "HEADERFUNCTION")
        check(noko_curl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, context), "HEADERDATA")
        if configuration.trace != nil {
            check(noko_curl_easy_setopt_debug_callback(easy, curlTraceCallback), "DEBUGFUNCTION")
            check(noko_curl_easy_setopt_pointer(easy, CURLOPT_DEBUGDATA, context), "DEBUGDATA")
            check(noko_curl_easy_setopt_long(easy, CURLOPT_VERBOSE, 1), "VERBOSE")
        }
        if !failures.isEmpty { throw .setup(failures.joined(separator: "; ")) }
    }

    /// POSTs `body` to `url` as JSON, with the client's credentials, and waits for the whole
    /// response, at most `timeout`.
    package func post(url: String, body: [UInt8], timeout: Duration) throws(HTTPClientError) -> HTTPResponse {
        try send(method: "POST", url: url, body: body, headers: nil, credentials: true, timeout: timeout)
    }

    /// Sends one request and waits for the whole response, at most `timeout`.
    ///
    /// - Parameters:
    ///   - method: `POST` or `PUT`; the body goes with either.
    ///   - headers: The request's header lines (`"Name: value"`); nil: ``jsonHeaders``.
    ///   - credentials: False sends the request without the client's Basic auth or token, for a URL
    ///     that carries its own authorization (a signed upload URL on another host).
    package func send(
        method: String, url: String, body: [UInt8], headers: [String]?, credentials: Bool, timeout: Duration
    ) throws(HTTPClientError) -> HTTPResponse {
        if cancellation.isCancelled { throw .cancelled }
        sink.reset()
        errorBuffer[0] = 0
        var setup = url.withCString { noko_curl_easy_setopt_string(easy, CURLOPT_URL, $0) }
        if setup == CURLE_OK { setup = noko_curl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, max(1, timeout.milliseconds)) }
        if setup == CURLE_OK { setup = noko_curl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)) }
        if setup == CURLE_OK, method != "POST" { setup = method.withCString { noko_curl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, $0) } }
        var requestHeaders: UnsafeMutablePointer<curl_slist>?
        if setup == CURLE_OK, let headers {
            requestHeaders = Self.list(headers)
            setup = noko_curl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, requestHeaders)
        }
        let withoutCredentials = !credentials && hasCredentials
        if withoutCredentials { setCredentials(on: false) }
        // The handle is left as a JSON POST with credentials, whatever this request changed.
        defer {
            if method != "POST" { _ = noko_curl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, nil) }
            if let requestHeaders {
                _ = noko_curl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList)
                curl_slist_free_all(requestHeaders)
            }
            if withoutCredentials { setCredentials(on: true) }
        }
        guard setup == CURLE_OK else { throw .setup(String(cString: curl_easy_strerror(setup))) }
        // POSTFIELDS points into `body` without a copy; the pointer is only used inside
        // this closure, during the transfer.
        let outcome = body.withUnsafeBytes { raw -> TransferOutcome in
            let pointer = UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(errorBuffer))
            let code = noko_curl_easy_setopt_pointer(easy, CURLOPT_POSTFIELDS, pointer)
            guard code == CURLE_OK else { return .failed(code) }
            let outcome = perform()
            _ = noko_curl_easy_setopt_pointer(easy, CURLOPT_POSTFIELDS, nil)
            return outcome
        }
        switch outcome {
        case .cancelled:
            throw .cancelled
        case .failed(let code):
            let detail = errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
            throw .transport(code: Int32(code.rawValue), message: sink.redactor(detail))
        case .completed:
            var status = 0
            _ = noko_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
            return HTTPResponse(status: status, headers: sink.headers, body: sink.body)
        }
    }

    /// Turns Basic auth with the configured user and password (or the bearer token) on, or
    /// off (no `Authorization` header at all).
    private func setCredentials(on: Bool) {
        if let bearerToken {
            _ = noko_curl_easy_setopt_long(easy, CURLOPT_HTTPAUTH, noko_curlauth_bearer())
            if on {
                _ = bearerToken.withCString { noko_curl_easy_setopt_string(easy, CURLOPT_XOAUTH2_BEARER, $0) }
            } else {
                _ = noko_curl_easy_setopt_string(easy, CURLOPT_XOAUTH2_BEARER, nil)
            }
            return
        }
        if on {
            _ = noko_curl_easy_setopt_long(easy, CURLOPT_HTTPAUTH, noko_curlauth_basic())
            _ = (username ?? "").withCString { noko_curl_easy_setopt_string(easy, CURLOPT_USERNAME, $0) }
            _ = (password ?? "").withCString { noko_curl_easy_setopt_string(easy, CURLOPT_PASSWORD, $0) }
        } else {
            _ = noko_curl_easy_setopt_string(easy, CURLOPT_USERNAME, nil)
            _ = noko_curl_easy_setopt_string(easy, CURLOPT_PASSWORD, nil)
        }
    }

    private static func list(_ headers: [String]) -> UnsafeMutablePointer<curl_slist>? {
        var list: UnsafeMutablePointer<curl_slist>?
        for header in headers { list = header.withCString { curl_slist_append(list, $0) } }
        return list
    }

    /// How many new connections the last request opened (0 when one was reused).
    package var lastConnectCount: Int {
        var count = 0
        _ = noko_curl_easy_getinfo_long(easy, CURLINFO_NUM_CONNECTS, &count)
        return count
    }

    private enum TransferOutcome {
        case completed
        case failed(CURLcode)
        case cancelled
    }

    /// Runs the transfer on the multi handle, polling so that ``HTTPCancellation`` can wake
    /// and abort it.
    private func perform() -> TransferOutcome {
        let multi = cancellation.multi.raw
        let added = curl_multi_add_handle(multi, easy)
        guard added == CURLM_OK else { return .failed(CURLE_FAILED_INIT) }
        defer { curl_multi_remove_handle(multi, easy) }
        var running: Int32 = 1
        while true {
            if cancellation.isCancelled { return .cancelled }
            let performed = curl_multi_perform(multi, &running)
            guard performed == CURLM_OK else { return .failed(CURLE_FAILED_INIT) }
            if running == 0 { break }
            _ = curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        var remaining: Int32 = 0
        var result = CURLE_OK
        while let message = curl_multi_info_read(multi, &remaining) {
            if message.pointee.msg == CURLMSG_DONE { result = message.pointee.data.result }
        }
        return result == CURLE_OK ? .completed : .failed(result)
    }
}

/// The thread-safe half of an ``HTTPClient``: aborts its transfers from any thread.
package final class HTTPCancellation: Sendable {
    fileprivate let multi: MultiPointer
    private let cancelled = Atomic<Bool>(false)

    fileprivate init(multi: UnsafeMutableRawPointer) {
        self.multi = MultiPointer(raw: multi)
    }

    deinit { curl_multi_cleanup(multi.raw) }

    /// Aborts the request in flight (it fails with ``HTTPClientError/cancelled``) and makes
    /// every later request fail the same way.
    package func cancel() {
        cancelled.store(true, ordering: .sequentiallyConsistent)
        curl_multi_wakeup(multi.raw)
    }

    package var isCancelled: Bool { cancelled.load(ordering: .sequentiallyConsistent) }
}

/// The multi handle's pointer. `@unchecked Sendable` is safe because the only call made on
/// it from other threads is `curl_multi_wakeup`, which libcurl documents as callable from
/// any thread; every other call happens on the client's own thread, and the owning
/// ``HTTPCancellation`` frees it only when no thread can reach it any more.
private struct MultiPointer: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer
}

/// `curl_global_init`, exactly once per process (a global `let` is initialised once).
enum CurlGlobal {
    static let initialized: Bool = curl_global_init(noko_curl_global_default()) == CURLE_OK
}

extension HTTPClient {
    /// Initializes libcurl, and with it OpenSSL, unless done already (about half a
    /// millisecond), so that clients keep working inside process exit handlers registered
    /// after this call.
    ///
    /// Exit handlers run in reverse order of registration, and OpenSSL registers its own
    /// cleanup when it is first initialized. Initialized later (lazily, on a sync thread),
    /// OpenSSL would be cleaned up before an exit handler that still uploads (the one that
    /// finishes a run), and that upload would crash the exiting process. The run module calls
    /// this before installing its exit hook; a live remote calls it on the caller's thread
    /// when it starts.
    package static func prepareForUseAtExit() {
        _ = CurlGlobal.initialized
    }
}

/// Where libcurl's callbacks put the response. Used only on the client's thread.
private final class ResponseSink {
    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []
    let trace: (@Sendable (String) -> Void)?
    let redactor: Redactor

    init(trace: (@Sendable (String) -> Void)?, redactor: Redactor) {
        self.trace = trace
        self.redactor = redactor
    }

    func reset() {
        body.removeAll(keepingCapacity: true)
        headers.removeAll()
    }

    func header(line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("HTTP/") {
            // A new status line (after 100 Continue, or a proxy's CONNECT reply): the
            // headers that count are the final response's.
            headers.removeAll()
        } else if let colon = trimmed.firstIndex(of: ":") {
            headers.append((String(trimmed[..<colon]), trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
    }

    /// Passes one chunk of libcurl's trace on, with credential headers blanked out and any
    /// secret removed.
    func traced(kind: String, text: String) {
        guard let trace else { return }
        // `\r\n` is one Character in Swift, so split on `isNewline`, not on "\r" or "\n".
        for line in text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline) {
            var line = String(line)
            let lower = line.lowercased()
            if lower.hasPrefix("authorization:") || lower.hasPrefix("proxy-authorization:") {
                line = String(line[...line.firstIndex(of: ":")!]) + " <redacted>"
            }
            trace("\(kind) \(redactor(line))")
        }
    }
}

private let curlBodyCallback: noko_curl_data_callback = { data, size, count, context in
    let total = size * count
    guard let data, let context else { return total }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    data.withMemoryRebound(to: UInt8.self, capacity: total) { sink.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: total)) }
    return total
}

private let curlHeaderCallback: noko_curl_data_callback = { data, size, count, context in
    let total = size * count
    guard let data, let context else { return total }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    let line = data.withMemoryRebound(to: UInt8.self, capacity: total) {
        String(decoding: UnsafeBufferPointer(start: $0, count: total), as: UTF8.self)
    }
    sink.header(line: line)
    return total
}

private let curlTraceCallback: noko_curl_debug_callback = { _, kind, data, size, context in
    guard let data, let context else { return 0 }
    let label: String
    switch kind {
    case CURLINFO_TEXT: label = "*"
    case CURLINFO_HEADER_OUT: label = ">"
    case CURLINFO_HEADER_IN: label = "<"
    default: return 0  // bodies and TLS records stay out of the trace
    }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    let text = data.withMemoryRebound(to: UInt8.self, capacity: size) {
        String(decoding: UnsafeBufferPointer(start: $0, count: size), as: UTF8.self)
    }
    sink.traced(kind: label, text: text)
    return 0
}

extension Duration {
    /// Whole milliseconds, rounded up, as libcurl's `_MS` options want them.
    package var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int((attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }

    /// Seconds as a double.
    package var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

extension ProxySettings {
    /// The password in a proxy URL's userinfo, so that it too can be redacted.
    package static func password(in proxy: String) -> String? {
        guard let components = URLComponents(string: proxy) else { return nil }
        return components.password
    }
}
