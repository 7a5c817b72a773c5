#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP socket on 127.0.0.1, for the servers the tests and benchmarks start (the loopback
/// wandb server). noko itself talks to the network only through libcurl.
package struct LoopbackSocket: Sendable, Hashable {
    /// The descriptor number.
    package let rawValue: Int32

    /// Listens on `port` of 127.0.0.1 (0: an ephemeral port) (`socket(2)`, `bind(2)`,
    /// `listen(2)`); returns the socket and the port it got.
    package static func listen(port: Int) throws(NokoSystemError) -> (socket: LoopbackSocket, port: Int) {
        #if canImport(Darwin)
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #else
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #endif
        guard fd >= 0 else { throw NokoSystemError("create a socket", path: nil) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        #if canImport(Darwin)
        setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, sysListen(fd, 128) == 0 else {
            let error = NokoSystemError("listen on", path: "127.0.0.1:\(port)")
            _ = sysClose(fd)
            throw error
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (LoopbackSocket(rawValue: fd), Int(UInt16(bigEndian: actual.sin_port)))
    }

    /// The next connection (`accept(2)`, with `TCP_NODELAY`), or nil once the socket is shut
    /// down.
    package func accept() -> LoopbackSocket? {
        while true {
            let client = sysAccept(rawValue)
            if client < 0 {
                if errno == EINTR { continue }
                return nil
            }
            var one: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            #if canImport(Darwin)
            setsockopt(client, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
            #endif
            return LoopbackSocket(rawValue: client)
        }
    }

    /// Reads what has arrived, up to `buffer.count` bytes (`recv(2)`); 0 at end of stream or
    /// on an error (the peer is gone either way).
    package func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        while true {
            let n = recv(rawValue, buffer.baseAddress!, buffer.count, 0)
            if n < 0 && errno == EINTR { continue }
            return max(n, 0)
        }
    }

    /// Sends every byte (`send(2)`, never raising `SIGPIPE`); false when the peer is gone.
    package func sendAll(_ bytes: [UInt8]) -> Bool {
        #if canImport(Darwin)
        let flags: Int32 = 0
        #else
        let flags = Int32(MSG_NOSIGNAL)
        #endif
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(rawValue, $0.baseAddress! + sent, bytes.count - sent, flags) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    /// Waits until the peer sends something or hangs up (`poll(2)`), checking every second;
    /// returns when either happens or polling fails.
    package func waitForPeer() {
        var probe = pollfd(fd: rawValue, events: Int16(POLLIN), revents: 0)
        while poll(&probe, 1, 1000) >= 0 {
            if probe.revents != 0 { return }
        }
    }

    /// Ends both directions (`shutdown(2)`): a blocked `accept` or `recv` returns.
    package func shutdown() {
        _ = sysShutdown(rawValue)
    }

    /// Releases the descriptor (`close(2)`).
    package func close() {
        _ = sysClose(rawValue)
    }
}

@inline(__always) private func sysListen(_ fd: Int32, _ backlog: Int32) -> Int32 { listen(fd, backlog) }
@inline(__always) private func sysAccept(_ fd: Int32) -> Int32 { accept(fd, nil, nil) }
@inline(__always) private func sysClose(_ fd: Int32) -> Int32 { close(fd) }
#if canImport(Darwin)
@inline(__always) private func sysShutdown(_ fd: Int32) -> Int32 { shutdown(fd, SHUT_RDWR) }
#else
@inline(__always) private func sysShutdown(_ fd: Int32) -> Int32 { shutdown(fd, Int32(SHUT_RDWR)) }
#endif
