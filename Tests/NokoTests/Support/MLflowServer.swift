#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NokoCore
import NokoRemoteSync
import NokoTestSupport
import Testing

/// A real `mlflow server` on 127.0.0.1 (SQLite, or the given backend store) with its
/// artifact proxy (`--artifacts-destination`); stopped, workers too, when the
/// test ends (Foundation starts it in a process group of its own, which its children share).
final class MLflowServer: @unchecked Sendable {
    // Set once in init; only read after (but `process`, replaced by `restart`).
    let baseURL: String
    let port: Int
    let backendStoreURI: String
    private var process: Process
    let directory: URL

    /// Starts a server, or throws (under `make test` a missing `mlflow` fails the test).
    init(backendStoreURI: String? = nil, label: String = #function) throws {
        directory = temporaryDirectory(label)
        port = try freeLoopbackPort()
        baseURL = "http://127.0.0.1:\(port)"
        self.backendStoreURI = backendStoreURI ?? "sqlite:///" + directory.appendingPathComponent("mlflow.db").path
        process = Process()
        try start()
    }

    /// The server of the tests that need no server of their own, started once, stopped when
    /// the test process exits.
    static func shared() throws -> MLflowServer {
        try sharedServer.get()
    }
    private static let sharedServer: Result<MLflowServer, any Error> = {
        let result = Result { try MLflowServer(label: "shared-mlflow") }
        atexit { if case .success(let server) = MLflowServer.sharedServer { server.stop() } }
        return result
    }()

    private func start() throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-m", "mlflow", "server", "--backend-store-uri", backendStoreURI,
            "--serve-artifacts", "--artifacts-destination", directory.appendingPathComponent("artifacts").path, "--host", "127.0.0.1",
            "--port", String(port), "--workers", "1",
        ]
        // The server's job runners (huey consumers for GenAI jobs, eight processes) have
        // nothing to do with tracking; off, the server starts faster on two cores.
        var environment = ProcessInfo.processInfo.environment
        environment["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
        process.environment = environment
        let logPath = directory.appendingPathComponent("server.log").path
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = FileHandle(forWritingAtPath: logPath)
        log?.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if process.isRunning == false { break }
            if let response = try? get("/health"), response.status == 200 { return }
            Thread.sleep(forTimeInterval: 0.2)
        }
        stop()
        let output = (try? String(contentsOf: directory.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
        throw Failed(description: "mlflow server did not come up (pip install mlflow==3.17.2): \(output.suffix(800))")
    }

    /// Stops the server and starts it again on the same port and store.
    func restart() throws {
        stop()
        try start()
    }

    deinit { stop() }

    /// Whether the tests can run: always under `NOKO_REQUIRE_INTEROP=1` (where a missing
    /// `mlflow` then fails them), else when Python imports it.
    static let isAvailable: Bool = {
        if ProcessInfo.processInfo.environment["NOKO_REQUIRE_INTEROP"] == "1" { return true }
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", "import mlflow"]
        check.standardOutput = FileHandle.nullDevice
        check.standardError = FileHandle.nullDevice
        guard (try? check.run()) != nil else { return false }
        check.waitUntilExit()
        return check.terminationStatus == 0
    }()

    struct Failed: Error, CustomStringConvertible { var description: String }

    func stop() {
        let group = process.processIdentifier
        guard group > 0, kill(-group, 0) == 0 else { return }
        kill(-group, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while kill(-group, 0) == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if kill(-group, 0) == 0 { kill(-group, SIGKILL) }
        while process.isRunning && Date() < deadline.addingTimeInterval(5) { Thread.sleep(forTimeInterval: 0.05) }
    }

    func get(_ path: String) throws -> HTTPResponse {
        let client = try HTTPClient(configuration: HTTPClientConfiguration())
        return try client.send(method: "GET", url: baseURL + path, body: [], headers: nil, credentials: false, timeout: .seconds(10))
    }

    /// `GET /api/2.0/mlflow/<path>` as JSON.
    func api(_ path: String) throws -> JSONValue {
        let response = try get("/api/2.0/mlflow/" + path)
        guard response.status == 200 else { throw Failed(description: "GET \(path): HTTP \(response.status) \(String(decoding: response.body, as: UTF8.self))") }
        return try JSONValue(parsing: response.body)
    }

    /// The run's `data`: params, tags and latest metrics by key, and its `info`.
    func run(_ id: String) throws -> (info: JSONValue, params: [String: String], tags: [String: String], metrics: [String: JSONValue]) {
        let run = try api("runs/get?run_id=\(id)")["run"] ?? .null
        func pairs(_ key: String) -> [String: String] {
            Dictionary((run["data"]?[key]?.arrayValue ?? []).compactMap { entry in
                entry["key"]?.stringValue.map { ($0, entry["value"]?.stringValue ?? "") }
            }, uniquingKeysWith: { $1 })
        }
        let metrics = Dictionary((run["data"]?["metrics"]?.arrayValue ?? []).compactMap { entry in
            entry["key"]?.stringValue.map { ($0, entry["value"] ?? .null) }
        }, uniquingKeysWith: { $1 })
        return (run["info"] ?? .null, pairs("params"), pairs("tags"), metrics)
    }

    /// The run's artifacts by path (`tables/train.csv`), each file's content, through the
    /// server's artifact proxy.
    func artifacts(_ runID: String, experimentID: String) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        var directories = [""]
        while let path = directories.popLast() {
            let query = path.isEmpty ? "" : "&path=" + (path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? path)
            for file in try api("artifacts/list?run_id=\(runID)" + query)["files"]?.arrayValue ?? [] {
                guard let name = file["path"]?.stringValue else { continue }
                if file["is_dir"]?.boolValue == true {
                    directories.append(name)
                    continue
                }
                let response = try get("/api/2.0/mlflow-artifacts/artifacts/\(experimentID)/\(runID)/artifacts/\(name)")
                guard response.status == 200 else { throw Failed(description: "GET artifact \(name): HTTP \(response.status)") }
                out[name] = response.body
            }
        }
        return out
    }

    /// A metric's history: (step, value) in step order.
    func history(_ id: String, _ key: String) throws -> [(step: Int64, value: JSONValue)] {
        let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key
        var points: [JSONValue] = []
        var token: String?
        repeat {
            let page = token.map { "&page_token=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) } ?? ""
            let answer = try api("metrics/get-history?run_id=\(id)&metric_key=\(encoded)&max_results=25000" + page)
            points += answer["metrics"]?.arrayValue ?? []
            token = answer["next_page_token"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return points.map { ($0["step"]?.intValue ?? -1, $0["value"] ?? .null) }.sorted { $0.step < $1.step }
    }
}

/// A TCP port of 127.0.0.1 no one listens on now.
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw MLflowServer.Failed(description: "socket: \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw MLflowServer.Failed(description: "bind: \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}
