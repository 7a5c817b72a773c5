// A run that logs rows to its journal and syncs them to wandb until it is killed: the
// wandb crash-resume test (Tests/NokoWandbTests/WandbCrashResumeTests.swift) kill -9s it
// mid-upload and then finishes the upload with `WandbSync.syncRun`, as `noko-run sync` does.
//
// Usage: noko-test-child RUN_DIR BASE_URL RUN_ID ROWS [finish]
// The API key comes from WANDB_API_KEY. Rows are written the way noko's journal writes
// them: one strict-JSON line per row, one write() per row. Prints "logged N" when done,
// then waits to be killed, or finishes the run when the fifth argument is "finish".
#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NokoCore
import NokoWandb

let arguments = CommandLine.arguments
guard arguments.count >= 5, let rows = Int(arguments[4]) else {
    FileHandle.standardError.write(Data("usage: noko-test-child RUN_DIR BASE_URL RUN_ID ROWS [finish]\n".utf8))
    exit(2)
}
let directory = URL(fileURLWithPath: arguments[1])
let start = Date().timeIntervalSince1970
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
let metadata: JSONValue = [
    "format_version": 1, "run_name": .string(directory.lastPathComponent), "status": "running",
    "start_time": .double(start), "pid": .int(Int64(getpid())), "program": "noko-test-child",
]
try Data(metadata.serializedBytes(pretty: true)).write(to: directory.appendingPathComponent("metadata.json"), options: .atomic)

let options = WandbOptions(
    project: "p", entity: "e", runID: arguments[3], baseURL: arguments[2], mode: .online,
    transmitInterval: .milliseconds(20), retry: WandbRetryPolicy(minimumWait: .milliseconds(20), maximumWait: .milliseconds(200)))
guard let sync = WandbSync.start(
    options: options,
    run: WandbRunInfo(directory: directory, runName: directory.lastPathComponent, startTime: start, config: ["seed": 7]),
    messages: { message in FileHandle.standardError.write(Data("child: \(message)\n".utf8)) })
else {
    print("sync did not start")
    exit(3)
}

let journal = open(directory.appendingPathComponent("noko.ndjson").path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
var evalStep: Int64 = 0
for i in 0..<rows {
    var row: [String: JSONValue] = ["i": .int(Int64(i)), "loss": .double(1 / Double(i + 1)), "$level": 20]
    if i % 5 == 4 {
        row["$table"] = "eval"
        row["$step"] = .int(evalStep)
        evalStep += 1
    } else {
        row["$table"] = "train"
        row["$step"] = .int(Int64(i))
    }
    row["$localtime"] = "2026-01-01T00:00:00"
    row["$utc_timestamp"] = .double(Date().timeIntervalSince1970)
    let line = JSONValue.object(row).serializedBytes() + [0x0A]
    _ = line.withUnsafeBytes { write(journal, $0.baseAddress!, $0.count) }
    usleep(500)
}
print("logged \(rows)")
fflush(stdout)
if arguments.count > 5 && arguments[5] == "finish" {
    close(journal)
    print("finish \(sync.finish(exitCode: 0))")
    exit(0)
}
while true { sleep(60) }
