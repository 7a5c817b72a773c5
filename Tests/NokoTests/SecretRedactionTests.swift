import Foundation
import NokoCore
import NokoTestSupport
import NokoWandbTestSupport
import Testing

@testable import Noko

/// The secret corpus through a real run (a child process that calls `Noko.withRun`, logs
/// rows, sets `run.summary`, fails with a token in its error and has the corpus on its
/// command line), mirrored on a loopback wandb server: no positive in any file of the run
/// directory, in any request the server received or on stderr; every negative recorded as
/// given.
@Suite struct SecretRedactionTests {
    @Test func noSecretOfTheCorpusLeaksAndNoLookAlikeIsRedacted() throws {
        let server = try WandbTestServer()
        defer { server.stop() }
        let runs = temporaryDirectory()
        let arguments = SecretCorpus.positives.map(\.value) + SecretCorpus.negatives.map(\.value)
        let child = try Child(
            ["secrets", runs.path, "corpus"] + arguments,
            environment: [
                "WANDB_MODE": "online", "WANDB_PROJECT": "proj", "WANDB_ENTITY": "team", "WANDB_BASE_URL": server.baseURL,
                "WANDB_API_KEY": server.apiKey,
            ])
        #expect(child.wait() == 0, "\(child.stderr)")
        let dir = runs.appendingPathComponent("corpus")
        let secrets = SecretCorpus.positives.map(\.secret) + SecretCorpus.issueSecrets

        // 0 positives leak: not in any file, not in any request, not on stderr.
        let files = try #require(FileManager.default.subpaths(atPath: dir.path)).filter { !isDirectory(dir.appendingPathComponent($0)) }
        for required in ["config.json", "metadata.json", "noko.ndjson", "summary.json", "config.csv", "corpus.csv", "noko_pprint.log", "debug.log"] {
            #expect(files.contains(required), "\(required) in \(files)")
        }
        for file in files {
            let text = String(decoding: try Data(contentsOf: dir.appendingPathComponent(file)), as: UTF8.self)
            for secret in secrets {
                let leaks = text.contains(secret)
                #expect(!leaks, "'\(secret)' leaks into \(file)")
            }
        }
        let requests = server.requests
        #expect(requests.contains { $0.kind == .graphQL(operation: "UpsertBucket") })
        for request in requests {
            let body = request.text
            for secret in secrets {
                let leaks = body.contains(secret)
                #expect(!leaks, "'\(secret)' leaks into a request to \(request.path)")
            }
        }
        let stderr = child.stderr
        for secret in secrets {
            let leaks = stderr.contains(secret)
            #expect(!leaks, "'\(secret)' leaks into a warning")
        }

        // Each redaction is warned about, by key path and rule.
        #expect(child.stderr.contains("config key 'githubPAT': its value matches the token format 'GitHub token'"), "\(child.stderr)")
        #expect(child.stderr.contains("config key 'issue/endpoints[0]': its URL's query parameter 'token' looks like a secret"))
        #expect(child.stderr.contains("config key 'issue/services[0]/secret_access_key': its name looks like a secret"))
        #expect(child.stderr.contains("table 'auth', key 'token': its value matches the token format 'GitHub token'"))
        #expect(child.stderr.contains("run.summary key 'best/api_key'"))
        for negative in SecretCorpus.negatives {
            #expect(!child.stderr.contains("'\(negative.key)'"), "a look-alike was warned about: \(negative)")
        }

        // The records: positives redacted (URLs keep what is not secret), negatives as given.
        let config = try #require(try ConfigFile.read(from: dir))
        for positive in SecretCorpus.positives {
            #expect(config[positive.key] == .string(positive.redacted ?? "<redacted>"), "\(positive)")
        }
        for negative in SecretCorpus.negatives {
            #expect(config[negative.key] == .string(negative.value), "\(negative)")
        }
        #expect(config["issue"]?["endpoints"] == ["https://api.example.com/v1?token=<redacted>&x=1", "https://h.example.com/"])
        #expect(config["issue"]?["seed"] == 1)
        #expect(config["kept_token"] == .string(SecretCorpus.keptToken), "RunOptions.unredactedKeys keeps a key as given")

        let metadata = try RunMetadata.read(from: dir)
        #expect(metadata.status == "failed")
        #expect(metadata.error?.contains("<redacted>") == true)
        let argv = try #require(metadata.argv)
        #expect(argv.count == 4 + arguments.count)
        for (index, positive) in SecretCorpus.positives.enumerated() {
            #expect(argv[4 + index] == positive.redacted ?? "<redacted>", "\(positive)")
        }
        for (index, negative) in SecretCorpus.negatives.enumerated() {
            #expect(argv[4 + SecretCorpus.positives.count + index] == negative.value, "\(negative)")
        }
        let summary = try #require(metadata.summary)
        for positive in SecretCorpus.positives {
            #expect(summary[positive.key] == .string(positive.redacted ?? "<redacted>"), "\(positive)")
        }
        for negative in SecretCorpus.negatives {
            #expect(summary[negative.key] == .string(negative.value), "\(negative)")
        }
        #expect(summary["best"] == ["api_key": "<redacted>", "value": 0.5])

        let journal = try String(contentsOf: dir.appendingPathComponent("noko.ndjson"), encoding: .utf8)
            .split(separator: "\n").map { try JSONValue(parsing: Array($0.utf8)) }
        let plain = journal.filter { $0["$table"] == .string("plain") }
        #expect(plain.count == 3)
        for row in plain {
            for negative in SecretCorpus.negatives {
                #expect(row[negative.key] == .string(negative.value), "\(negative)")
            }
            #expect(row["n"]?.intValue.map { $0 >= 123_456_789_012 } == true, "numbers are never touched")
        }
        for row in journal where row["$table"] == .string("corpus") {
            for positive in SecretCorpus.tokens {
                #expect(row[positive.key] == .string("<redacted>"), "\(positive)")
            }
        }
        let configRow = try #require(journal.first { $0["$table"] == .string("config") })
        for negative in SecretCorpus.negatives {
            #expect(configRow[negative.key] == .string(negative.value), "\(negative)")
        }
        #expect(journal.filter { $0["$table"] == .string("kept") }.allSatisfy { $0["token"] == .string(SecretCorpus.keptToken) })

        // wandb got what the run directory holds.
        let runID = try #require(metadata.remotes?["wandb"]?["run_id"]?.stringValue)
        let record = try #require(server.run(runID))
        let remoteConfig = try JSONValue(parsing: try #require(record.config))
        for positive in SecretCorpus.positives {
            #expect(remoteConfig[positive.key]?["value"] == .string(positive.redacted ?? "<redacted>"), "\(positive)")
        }
        for negative in SecretCorpus.negatives {
            #expect(remoteConfig[negative.key]?["value"] == .string(negative.value), "\(negative)")
        }
        let history = try record.lines.map { try ExtendedJSON.parse($0) }
        let remotePlain = history.filter { $0["plain/n"] != nil }
        #expect(remotePlain.count == 3)
        for negative in SecretCorpus.negatives {
            #expect(remotePlain.allSatisfy { $0["plain/\(negative.key)"] == .string(negative.value) }, "\(negative)")
        }
        let remoteSummary = try ExtendedJSON.parse(try #require(record.summary))
        for negative in SecretCorpus.negatives {
            #expect(remoteSummary[negative.key] == .string(negative.value), "\(negative)")
        }
        #expect(remoteSummary["githubPAT"] == "<redacted>")
    }

    private func isDirectory(_ url: URL) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &directory) && directory.boolValue
    }
}
