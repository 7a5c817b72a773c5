import Foundation
@testable import NokoWandb
import NokoRemoteSync
import NokoCore
import NokoWandbTestSupport
import Synchronization
import Testing

@Suite struct HTTPClientTests {
    private let secret = "s3cr3t-api-key-0123456789abcdef0123456789"

    private func echoServer(status: Int = 200, headers: [(String, String)] = [], delay: Double = 0) throws -> (LoopbackHTTPServer, Locked<[LoopbackHTTPServer.Request]>) {
        let seen = Locked<[LoopbackHTTPServer.Request]>([])
        let server = try LoopbackHTTPServer { request in
            seen.update { $0.append(request) }
            if delay > 0 { Thread.sleep(forTimeInterval: delay) }
            return .respond(status: status, headers: headers, body: Array(#"{"ok":true}"#.utf8))
        }
        return (server, seen)
    }

    @Test func postsJSONWithBasicAuthAndReusesTheConnection() throws {
        let (server, seen) = try echoServer()
        let client = try HTTPClient(configuration: HTTPClientConfiguration(username: "api", password: secret))
        for i in 0..<3 {
            let response = try client.post(url: "http://127.0.0.1:\(server.port)/graphql", body: Array("{\"i\":\(i)}".utf8), timeout: .seconds(5))
            #expect(response.status == 200)
            #expect(response.body == Array(#"{"ok":true}"#.utf8))
            if i > 0 { #expect(client.lastConnectCount == 0) }
        }
        let requests = seen.value
        #expect(requests.count == 3)
        #expect(Set(requests.map(\.connectionID)).count == 1)
        #expect(requests[2].body == Array("{\"i\":2}".utf8))
        #expect(requests[0].method == "POST")
        #expect(requests[0].header("Content-Type") == "application/json")
        #expect(requests[0].header("Authorization") == "Basic " + Data("api:\(secret)".utf8).base64EncodedString())
        #expect(requests[0].header("Expect") == nil)
        #expect(requests[0].header("Content-Length") == "7")
    }

    @Test func aBearerTokenGoesAsAuthorizationBearerAndNeverToAnUploadURL() throws {
        let (server, seen) = try echoServer()
        let traced = Locked<[String]>([])
        let client = try HTTPClient(configuration: HTTPClientConfiguration(bearerToken: secret, trace: { line in traced.update { $0.append(line) } }))
        let base = "http://127.0.0.1:\(server.port)"
        _ = try client.post(url: base + "/api/2.0/mlflow/runs/log-batch", body: Array("{}".utf8), timeout: .seconds(5))
        _ = try client.send(method: "PUT", url: base + "/signed", body: [1, 2], headers: HTTPClient.uploadHeaders, credentials: false, timeout: .seconds(5))
        _ = try client.post(url: base + "/again", body: Array("{}".utf8), timeout: .seconds(5))
        let requests = seen.value
        #expect(requests.map { $0.header("Authorization") } == ["Bearer " + secret, nil, "Bearer " + secret])
        #expect(!traced.value.joined().contains(secret), "the token never reaches the trace")
    }

    @Test func errorStatusesAreAnswersAndHeadersAreRead() throws {
        let (server, _) = try echoServer(status: 429, headers: [("Retry-After", "3")])
        let client = try HTTPClient(configuration: HTTPClientConfiguration())
        let response = try client.post(url: "http://127.0.0.1:\(server.port)/x", body: Array("{}".utf8), timeout: .seconds(5))
        #expect(response.status == 429)
        #expect(response.header("retry-after") == "3")
    }

    @Test func aRefusedConnectionIsATransportError() throws {
        let (server, _) = try echoServer()
        let port = server.port
        server.stop()
        let client = try HTTPClient(configuration: HTTPClientConfiguration(password: secret))
        #expect {
            _ = try client.post(url: "http://127.0.0.1:\(port)/x", body: [0x7B, 0x7D], timeout: .seconds(5))
        } throws: { error in
            guard let error = error as? HTTPClientError, case .transport(let code, let message) = error else { return false }
            return code == 7 && !message.contains(secret)
        }
    }

    @Test func aSlowAnswerHitsTheTimeout() throws {
        // Bounds are far from the server's delay, so a loaded machine cannot make this flaky.
        let (server, _) = try echoServer(delay: 10)
        let client = try HTTPClient(configuration: HTTPClientConfiguration())
        let start = ContinuousClock.now
        #expect {
            _ = try client.post(url: "http://127.0.0.1:\(server.port)/x", body: [0x7B, 0x7D], timeout: .milliseconds(200))
        } throws: { error in (error as? HTTPClientError)?.isTimeout == true }
        #expect(ContinuousClock.now - start < .seconds(5), "the timeout, not the server, ended the request")
    }

    @Test func cancelAbortsARequestInFlightAtOnce() throws {
        let server = try LoopbackHTTPServer { _ in .hold }
        let client = try HTTPClient(configuration: HTTPClientConfiguration())
        let cancellation = client.cancellation
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { cancellation.cancel() }
        let start = ContinuousClock.now
        #expect(throws: HTTPClientError.self) {
            _ = try client.post(url: "http://127.0.0.1:\(server.port)/x", body: [0x7B, 0x7D], timeout: .seconds(30))
        }
        #expect(ContinuousClock.now - start < .seconds(10), "cancel ended the request long before its 30 s timeout")
        #expect(throws: HTTPClientError.self) {
            _ = try client.post(url: "http://127.0.0.1:\(server.port)/x", body: [0x7B, 0x7D], timeout: .seconds(30))
        }
    }

    @Test func theTraceNeverShowsTheKeyOrTheAuthorizationHeader() throws {
        let (server, _) = try echoServer()
        let lines = Locked<[String]>([])
        let client = try HTTPClient(configuration: HTTPClientConfiguration(
            username: "api", password: secret, trace: { line in lines.update { $0.append(line) } }))
        _ = try client.post(url: "http://127.0.0.1:\(server.port)/graphql", body: Array("{}".utf8), timeout: .seconds(5))
        let trace = lines.value
        #expect(trace.contains { $0.hasPrefix("> POST /graphql") })
        #expect(trace.contains("> Authorization: <redacted>"))
        #expect(trace.contains { $0.hasPrefix("< HTTP/1.1 200") })
        let basic = Data("api:\(secret)".utf8).base64EncodedString()
        #expect(!trace.contains { $0.contains(secret) || $0.contains(basic) })
    }

    @Test func honoursTheProxyFromTheInjectedEnvironment() throws {
        // The "proxy" is our loopback server: a proxied request carries the absolute URL.
        let (proxy, seen) = try echoServer()
        let settings = ProxySettings(environment: ["http_proxy": "http://127.0.0.1:\(proxy.port)"], scheme: "http")
        let client = try HTTPClient(configuration: HTTPClientConfiguration(proxy: settings))
        let response = try client.post(url: "http://wandb.invalid:8080/graphql", body: Array("{}".utf8), timeout: .seconds(5))
        #expect(response.status == 200)
        #expect(seen.value.first?.target == "http://wandb.invalid:8080/graphql")

        // no_proxy sends the host direct.
        let (direct, directSeen) = try echoServer()
        let bypass = ProxySettings(environment: ["http_proxy": "http://127.0.0.1:1", "no_proxy": "127.0.0.1"], scheme: "http")
        let directClient = try HTTPClient(configuration: HTTPClientConfiguration(proxy: bypass))
        _ = try directClient.post(url: "http://127.0.0.1:\(direct.port)/x", body: Array("{}".utf8), timeout: .seconds(5))
        #expect(directSeen.value.first?.target == "/x")
    }
}
