import Foundation
import NokoCore
import NokoMLflow
import NokoRemoteSync
import NokoWandbTestSupport

/// `mlflow-logrow`: `NokoLogger.logRow` (default outputs, the W1 row) with the run mirrored
/// on an MLflow tracking server, against a server that answers every request after 1 s and
/// against no server at all, over the same with the mirror off (target ≤ 1.1). The server
/// is a loopback stand-in answering MLflow's REST API (experiment, run, log-batch, artifact
/// PUTs), so the figure is noko's own cost, not a Python server's on the same two cores.
enum MLflowBench {
    static func logRow(_ arguments: [String]) throws {
        let workload = RowWorkload(rows: 100_000)
        let repetitions = 9
        let slow = try LoopbackHTTPServer { request in
            Thread.sleep(forTimeInterval: 1)
            return answer(request)
        }
        let unreachable = try LoopbackHTTPServer { answer($0) }
        let deadPort = "http://127.0.0.1:\(unreachable.port)"
        unreachable.stop()
        let fast = try LoopbackHTTPServer { answer($0) }

        let interval = Duration.milliseconds(250)
        let off = (label: "mirror off", run: { try loggingLoop(workload, trackingURI: nil, interval: interval) })
        for (label, uri) in [("server answers after 1 s", "http://127.0.0.1:\(slow.port)"), ("no server", deadPort)] {
            let result = try interleaved(
                "mlflow-logrow (\(label))", repetitions: repetitions, a: off,
                b: (label: "mirror on", run: { try loggingLoop(workload, trackingURI: uri, interval: interval) }))
            print(result.report(unit: "µs", scale: 1e6 / Double(workload.rows), per: "/row"))
        }
        let busy = try interleaved(
            "mlflow-logrow (fast server, zero interval; informative)", repetitions: repetitions, a: off,
            b: (label: "mirror on", run: { try loggingLoop(workload, trackingURI: "http://127.0.0.1:\(fast.port)", interval: .zero) }))
        print(busy.report(unit: "µs", scale: 1e6 / Double(workload.rows), per: "/row"))
        slow.stop()
        fast.stop()
    }

    /// What a tracking server answers: an experiment, a run, and `{}` for the rest.
    private static func answer(_ request: LoopbackHTTPServer.Request) -> LoopbackHTTPServer.Action {
        let path = request.path
        let body: String
        if path.hasSuffix("experiments/get-by-name") {
            body = #"{"experiment":{"experiment_id":"1","name":"bench"}}"#
        } else if path.hasSuffix("runs/create") {
            body = #"{"run":{"info":{"run_id":"r1","experiment_id":"1","artifact_uri":"mlflow-artifacts:/1/r1/artifacts"}}}"#
        } else {
            body = "{}"
        }
        return .respond(status: 200, headers: [("Content-Type", "application/json")], body: Array(body.utf8))
    }

    /// Seconds spent in `logRow` for the workload, with the MLflow mirror running when
    /// `trackingURI` is given (set-up, close and the mirror's finish are not timed).
    private static func loggingLoop(_ workload: RowWorkload, trackingURI: String?, interval: Duration) throws -> Double {
        let directory = scratchDirectory("mlflow-logrow")
        defer { try? FileManager.default.removeItem(at: directory) }
        let logger = try defaultLogger(in: directory)
        var sync: MLflowSync?
        if let trackingURI {
            try Data(#"{"lr":0.1,"batch":64}"#.utf8).write(to: RunLayout(directory).config)
            let options = MLflowOptions(trackingURI: trackingURI, experimentName: "bench", transmitInterval: interval, requestTimeout: .seconds(5))
            sync = MLflowSync.start(
                options: options,
                run: RemoteRunInfo(directory: directory, runName: "bench", startTime: Date().timeIntervalSince1970, config: ["lr": 0.1, "batch": 64]),
                environment: [:], messages: { _ in })
            guard sync != nil else { throw BenchError("the MLflow mirror did not start") }
        }
        let seconds = time {
            for i in 0..<workload.rows { logger.logRow("train", workload.row(i)) }
        }
        logger.close()
        sync?.finish(exitCode: 0, timeout: .milliseconds(10))
        return seconds
    }
}
