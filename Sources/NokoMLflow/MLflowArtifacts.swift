import Foundation
import NokoCore
import NokoPlatform
import NokoRemoteSync

/// The run's files as MLflow artifacts, by their names in the run directory
/// (docs/mlflow.md, "Artifacts"):
///
/// | when | artifacts |
/// |---|---|
/// | a session opens | `config.json`, `overrides.json`, `from_head.diff`, `from_last_checkpoint.diff`, `Package.resolved` |
/// | the run ends | those again when they changed (`config.json` after `run.updateConfig`), `metadata.json`, `output.log` (and `output.1.log`), and with ``MLflowOptions/uploadsTables`` every `<table>.csv` under `tables/` |
///
/// Missing and empty files are left out. They go up through the tracking server's artifact
/// proxy (`mlflow server --serve-artifacts`, the default since MLflow 2), which needs no
/// credentials of the artifact store.
enum MLflowArtifacts {
    /// The artifacts that go up when a session opens.
    static func atStart(directory: URL) -> [RunFile] {
        let layout = RunLayout(directory)
        return [layout.config, layout.overrides, layout.fromHeadDiff, layout.fromLastCheckpointDiff, layout.packageResolved]
            .compactMap { file($0) }
    }

    /// The artifacts that go up when the run ends.
    static func atEnd(directory: URL, tables: Bool) -> [RunFile] {
        let layout = RunLayout(directory)
        var files = atStart(directory: directory)
        if let metadata = RunFile.metadata(layout, name: RunLayout.metadataName) { files.append(metadata) }
        files += [layout.rotatedOutputLog, layout.outputLog].compactMap { file($0) }
        if tables {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            for name in names.sorted() where name.hasSuffix(RunLayout.csvExtension) {
                if let csv = file(layout.file(name), as: "tables/" + name) { files.append(csv) }
            }
        }
        return files
    }

    private static func file(_ url: URL, as name: String? = nil) -> RunFile? {
        guard let bytes = try? FileSystem.readIfPresent(url.path), !bytes.isEmpty else { return nil }
        return RunFile(name: name ?? url.lastPathComponent, bytes: bytes)
    }

    /// Where a run's artifacts are uploaded: the proxy's URL for the run's `artifact_uri`
    /// (`mlflow-artifacts:/1/<run>/artifacts` → `<tracking URI>/api/2.0/mlflow-artifacts/
    /// artifacts/1/<run>/artifacts`, as MLflow's client resolves it), or nil when the server
    /// keeps the run's artifacts where only the server's host or its cloud credentials reach
    /// (a path, `s3://…`): then the server was started without the proxy.
    static func uploadBase(artifactURI: String, trackingURI: String) -> String? {
        let scheme = "mlflow-artifacts:"
        guard artifactURI.hasPrefix(scheme), let tracking = URLComponents(string: trackingURI), let trackingScheme = tracking.scheme
        else { return nil }
        var rest = artifactURI.dropFirst(scheme.count)
        var authority = tracking.percentEncodedHost.map { host in tracking.port.map { "\(host):\($0)" } ?? host } ?? ""
        if rest.hasPrefix("//") {
            // `mlflow-artifacts://host:port/path`: another host serves the artifacts.
            rest = rest.dropFirst(2)
            let host = rest.prefix { $0 != "/" }
            if !host.isEmpty { authority = String(host) }
            rest = rest.dropFirst(host.count)
        }
        let path = rest.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
        var prefix = tracking.percentEncodedPath
        while prefix.hasSuffix("/") { prefix.removeLast() }
        return "\(trackingScheme)://\(authority)\(prefix)/api/2.0/mlflow-artifacts/artifacts" + (path.isEmpty ? "" : "/" + path)
    }

    /// An artifact's name in a URL path: each component percent-encoded.
    static func urlPath(_ name: String) -> String {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        return name.split(separator: "/").map { $0.addingPercentEncoding(withAllowedCharacters: allowed) ?? String($0) }.joined(separator: "/")
    }
}
