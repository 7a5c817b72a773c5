import Dispatch
import Foundation
import NokoPlatform
import Synchronization

/// A minimal HTTP/1.1 server on 127.0.0.1, for tests and benchmarks that must not touch
/// the network: keep-alive, `Content-Length` bodies, `Expect: 100-continue`, one thread
/// per connection. The handler decides each answer, including misbehaving ones.
package final class LoopbackHTTPServer: Sendable {
    /// A request as received.
    package struct Request: Sendable {
        /// `POST`, `GET`, …
        package var method: String
        /// The request target as sent: a path, or an absolute URL when sent to a proxy.
        package var target: String
        /// Header fields in order.
        package var headers: [(name: String, value: String)]
        package var body: [UInt8]
        /// Which accepted connection carried it (1, 2, …): equal ids mean a reused connection.
        package var connectionID: Int

        /// The first header named `name` (case-insensitive).
        package func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        /// The path without scheme, authority or query.
        package var path: String {
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
    package enum Action: Sendable {
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
    private let connections = Mutex<Set<LoopbackSocket>>([])
    private let nextConnectionID = Atomic<Int>(0)
    private let boundPort = Atomic<Int>(0)

    private struct Listener: Sendable {
        let socket: LoopbackSocket
        /// Signalled by the accept thread once it has closed `socket`.
        let closed: DispatchSemaphore
    }

    /// Starts listening on an ephemeral port of 127.0.0.1.
    package init(handler: @escaping @Sendable (Request) -> Action) throws {
        self.handler = handler
        try startListening(port: 0)
    }

    /// The port it listens on.
    package var port: Int { boundPort.load(ordering: .relaxed) }

    /// Closes the listening socket and every connection (clients see resets and refusals).
    package func stop() {
        let old = listener.withLock { current -> Listener? in
            defer { current = nil }
            current?.socket.shutdown()
            return current
        }
        // The accept thread closes the socket; wait, so the port is free for `restart`.
        _ = old?.closed.wait(timeout: .now() + 5)
        connections.withLock { open in
            for socket in open { socket.shutdown() }
        }
    }

    /// Stops, then listens again on the same port: a server restart.
    package func restart(after pause: Duration = .zero) throws {
        stop()
        if pause > .zero { Thread.sleep(forTimeInterval: Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18) }
        try startListening(port: port)
    }

    private func startListening(port: Int) throws {
        let (socket, actual): (LoopbackSocket, Int)
        do {
            (socket, actual) = try LoopbackSocket.listen(port: port)
        } catch {
            throw ServerError("\(error)")
        }
        boundPort.store(actual, ordering: .relaxed)
        let current = Listener(socket: socket, closed: DispatchSemaphore(value: 0))
        listener.withLock { $0 = current }
        let thread = Thread { [self] in acceptLoop(current) }
        thread.name = "loopback-accept"
        thread.start()
    }

    private func acceptLoop(_ current: Listener) {
        defer {
            current.socket.close()
            current.closed.signal()
        }
        // nil once `stop` shut the socket down.
        while let client = current.socket.accept() {
            connections.withLock { _ = $0.insert(client) }
            let id = nextConnectionID.add(1, ordering: .relaxed).newValue
            let thread = Thread { [self] in serve(client, connectionID: id) }
            thread.name = "loopback-connection-\(id)"
            thread.start()
        }
    }

    private func serve(_ socket: LoopbackSocket, connectionID: Int) {
        defer {
            connections.withLock {
                _ = $0.remove(socket)
                socket.close()
            }
        }
        var buffer = ConnectionBuffer(socket: socket)
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
                _ = socket.sendAll(Array("HTTP/1.1 411 Length Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
                return
            }
            let length = Int(header("content-length") ?? "0") ?? 0
            if header("expect")?.lowercased() == "100-continue" {
                guard socket.sendAll(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) else { return }
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
                socket.waitForPeer()
                return
            case .respond(let status, let extra, let body):
                var head = "HTTP/1.1 \(status) \(LoopbackHTTPServer.reason(status))\r\n"
                head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
                for (name, value) in extra { head += "\(name): \(value)\r\n" }
                head += "\r\n"
                guard socket.sendAll(Array(head.utf8) + body) else { return }
            }
        }
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
    let socket: LoopbackSocket
    var bytes: [UInt8] = []
    var start = 0

    init(socket: LoopbackSocket) {
        self.socket = socket
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
        let n = withUnsafeTemporaryAllocation(byteCount: 1 << 18, alignment: 1) { chunk -> Int in
            let n = socket.receive(into: chunk)
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[..<n]))
            return n
        }
        return n > 0
    }
}

/// The server could not start.
package struct ServerError: Error, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}
