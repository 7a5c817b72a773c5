import Foundation
import Logging
import NokoTestSupport
import Testing

@testable import NokoCore

/// Every rule of `SecretRules` has a test of its own, and the corpus of positives and
/// negatives goes through the one redaction function.
@Suite struct SecretRedactorTests {
    // MARK: One test per entry of the rule tables

    @Test(arguments: SecretRules.tokenFormats.map(\.name))
    func everyTokenFormatRedactsItsExamplesAndOnlyThose(format: String) {
        let examples = SecretCorpus.tokens.filter { $0.rule == format }
        #expect(!examples.isEmpty, "the corpus has no example of '\(format)'")
        for example in examples {
            let (text, rule) = SecretRedactor.standard.redact(example.value)
            #expect(text == "<redacted>", "\(example)")
            #expect(rule == .tokenFormat(format), "\(example)")
            // Inside a longer text, too: a command line, an environment line.
            let embedded = SecretRedactor.standard.redact("export X='\(example.value)' # set by ci")
            #expect(embedded.rule == .tokenFormat(format), "\(example) embedded")
            // Not the key's name but the value gives it away.
            #expect(!SecretRules.isSecretKey(example.key), "\(example)")
        }
    }

    @Test(arguments: SecretRules.keyWords.sorted())
    func everyKeyWordMakesAKeySecret(word: String) {
        #expect(SecretRules.isSecretKey(word))
        #expect(SecretRules.isSecretKey("db_\(word)"))
        #expect(SecretRules.isSecretKey("my" + word.prefix(1).uppercased() + word.dropFirst()))
        #expect(SecretRules.isSecretKey(word.uppercased() + "_VALUE"))
        #expect(!SecretRules.isSecretKey("\(word)x"), "a word, not a prefix")
        #expect(SecretRedactor.redactingURLParameters("https://h/x?\(word)=v1&page=2")?.0 == "https://h/x?\(word)=<redacted>&page=2")
    }

    @Test(arguments: SecretRules.keyQualifiers.sorted())
    func everyKeyQualifierMakesAFollowingKeySecret(qualifier: String) {
        #expect(SecretRules.isSecretKey("\(qualifier)_key"))
        #expect(SecretRules.isSecretKey(qualifier.uppercased() + "_KEY"))
        #expect(SecretRules.isSecretKey(qualifier + "Key"))
        #expect(SecretRules.isSecretKey("\(qualifier)_dim") == SecretRules.keyWords.contains(qualifier))
        #expect(!SecretRules.isSecretKey("key_\(qualifier)") || SecretRules.keyWords.contains(qualifier), "the order matters")
    }

    @Test(arguments: SecretRules.urlParameterWords.sorted() + SecretRules.urlParameterNames.sorted())
    func everyURLParameterRuleRedactsOnlyTheValue(name: String) {
        let (text, rule) = SecretRedactor.standard.redact("https://h.example.com/a/b?page=2&\(name)=abc123&x=1#top")
        #expect(text == "https://h.example.com/a/b?page=2&\(name)=<redacted>&x=1#top")
        #expect(rule == .urlParameter(name))
        #expect(!SecretRules.isSecretKey(name), "a URL-only rule: as a config key '\(name)' stays")
    }

    // MARK: The corpus

    @Test(arguments: SecretCorpus.urls)
    func secretURLParametersAreRedactedAndTheRestOfTheURLKept(example: SecretCorpus.Positive) {
        let (text, rule) = SecretRedactor.standard.redact(example.value)
        #expect(text == example.redacted)
        #expect(!text.contains(example.secret))
        guard case .urlParameter = rule else {
            Issue.record("\(example): \(String(describing: rule))")
            return
        }
    }

    @Test(arguments: SecretCorpus.negatives)
    func lookAlikesStayAsTheyAre(example: SecretCorpus.Negative) {
        let (text, rule) = SecretRedactor.standard.redact(example.value)
        #expect(text == example.value)
        #expect(rule == nil)
        #expect(!SecretRules.isSecretKey(example.key))
    }

    @Test func moreLookAlikesStay() {
        for text in [
            "", "sk-", "hf_", "ghp_", "AIza", "eyJ", "Bearer", "Basic", "-----BEGIN", "?", "?=", "?token", "a=b?c",
            "eyJhbGciOiJIUzI1NiJ9.", "eyJhbGciOiJIUzI1NiJ9.x", "file.eyJ.json", "Basic dXNlcm5hbWU=",
            "tokens_per_second=512", "hf_" + String(repeating: "a", count: 29), "AKIA" + String(repeating: "A", count: 15),
            "résumé ghp_ülauts", "naïve?token", String(repeating: "x", count: 10_000),
            SecretCorpus.pseudoRandomBase64(bytes: 300_000, seed: 42),
        ] {
            let (result, rule) = SecretRedactor.standard.redact(text)
            #expect(result == text, "\(text.prefix(60))")
            #expect(rule == nil, "\(text.prefix(60))")
        }
    }

    @Test func keyNamesSplitAtHumpsAndAcronyms() {
        #expect(SecretRules.words(of: "AWSAccessKeyId") == ["aws", "access", "key", "id"])
        #expect(SecretRules.words(of: "authToken") == ["auth", "token"])
        #expect(SecretRules.words(of: "HFToken") == ["hf", "token"])
        #expect(SecretRules.words(of: "OPENAI_API_KEY") == ["openai", "api", "key"])
        #expect(SecretRules.words(of: "layer2Norm") == ["layer2", "norm"])
        for key in ["max_tokens", "tokenizer", "author", "key_dim", "num_tokens", "key", "secretary", "lr", "keyword", "ghToken2"] {
            #expect(!SecretRules.isSecretKey(key), "\(key)")
        }
    }

    // MARK: Trees, command lines, key paths kept as given

    @Test func treesAreRedactedByKeyAndByValueWithOneFindingEach() throws {
        let tree: JSONValue = [
            "seed": 1, "githubPAT": "ghp_hunter9abcdefghijklmnopqrstuvwxyz0123", "password": "hunter2",
            "endpoints": ["https://api.example.com/v1?token=hunter4&x=1", "https://h.example.com/"],
            "services": [["secret_access_key": "k", "name": "s3"]], "ratio": 0.5, "flag": true, "none": .null,
        ]
        let (redacted, findings) = SecretRedactor.standard.redact(tree)
        #expect(redacted["githubPAT"] == "<redacted>")
        #expect(redacted["password"] == "<redacted>")
        #expect(redacted["endpoints"] == ["https://api.example.com/v1?token=<redacted>&x=1", "https://h.example.com/"])
        #expect(redacted["services"]?.arrayValue?.first?["secret_access_key"] == "<redacted>")
        #expect(redacted["services"]?.arrayValue?.first?["name"] == "s3")
        #expect(redacted["seed"] == 1)
        #expect(redacted["ratio"] == 0.5)
        #expect(redacted["flag"] == true)
        #expect(redacted["none"] == .null)
        #expect(findings == [
            .init(keyPath: "endpoints[0]", rule: .urlParameter("token")),
            .init(keyPath: "githubPAT", rule: .tokenFormat("GitHub token")),
            .init(keyPath: "password", rule: .keyName),
            .init(keyPath: "services[0]/secret_access_key", rule: .keyName),
        ])
        let message = findings[1].message(subject: "config key")
        #expect(message.contains("config key 'githubPAT'") && message.contains("'GitHub token'"))
        #expect(message.contains("RunOptions.unredactedKeys"))
        #expect(!message.contains("hunter9"), "a warning never holds the value")
        #expect(!findings[0].message(subject: "config key").contains("hunter4"))

        var keeping = SecretRedactor.standard
        keeping.keptAsGiven = ["githubPAT", "services[0]/secret_access_key", "endpoints[0]"]
        let (kept, rest) = keeping.redact(tree)
        #expect(kept["githubPAT"] == tree["githubPAT"])
        #expect(kept["endpoints"] == tree["endpoints"])
        #expect(kept["services"] == tree["services"])
        #expect(rest == [.init(keyPath: "password", rule: .keyName)])

        let (unchanged, none) = SecretRedactor.off.redact(tree)
        #expect(unchanged == tree)
        #expect(none.isEmpty)
        let keyNamesOnly = SecretRedactor(urlParameters: false, tokenFormats: false)
        #expect(keyNamesOnly.redact(tree).1.map(\.keyPath) == ["password", "services[0]/secret_access_key"])
    }

    @Test func redactingTwiceChangesNothingMore() {
        for example in SecretCorpus.positives {
            let once = SecretRedactor.standard.redact(example.value).text
            let twice = SecretRedactor.standard.redact(once)
            #expect(twice.text == once)
            #expect(twice.rule == nil, "\(example)")
        }
    }

    @Test func commandLinesKeepOptionNamesAndDropSecrets() {
        let argv = [
            "train", "--api-key", "sk-1", "--token=abc", "--lr", "0.1", "--data", "https://u:p@host/x", "--max-tokens", "5",
            "--db=postgres://me:pw@h/x", "a https://x:y@h1/a and http://h2/b", "ghp_hunter9abcdefghijklmnopqrstuvwxyz0123",
            "--header=Authorization: Bearer 3f9a1c2e7b8d4f60a1b2c3d4e5f60718", "--url=https://h/x?sig=abc&page=2",
            "--tokenizer=bert", "--seed", "7",
        ]
        let (result, findings) = SecretRedactor.standard.redact(commandLine: argv)
        #expect(result == [
            "train", "--api-key", "<redacted>", "--token=<redacted>", "--lr", "0.1", "--data", "https://host/x", "--max-tokens", "5",
            "--db=postgres://h/x", "a https://h1/a and http://h2/b", "<redacted>",
            "--header=<redacted>", "--url=https://h/x?sig=<redacted>&page=2", "--tokenizer=bert", "--seed", "7",
        ])
        #expect(findings.map(\.keyPath) == ["argv[2]", "argv[3]", "argv[12]", "argv[13]", "argv[14]"])
        var keeping = SecretRedactor.standard
        keeping.keptAsGiven = ["argv[12]"]
        #expect(keeping.redact(commandLine: argv).0[12] == argv[12])
        #expect(SecretRedactor.off.redact(commandLine: argv).0[2] == "sk-1")
        #expect(SecretRedactor.off.redact(commandLine: argv).0[7] == "https://host/x", "userinfo is always stripped")
    }

    // MARK: Logged rows

    @Test func loggedStringsHoldingATokenAreRedactedWithAWarningNumbersNever() throws {
        let (logger, output, messages) = memoryLogger()
        let pat = "ghp_hunter9abcdefghijklmnopqrstuvwxyz0123"
        logger.logRow("auth", ["token": pat, "n": 123_456_789_012, "x": 0.5, "note": "ok", "url": "https://h/x?token=abc"] as [String: Any])
        logger.logRow("auth", ["token": pat, "n": 1, "x": 1.5, "note": "ok", "url": "https://h/x?token=abc"] as [String: Any])
        let rows = output.rows(in: "auth")
        #expect(rows.map { $0["token"] } == [.string("<redacted>"), .string("<redacted>")])
        #expect(rows.first?["n"] == .int(123_456_789_012))
        #expect(rows.first?["x"] == .double(0.5))
        #expect(rows.first?["note"] == .string("ok"))
        #expect(rows.first?["url"] == .string("https://h/x?token=abc"), "rows are the user's data: only token formats")
        let warnings = messages.messages(atLeast: .warning).filter { $0.contains("<redacted>") }
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.contains("table 'auth', key 'token'") == true)
        #expect(warnings.first?.contains("'auth/token'") == true)
        #expect(warnings.first?.contains("hunter9") == false)

        for example in SecretCorpus.tokens {
            logger.logRow("corpus", [example.key: example.value])
            #expect(output.rows(in: "corpus").last?[example.key] == .string("<redacted>"), "\(example)")
        }
        for example in SecretCorpus.negatives {
            logger.logRow("plain", [example.key: example.value])
            #expect(output.rows(in: "plain").last?[example.key] == .string(example.value), "\(example)")
        }
    }

    @Test func rowRedactionFollowsTheLoggersSetting() {
        let (logger, output, _) = memoryLogger()
        let pat = "ghp_hunter9abcdefghijklmnopqrstuvwxyz0123"
        var keeping = SecretRedactor.rows
        keeping.keptAsGiven = ["auth/token"]
        logger.redactRowStrings(with: keeping)
        logger.logRow("auth", ["token": pat, "other": pat])
        #expect(output.rows(in: "auth").last?["token"] == .string(pat))
        #expect(output.rows(in: "auth").last?["other"] == .string("<redacted>"))
        logger.redactRowStrings(with: nil)
        logger.logRow("auth", ["token": pat, "other": pat])
        #expect(output.rows(in: "auth").last?["other"] == .string(pat))
        logger.logSummary("replayed", [("s", .string(pat))])
        #expect(output.rows(in: "replayed").last?["s"] == .string(pat), "already-summarized rows are written as given")
    }
}
