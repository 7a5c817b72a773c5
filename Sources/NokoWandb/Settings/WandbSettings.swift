import Foundation
import NokoCore
import NokoRemoteSync

/// Options, environment and `~/.netrc` resolved into what one sync session uses.
struct WandbSettings: Sendable {
    /// Online or offline (disabled never gets this far).
    var mode: WandbOptions.Mode
    /// Never logged, never written: held in memory for the `Authorization` header only.
    var apiKey: String?
    /// The server, without userinfo or a trailing slash.
    var baseURL: String
    /// The dashboard's root for run URLs.
    var appURL: String
    var project: String
    var entity: String?
    var runID: String
    var displayName: String?
    var group: String?
    var jobType: String?
    var tags: [String]?
    var notes: String?
    /// Timing, retries and the rest, as given.
    var options: WandbOptions
    var debugHTTP: Bool
    var proxy: ProxySettings

    static let defaultBaseURL = "https://api.wandb.ai"
    static let defaultProject = "uncategorized"

    /// Whether sync is on, and with what; `notes` are the warnings resolution produced
    /// (each to be shown once).
    enum Resolution {
        case off
        case on(WandbSettings, notes: [WandbMessage])
    }

    /// Resolves `options` (nil: none were passed) against `environment` and the netrc file.
    ///
    /// Sync is on when options were passed, `WANDB_MODE` is `online`/`offline`, or
    /// `WANDB_PROJECT` is set. `WANDB_MODE=disabled` (or `WANDB_DISABLED=true`) turns it
    /// off whatever the code says: the switch CI jobs and `make demo` rely on.
    static func resolve(
        options given: WandbOptions?, environment env: [String: String], netrcPath: String?,
        forceOn: Bool = false
    ) -> Resolution {
        let envMode = modeFromEnvironment(env)
        if envMode == .disabled { return .off }
        let envProject = nonEmpty(env["WANDB_PROJECT"])
        let asked = forceOn || given != nil || envMode == .online || envMode == .offline || envProject != nil
        guard asked else { return .off }
        var options = given ?? WandbOptions()
        var mode = options.mode ?? envMode ?? .online
        if mode == .disabled { return .off }
        var notes: [WandbMessage] = []

        let rawBase = nonEmpty(options.baseURL) ?? nonEmpty(env["WANDB_BASE_URL"]) ?? defaultBaseURL
        guard let base = BaseURL(rawBase) else {
            notes.append(.init(level: .warning, text: "ignoring WANDB_BASE_URL/baseURL \"\(SecretRedactor.strippingCredentials(rawBase))\": not an http(s) URL; using \(defaultBaseURL)"))
            return resolve(options: with(options) { $0.baseURL = defaultBaseURL }, environment: env.filter { $0.key != "WANDB_BASE_URL" }, netrcPath: netrcPath, forceOn: true)
                .prepending(notes)
        }

        var apiKey = nonEmpty(env["WANDB_API_KEY"]?.trimmingCharacters(in: .whitespacesAndNewlines))
        if apiKey == nil {
            let path = netrcPath ?? env["NETRC"] ?? (env["HOME"].map { $0 + "/.netrc" })
            if let path, let text = try? String(contentsOfFile: path, encoding: .utf8) {
                apiKey = Netrc(parsing: text).password(host: base.host, port: base.port)
            }
        }
        if mode == .online && apiKey == nil {
            mode = .offline
            notes.append(.init(level: .warning, text: "no API key for \(base.host) (set WANDB_API_KEY or run `wandb login`): recording offline; upload later with `noko-run sync`"))
        }

        var project = nonEmpty(options.project) ?? envProject ?? defaultProject
        if let problem = projectProblem(project) {
            let fixed = sanitizedProject(project)
            notes.append(.init(level: .warning, text: "project name \"\(project)\" \(problem); using \"\(fixed)\""))
            project = fixed
        }
        var runID = nonEmpty(options.runID) ?? nonEmpty(env["WANDB_RUN_ID"]) ?? randomRunID()
        if let problem = runIDProblem(runID) {
            let fresh = randomRunID()
            notes.append(.init(level: .warning, text: "run id \"\(runID)\" \(problem); using \"\(fresh)\""))
            runID = fresh
        }
        var tags = options.tags
        if tags == nil, let text = nonEmpty(env["WANDB_TAGS"]) {
            tags = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        options.mode = mode
        let debug = options.debugHTTP || env["NOKO_WANDB_DEBUG"].map { ["1", "true", "yes"].contains($0.lowercased()) } == true
        let settings = WandbSettings(
            mode: mode, apiKey: apiKey, baseURL: base.string,
            appURL: appURL(base: base.string, environment: env),
            project: project, entity: nonEmpty(options.entity) ?? nonEmpty(env["WANDB_ENTITY"]),
            runID: runID, displayName: nonEmpty(options.displayName) ?? nonEmpty(env["WANDB_NAME"]),
            group: nonEmpty(options.group) ?? nonEmpty(env["WANDB_RUN_GROUP"]),
            jobType: nonEmpty(options.jobType) ?? nonEmpty(env["WANDB_JOB_TYPE"]),
            tags: tags, notes: nonEmpty(options.notes) ?? nonEmpty(env["WANDB_NOTES"]),
            options: options, debugHTTP: debug, proxy: ProxySettings(environment: env, scheme: base.scheme)
        )
        return .on(settings, notes: notes)
    }

    static func modeFromEnvironment(_ env: [String: String]) -> WandbOptions.Mode? {
        if let disabled = env["WANDB_DISABLED"]?.lowercased(), ["true", "1", "yes"].contains(disabled) {
            return .disabled
        }
        switch env["WANDB_MODE"]?.lowercased() {
        case "online", "run": return .online
        case "offline", "dryrun": return .offline
        case "disabled": return .disabled
        default: return nil
        }
    }

    /// 8 characters of `[a-z0-9]`, as `wandb.sdk.lib.runid.generate_id`.
    static func randomRunID() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<8).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    /// Why wandb would refuse `id` as a run ID (wandb_settings.validate_run_id), or nil.
    static func runIDProblem(_ id: String) -> String? {
        if id.trimmingCharacters(in: .whitespaces) != id { return "has leading or trailing spaces" }
        if let bad = id.first(where: { ":;,#?/'".contains($0) }) { return "contains '\(bad)'" }
        return nil
    }

    static func projectProblem(_ project: String) -> String? {
        if project.count > 128 { return "is longer than 128 characters" }
        if let bad = project.first(where: { "/\\#?%:".contains($0) }) { return "contains '\(bad)'" }
        return nil
    }

    static func sanitizedProject(_ project: String) -> String {
        String(String(project.map { "/\\#?%:".contains($0) ? "-" : $0 }).prefix(128))
    }

    /// The dashboard's root, as the SDK's `util.app_url`: `WANDB_APP_URL` wins;
    /// `https://api.wandb.ai` → `https://wandb.ai`; other `api.` hosts → `app.`; anything
    /// else (a local server) is its own app.
    static func appURL(base: String, environment env: [String: String]) -> String {
        if let app = nonEmpty(env["WANDB_APP_URL"]) {
            return BaseURL(app)?.string ?? SecretRedactor.strippingCredentials(app)
        }
        if base.contains("://api.wandb.test") { return base.replacingOccurrences(of: "://api.", with: "://app.") }
        if base.contains("://api.wandb.") { return base.replacingOccurrences(of: "://api.", with: "://") }
        if base.contains("://api.") { return base.replacingOccurrences(of: "://api.", with: "://app.") }
        return base
    }

    /// The run's page: `{app}/{entity}/{project}/runs/{id}`.
    static func runURL(appURL: String, entity: String, project: String, runID: String) -> String {
        "\(appURL)/\(percentEncoded(entity))/\(percentEncoded(project))/runs/\(percentEncoded(runID))"
    }

    static func percentEncoded(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: pathSegmentCharacters) ?? segment
    }

    private static let pathSegmentCharacters = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
}

private func nonEmpty(_ s: String?) -> String? {
    guard let s, !s.isEmpty else { return nil }
    return s
}

private func with<T>(_ value: T, _ change: (inout T) -> Void) -> T {
    var value = value
    change(&value)
    return value
}

extension WandbSettings.Resolution {
    fileprivate func prepending(_ notes: [WandbMessage]) -> WandbSettings.Resolution {
        switch self {
        case .off: return .off
        case .on(let settings, let more): return .on(settings, notes: notes + more)
        }
    }
}

/// An http(s) base URL split into the parts sync needs; userinfo is dropped on parsing, so
/// no credential in a URL can reach a message, a request line or a file.
struct BaseURL: Sendable, Equatable {
    var scheme: String
    var host: String
    var port: Int?
    var path: String

    init?(_ text: String) {
        guard let components = URLComponents(string: text.trimmingCharacters(in: .whitespaces)),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty
        else { return nil }
        self.scheme = scheme
        self.host = host
        self.port = components.port
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        self.path = path
    }

    /// `scheme://host[:port][/path]`, no userinfo, no trailing slash.
    var string: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(hostPart)\(port.map { ":\($0)" } ?? "")\(path)"
    }
}
