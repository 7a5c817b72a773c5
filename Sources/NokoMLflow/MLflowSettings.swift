import Foundation
import NokoCore

/// The options and the environment, resolved: what a session talks to and as whom.
struct MLflowSettings: Sendable {
    var options: MLflowOptions
    /// `http(s)://host[:port][/prefix]`, without a trailing slash or userinfo.
    var trackingURI: String
    var experimentName: String
    var username: String?
    var password: String?
    /// `MLFLOW_TRACKING_TOKEN`, sent as a bearer token when there is no user and password
    /// (as MLflow's client chooses).
    var token: String?

    enum Resolution {
        case off
        case on(MLflowSettings)
        /// Asked for, but unusable: the message says why.
        case refused(String)
    }

    static func resolve(options given: MLflowOptions?, environment env: [String: String], forceOn: Bool = false) -> Resolution {
        let uri = nonEmpty(given?.trackingURI) ?? nonEmpty(env["MLFLOW_TRACKING_URI"])
        guard forceOn || given != nil || uri != nil else { return .off }
        guard var uri else {
            return .refused("no tracking server: set MLflowOptions.trackingURI or MLFLOW_TRACKING_URI (http://host:5000)")
        }
        let lowered = uri.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
            return .refused(
                "MLflow tracking URI \(uri) is not a server: noko talks to an MLflow tracking server over HTTP; start one with `mlflow server --backend-store-uri sqlite:///mlflow.db` and set MLFLOW_TRACKING_URI=http://127.0.0.1:5000")
        }
        while uri.hasSuffix("/") { uri.removeLast() }
        var options = given ?? MLflowOptions()
        options.trackingURI = SecretRedactor.strippingCredentials(uri)
        let experiment = nonEmpty(options.experimentName) ?? nonEmpty(env["MLFLOW_EXPERIMENT_NAME"]) ?? "Default"
        return .on(
            MLflowSettings(
                options: options, trackingURI: options.trackingURI!, experimentName: experiment,
                username: nonEmpty(env["MLFLOW_TRACKING_USERNAME"]), password: nonEmpty(env["MLFLOW_TRACKING_PASSWORD"]),
                token: env["MLFLOW_TRACKING_USERNAME"] == nil ? nonEmpty(env["MLFLOW_TRACKING_TOKEN"]) : nil))
    }

    /// `…/api/2.0/mlflow/<path>`.
    func endpoint(_ path: String) -> String { trackingURI + "/api/2.0/mlflow/" + path }

    /// The run's page in the MLflow UI.
    func runURL(experimentID: String, runID: String) -> String {
        trackingURI + "/#/experiments/\(experimentID)/runs/\(runID)"
    }
}

private func nonEmpty(_ value: String?) -> String? {
    guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
    return value
}
