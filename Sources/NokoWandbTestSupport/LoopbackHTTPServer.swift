#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation
import Synchronization

/// A minimal HTTP/1.1 server on 127.0.0.1, for tests and benchmarks that must not touch
/// the network: keep-alive, `Content-Length` bodies, `Expect: 100-continue`, one thread
/// per connection. The handler decides each answer, including misbehaving ones.
public final class LoopbackHTTPServer: Sendable {
    /// A request as received.
    public struct Request: Sendable {
        /// `POST`, `GET`, …
        public var method: String
        /// The request target as sent: a path, or an absolute URL when sent to a proxy.
        public var target: String
        /// Header fields in order.
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]
        /// Which accepted connection carried it (1, 2, …): equal ids mean a reused connection.
        public var connectionID: Int

        /// The first header named `name` (case-insensitive).
        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        /// The path without scheme, authority or query.
        public var path: String {
            var rest = Substring(target)
            if let scheme = rest.range(of: "://") {
                rest = rest[scheme.upperBound...]
                rest = rest.firstIndex(of: "/").map { rest[$0...] } ?? "/"
            }
            if let query = rest.firstIndex(of: "?") { rest = rest[..<query] }
            return String(rest)
        }
    }

    /// What to do with a request.
    public enum Action: Sendable {
        /// Answer it.
        case respond(status: Int, headers: [(String, String)], body: [UInt8])
        /// Close the connection without answering.
        case drop
        /// Never answer; the connection stays open until the client gives up or the server
        /// stops.
        case hold
    }

    private let handler: @Sendable (Request) -> Action
    private let listener = Mutex<Listener?>(nil)
    /// Open connections. A descriptor is closed only under this lock, after leaving the
    /// set, so `stop` never shuts down a number the kernel has already given to someone else.
    private let connections = Mutex<Set<Int32>>([])
    private let nextConnectionID = Atomic<Int>(0)
    private let boundPort = Atomic<Int>(0)

    private struct Listener: Sendable {
        let fd: Int32
        /// Signalled by the accept thread once it has closed `fd`.
        let closed: DispatchSemaphore
    }

    /// Starts listening on an ephemeral port of 127.0.0.1.
    public init(handler: @escaping @Sendable (Request) -> Action) throws {
        self.handler = handler
        try startListening(port: 0)
    }

    /// The port it listens on.
    public var port: Int { boundPort.load(ordering: .relaxed) }

    /// Closes the listening socket and every connection (clients see resets and refusals).
    public func stop() {
        let old = listener.withLock { current -> Listener? in
            defer { current = nil }
            if let current { shutdown(current.fd, Int32(SHUT_RDWR)) }
            return current
        }
        // The accept thread closes the socket; wait, so the port is free for `restart`.
        _ = old?.closed.wait(timeout: .now() + 5)
        connections.withLock { open in
            for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    /// Stops, then listens again on the same port: a server restart.
    public func restart(after pause: Duration = .zero) throws {
        stop()
        if pause > .zero { Thread.sleep(forTimeInterval: Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18) }
        try startListening(port: port)
    }

    private func startListening(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerError("socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 128) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw ServerError("bind/listen on 127.0.0.1:\(port): \(message)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        boundPort.store(Int(UInt16(bigEndian: actual.sin_port)), ordering: .relaxed)
        let current = Listener(fd: fd, closed: DispatchSemaphore(value: 0))
        listener.withLock { $0 = current }
        let thread = Thread { [self] in acceptLoop(current) }
        thread.name = "loopback-accept"
        thread.start()
    }

    private func acceptLoop(_ current: Listener) {
        defer {
            close(current.fd)
            current.closed.signal()
        }
        while true {
            let client = accept(current.fd, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return  // shut down by `stop`
            }
            var one: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            connections.withLock { _ = $0.insert(client) }
            let id = nextConnectionID.add(1, ordering: .relaxed).newValue
            let thread = Thread { [self] in serve(client, connectionID: id) }
            thread.name = "loopback-connection-\(id)"
            thread.start()
        }
    }

    private func serve(_ fd: Int32, connectionID: Int) {
        defer {
            connections.withLock {
                _ = $0.remove(fd)
                close(fd)
            }
        }
        var buffer = ConnectionBuffer(fd: fd)
        while let head = buffer.readHead() {
            let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
            let requestLine = lines.first?.split(separator: " ") ?? []
            guard requestLine.count >= 2 else { return }
            var headers: [(name: String, value: String)] = []
            for line in lines.dropFirst() where !line.isEmpty {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
            func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name }?.value }
            if header("transfer-encoding")?.lowercased().contains("chunked") == true {
                _ = sendAll(fd, Array("HTTP/1.1 411 Length Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
                return
            }
            let length = Int(header("content-length") ?? "0") ?? 0
            if header("expect")?.lowercased() == "100-continue" {
                guard sendAll(fd, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) else { return }
            }
            guard let body = buffer.readBody(length) else { return }
            let request = Request(
                method: String(requestLine[0]), target: String(requestLine[1]), headers: headers, body: body,
                connectionID: connectionID)
            switch handler(request) {
            case .drop:
                return
            case .hold:
                // Wait for the client to hang up (or the server to stop).
                var probe = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                while poll(&probe, 1, 1000) >= 0 {
                    if probe.revents != 0 { return }
                }
                return
            case .respond(let status, let extra, let body):
                var head = "HTTP/1.1 \(status) \(LoopbackHTTPServer.reason(status))\r\n"
                head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
                for (name, value) in extra { head += "\(name): \(value)\r\n" }
                head += "\r\n"
                guard sendAll(fd, Array(head.utf8) + body) else { return }
            }
        }
    }

    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }
}

/// Buffered reads of one connection.
private struct ConnectionBuffer {
    let fd: Int32
    var bytes: [UInt8] = []
    var start = 0

    init(fd: Int32) {
        self.fd = fd
        bytes.reserveCapacity(1 << 16)
    }

    /// Reads up to and including the blank line that ends the head; nil at EOF.
    mutating func readHead() -> String? {
        var searchFrom = start
        while true {
            let end = bytes.withUnsafeBufferPointer { buffer -> Int? in
                var i = searchFrom
                while i + 3 < buffer.count {
                    if buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 { return i }
                    i += 1
                }
                return nil
            }
            if let end {
                let head = String(decoding: bytes[start..<end], as: UTF8.self)
                start = end + 4
                return head
            }
            searchFrom = max(start, bytes.count - 3)
            guard fill() else { return nil }
        }
    }

    mutating func readBody(_ length: Int) -> [UInt8]? {
        while bytes.count - start < length {
            guard fill() else { return nil }
        }
        let body = Array(bytes[start..<(start + length)])
        start += length
        if start == bytes.count {
            bytes.removeAll(keepingCapacity: true)
            start = 0
        }
        return body
    }

    private mutating func fill() -> Bool {
        if start > 0 && start == bytes.count {
            bytes.removeAll(keepingCapacity: true)
            start = 0
        }
        while true {
            let n = withUnsafeTemporaryAllocation(byteCount: 1 << 18, alignment: 1) { chunk -> Int in
                let n = recv(fd, chunk.baseAddress!, chunk.count, 0)
                if n > 0 { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[..<n])) }
                return n
            }
            if n < 0 && errno == EINTR { continue }
            return n > 0
        }
    }
}

/// The server could not start.
public struct ServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
