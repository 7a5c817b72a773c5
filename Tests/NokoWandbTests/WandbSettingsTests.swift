import Foundation
@testable import NokoWandb
import NokoCore
import NokoRemoteSync
import Testing

@Suite struct WandbSettingsTests {
    private let key = String(repeating: "a", count: 40)

    private func settings(_ options: WandbOptions?, _ env: [String: String], netrc: String? = nil) -> (WandbSettings?, [WandbMessage]) {
        var path = "/nonexistent/netrc"
        if let netrc {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("netrc-\(UUID().uuidString)").path
            try! netrc.write(toFile: path, atomically: true, encoding: .utf8)
        }
        switch WandbSettings.resolve(options: options, environment: env, netrcPath: path) {
        case .off: return (nil, [])
        case .on(let settings, let notes): return (settings, notes)
        }
    }

    @Test func isOffUnlessAskedFor() {
        #expect(settings(nil, [:]).0 == nil)
        #expect(settings(nil, ["WANDB_API_KEY": key]).0 == nil)
        #expect(settings(nil, ["WANDB_ENTITY": "e"]).0 == nil)
        #expect(settings(WandbOptions(), ["WANDB_API_KEY": key]).0?.mode == .online)
        #expect(settings(nil, ["WANDB_PROJECT": "p", "WANDB_API_KEY": key]).0?.project == "p")
        #expect(settings(nil, ["WANDB_MODE": "offline"]).0?.mode == .offline)
        #expect(settings(nil, ["WANDB_MODE": "online", "WANDB_API_KEY": key]).0?.mode == .online)
    }

    @Test func disabledModeWins() {
        #expect(settings(WandbOptions(mode: .online), ["WANDB_MODE": "disabled", "WANDB_API_KEY": key]).0 == nil)
        #expect(settings(WandbOptions(), ["WANDB_DISABLED": "true"]).0 == nil)
        #expect(settings(WandbOptions(mode: .disabled), ["WANDB_API_KEY": key]).0 == nil)
    }

    @Test func onlineWithoutAKeyRecordsOfflineAndSaysSoOnce() {
        let (resolved, notes) = settings(WandbOptions(), [:])
        #expect(resolved?.mode == .offline)
        #expect(notes.count == 1)
        #expect(notes.first?.text.contains("no API key for api.wandb.ai") == true)
    }

    @Test func readsTheEnvironmentLikeTheOfficialClient() {
        let env = [
            "WANDB_API_KEY": " \(key)\n", "WANDB_PROJECT": "proj", "WANDB_ENTITY": "team", "WANDB_BASE_URL": "http://localhost:8080/",
            "WANDB_RUN_GROUP": "g", "WANDB_TAGS": "a, b,,c", "WANDB_NOTES": "n", "WANDB_JOB_TYPE": "train", "WANDB_NAME": "display",
            "WANDB_RUN_ID": "myrun",
        ]
        let resolved = settings(nil, env).0!
        #expect(resolved.apiKey == key)
        #expect(resolved.project == "proj")
        #expect(resolved.entity == "team")
        #expect(resolved.baseURL == "http://localhost:8080")
        #expect(resolved.appURL == "http://localhost:8080")
        #expect(resolved.group == "g")
        #expect(resolved.tags == ["a", "b", "c"])
        #expect(resolved.notes == "n")
        #expect(resolved.jobType == "train")
        #expect(resolved.displayName == "display")
        #expect(resolved.runID == "myrun")
        // Options beat the environment.
        let overridden = settings(WandbOptions(project: "mine", tags: ["x"]), env).0!
        #expect(overridden.project == "mine")
        #expect(overridden.tags == ["x"])
    }

    @Test func defaultsMatchTheSDK() {
        let resolved = settings(WandbOptions(), ["WANDB_API_KEY": key]).0!
        #expect(resolved.project == "uncategorized")
        #expect(resolved.entity == nil)
        #expect(resolved.baseURL == "https://api.wandb.ai")
        #expect(resolved.appURL == "https://wandb.ai")
        #expect(resolved.runID.count == 8)
        #expect(resolved.runID.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) })
        #expect(resolved.options.transmitInterval == .seconds(15))
        #expect(resolved.options.heartbeatInterval == .seconds(30))
        #expect(resolved.options.finishTimeout == .seconds(30))
    }

    @Test func takesTheKeyFromNetrcForTheBaseURLsHost() {
        let netrc = "machine api.wandb.ai login user password \(key)\nmachine 127.0.0.1 login api password other-key-0123\n"
        #expect(settings(WandbOptions(), [:], netrc: netrc).0?.apiKey == key)
        #expect(settings(WandbOptions(baseURL: "http://127.0.0.1:9999"), [:], netrc: netrc).0?.apiKey == "other-key-0123")
        // The environment wins over netrc.
        #expect(settings(WandbOptions(), ["WANDB_API_KEY": "from-env-0123456"], netrc: netrc).0?.apiKey == "from-env-0123456")
    }

    @Test func stripsUserinfoFromTheBaseURL() {
        let resolved = settings(WandbOptions(baseURL: "https://me:secret@wandb.example.com/"), ["WANDB_API_KEY": key]).0!
        #expect(resolved.baseURL == "https://wandb.example.com")
        #expect(SecretRedactor.strippingCredentials("https://me:secret@host/x@y") == "https://host/x@y")
    }

    @Test func rejectsBadNamesWithAWarning() {
        let (resolved, notes) = settings(WandbOptions(project: "a/b", runID: "bad:id"), ["WANDB_API_KEY": key])
        #expect(resolved?.project == "a-b")
        #expect(resolved?.runID != "bad:id")
        #expect(notes.count == 2)
        let (fallback, baseNotes) = settings(WandbOptions(baseURL: "ftp://x"), ["WANDB_API_KEY": key])
        #expect(fallback?.baseURL == "https://api.wandb.ai")
        #expect(baseNotes.first?.text.contains("not an http(s) URL") == true)
    }

    @Test func derivesTheDashboardURL() {
        #expect(WandbSettings.appURL(base: "https://api.wandb.ai", environment: [:]) == "https://wandb.ai")
        #expect(WandbSettings.appURL(base: "https://api.company.com", environment: [:]) == "https://app.company.com")
        #expect(WandbSettings.appURL(base: "http://127.0.0.1:1234", environment: [:]) == "http://127.0.0.1:1234")
        #expect(WandbSettings.appURL(base: "https://api.wandb.ai", environment: ["WANDB_APP_URL": "https://ui.example/"]) == "https://ui.example")
        #expect(WandbSettings.runURL(appURL: "https://wandb.ai", entity: "e", project: "my proj", runID: "abc") == "https://wandb.ai/e/my%20proj/runs/abc")
    }

    @Test func readsProxiesFromTheInjectedEnvironment() {
        #expect(ProxySettings(environment: ["https_proxy": "http://p:1"], scheme: "https").proxy == "http://p:1")
        #expect(ProxySettings(environment: ["HTTPS_PROXY": "http://p:2"], scheme: "https").proxy == "http://p:2")
        #expect(ProxySettings(environment: ["HTTP_PROXY": "http://p:3"], scheme: "http").proxy == nil)
        #expect(ProxySettings(environment: ["http_proxy": "http://p:3"], scheme: "http").proxy == "http://p:3")
        #expect(ProxySettings(environment: ["ALL_PROXY": "socks5://p:4", "NO_PROXY": "localhost"], scheme: "http") == ProxySettings(proxy: "socks5://p:4", noProxy: "localhost"))
    }
}
