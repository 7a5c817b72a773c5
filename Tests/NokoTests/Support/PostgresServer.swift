#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A private PostgreSQL server on 127.0.0.1 (Debian's `postgresql`), for MLflow's team setup.
/// `initdb` and `postgres` refuse to run as root, so both run as the `postgres` user through
/// `runuser`; everything lives in one directory, removed by ``stop()``.
final class PostgresServer: @unchecked Sendable {
    let port: Int
    private let directory: URL
    private let process: Process
    private let bin: String

    /// Whether the test can run: always under `NOKO_REQUIRE_INTEROP=1` (where a missing piece
    /// fails it), else as root with PostgreSQL and psycopg2 installed.
    static let isAvailable: Bool = {
        if ProcessInfo.processInfo.environment["NOKO_REQUIRE_INTEROP"] == "1" { return true }
        return getuid() == 0 && findBin() != nil && run(["/usr/bin/env", "python3", "-c", "import psycopg2"]).status == 0
    }()

    init() throws {
        guard getuid() == 0 else { throw Failed("PostgreSQL for the MLflow team-setup test needs root (to run initdb as the postgres user)") }
        guard let bin = Self.findBin() else { throw Failed("no /usr/lib/postgresql/*/bin/initdb: apt-get install postgresql") }
        guard let user = getpwnam("postgres") else { throw Failed("no postgres user: apt-get install postgresql") }
        self.bin = bin
        directory = URL(fileURLWithPath: "/tmp/noko-postgres-\(getpid())-\(UInt32.random(in: 0..<UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let data = directory.appendingPathComponent("data")
        for path in [directory.path, data.path] {
            if path == data.path { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700]) }
            guard chown(path, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else { throw Failed("chown \(path): errno \(errno)") }
        }
        let initdb = Self.run(["/usr/sbin/runuser", "-u", "postgres", "--", bin + "/initdb", "-D", data.path, "-A", "trust", "-U", "postgres", "--no-sync"])
        guard initdb.status == 0 else { throw Failed("initdb failed: \(initdb.output.suffix(600))") }
        port = try freeLoopbackPort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
        process.arguments = [
            "-u", "postgres", "--", bin + "/postgres", "-D", data.path, "-p", String(port), "-c", "listen_addresses=127.0.0.1",
            "-c", "unix_socket_directories=" + directory.path, "-c", "fsync=off",
        ]
        let log = directory.appendingPathComponent("postgres.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = FileHandle(forWritingAtPath: log.path)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if !process.isRunning { break }
            if Self.run([bin + "/pg_isready", "-h", "127.0.0.1", "-p", String(port)]).status == 0 { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        stop()
        throw Failed("postgres did not come up: \(((try? String(contentsOf: log, encoding: .utf8)) ?? "").suffix(600))")
    }

    deinit { stop() }

    /// Creates database `name`; its URI for MLflow's `--backend-store-uri` (through psycopg2,
    /// which SQLAlchemy would otherwise not choose).
    func database(_ name: String) throws -> String {
        let created = Self.run([bin + "/createdb", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", name])
        guard created.status == 0 else { throw Failed("createdb \(name): \(created.output.suffix(400))") }
        return "postgresql+psycopg2://postgres@127.0.0.1:\(port)/\(name)"
    }

    /// Stops the server (a fast shutdown, then SIGKILL) and removes its directory.
    func stop() {
        let group = process.processIdentifier
        if group > 0, kill(-group, 0) == 0 {
            kill(-group, SIGINT)
            let deadline = Date().addingTimeInterval(10)
            while kill(-group, 0) == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if kill(-group, 0) == 0 { kill(-group, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    struct Failed: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    private static func findBin() -> String? {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        return versions.compactMap(Int.init).sorted().reversed().map { "/usr/lib/postgresql/\($0)/bin" }
            .first { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }
    }

    private static func run(_ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        guard (try? process.run()) != nil else { return (-1, "cannot run \(arguments[0])") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
