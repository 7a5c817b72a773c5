import Foundation
import NokoCore
import NokoPlatform
import NokoRemoteSync

/// The files a noko run puts in wandb's Files tab, made from its run directory
/// (docs/wandb-protocol.md, "Run files"):
///
/// | file | from |
/// |---|---|
/// | `wandb-metadata.json` | `metadata.json`, in the fields the Overview shows |
/// | `diff.patch` | `from_head.diff` (the working tree against HEAD) |
/// | `noko-checkpoint.patch` | `from_last_checkpoint.diff` |
/// | `Package.resolved` | `Package.resolved` (the Swift `requirements.txt`) |
/// | `config.yaml` | the config as UpsertBucket sends it |
/// | `noko-metadata.json` | `metadata.json` itself |
/// | `output.log` | the console, as the Logs tab shows it |
/// | `wandb-summary.json` | the summary sent last |
///
/// The first four do not change during a run and go up when the session opens; the rest
/// go up at the end, when they are complete. Missing files are left out; an empty diff too.
enum RunFiles {
    /// The files that go up when a session opens.
    static func atStart(directory: URL, cursor: SyncState) -> [RunFile] {
        let layout = RunLayout(directory)
        var files: [RunFile] = []
        let metadata = try? RunFileFormat.readJSON(layout.metadata)
        // The machine's memory and GPUs are known once the system table has a sample.
        let system = ((try? RunStatistics.read(from: directory)) ?? nil)?.table(SystemTable.name)
        if let metadata,
            let bytes = wandbMetadata(metadata, writer: cursor.spec.environment?["writerId"]?.stringValue, system: system)?.serializedBytes(pretty: true)
        {
            files.append(RunFile(name: "wandb-metadata.json", bytes: bytes))
        }
        for (source, name) in [
            (layout.fromHeadDiff, "diff.patch"), (layout.fromLastCheckpointDiff, "noko-checkpoint.patch"),
            (layout.packageResolved, "Package.resolved"),
        ] {
            if let bytes = try? FileSystem.readIfPresent(source.path), !bytes.isEmpty {
                files.append(RunFile(name: name, bytes: bytes))
            }
        }
        return files
    }

    /// The files that go up when the run ends (those of ``atStart(directory:cursor:)``
    /// again, uploaded only if they changed or never went up).
    static func atEnd(directory: URL, cursor: SyncState, summary: JSONValue?) -> [RunFile] {
        let layout = RunLayout(directory)
        var files = atStart(directory: directory, cursor: cursor)
        let config = UpsertBucket.configValue(
            cursor.spec.configSent, tables: cursor.tables, checkpoint: cursor.spec.checkpoint, environment: cursor.spec.environment)
        files.append(RunFile(name: "config.yaml", bytes: Array(ConfigYAML.text(config).utf8)))
        if let metadata = RunFile.metadata(layout, name: "noko-metadata.json") { files.append(metadata) }
        if let log = outputLog(layout), !log.isEmpty {
            files.append(RunFile(name: "output.log", bytes: log))
        }
        if let summary {
            var writer = WireWriter(capacity: 1024)
            writer.write(summary)
            files.append(RunFile(name: "wandb-summary.json", bytes: writer.bytes))
        }
        return files
    }

    /// The console as the Logs tab shows it: one `ConsoleLine.wandbText` per line.
    static func outputLog(_ layout: RunLayout) -> [UInt8]? {
        guard ConsoleLogReader.exists(in: layout) else { return nil }
        let reader = ConsoleLogReader(layout)
        var bytes: [UInt8] = []
        do {
            while let line = try reader.next() {
                bytes += line.wandbText
                bytes.append(0x0A)
            }
        } catch {
            return bytes.isEmpty ? nil : bytes
        }
        return bytes
    }

    /// `wandb-metadata.json` as wandb's client writes it, from noko's `metadata.json`:
    /// the fields its Overview shows, with noko and Swift where the client names Python.
    static func wandbMetadata(_ metadata: JSONValue, writer: String?, system: TableStatistics? = nil) -> JSONValue? {
        guard case .object(let m) = metadata else { return nil }
        var out: [String: JSONValue] = [:]
        func copy(_ from: String, _ to: String) {
            if let value = m[from], value != .null { out[to] = value }
        }
        if let kernel = m["kernel"]?.stringValue {
            // platform.platform()'s shape: `Linux-6.1.0-x86_64-with-glibc2.36`.
            out["os"] = .string(kernel.split(separator: " ").joined(separator: "-"))
        } else {
            copy("os", "os")
        }
        let swift = m["swift_version"]?.stringValue.map { "Swift \($0)" }
        let noko = m["noko_version"]?.stringValue.map { "noko \($0)" }
        if let versions = [noko, swift].compactMap({ $0 }).nilIfEmpty {
            out["python"] = .string(versions.joined(separator: ", "))
        }
        if let start = m["start_time"]?.doubleValue {
            out["startedAt"] = .string(ConsoleLine.isoUTC(start) + "Z")
        }
        copy("program", "program")
        copy("host", "host")
        copy("user", "username")
        if case .array(let argv)? = m["argv"], !argv.isEmpty {
            out["args"] = .array(Array(argv.dropFirst()))
            out["executable"] = argv[0]
        }
        if case .object(let build)? = m["build"] {
            if let path = build["path"], path != .null { out["codePath"] = path }
            if let absolute = build["absolute_path"], absolute != .null { out["executable"] = absolute }
            if let cores = build["cores"]?.intValue {
                out["cpu_count"] = .int(cores)
                out["cpu_count_logical"] = .int(cores)
            }
            if let cpu = build["cpu"]?.stringValue { out["cpu"] = .object(["model": .string(cpu)]) }
        }
        if case .object(let git)? = m["git"] {
            var block: [String: JSONValue] = [:]
            if let remote = git["remote_url"]?.stringValue { block["remote"] = .string(SecretRedactor.strippingCredentials(remote)) }
            if let head = git["head"]?.stringValue { block["commit"] = .string(head) }
            if !block.isEmpty { out["git"] = .object(block) }
            if let root = git["root"]?.stringValue { out["root"] = .string(root) }
        }
        if out["root"] == nil { copy("cwd", "root") }
        if let writer { out["writerId"] = .string(writer) }
        if let system { hardware(system, into: &out) }
        return .object(out)
    }
}

extension RunFiles {
    /// The Overview's memory and GPUs, as the client writes them (byte counts as strings),
    /// from the `system` table's columns: `memory/total_bytes`, and a GPU per index of
    /// `gpu/<i>/…` with its `memory_total_bytes`. The table holds no GPU names.
    fileprivate static func hardware(_ system: TableStatistics, into out: inout [String: JSONValue]) {
        var gpuMemory: [Int: Double?] = [:]
        for column in system.columns {
            if column.name == SystemTable.memoryTotalBytes, let total = column.max, total > 0 {
                out["memory"] = .object(["total": .string(String(Int64(total)))])
            }
            let parts = column.name.split(separator: "/")
            guard parts.count == 3, parts[0] == "gpu", let index = Int(parts[1]) else { continue }
            if parts[2] == SystemTable.gpuMemoryTotalBytes {
                gpuMemory[index] = column.max
            } else if gpuMemory[index] == nil {
                gpuMemory[index] = .some(nil)
            }
        }
        guard !gpuMemory.isEmpty else { return }
        out["gpu_count"] = .int(Int64(gpuMemory.count))
        out["gpu_nvidia"] = .array(gpuMemory.keys.sorted().map { index in
            guard let total = gpuMemory[index] ?? nil else { return .object([:]) }
            return .object(["memoryTotal": .string(String(Int64(total)))])
        })
    }
}

extension Array {
    fileprivate var nilIfEmpty: [Element]? { isEmpty ? nil : self }
}
