/// Secrets and look-alikes for the redaction tests: every positive must be redacted wherever
/// noko records it, every negative kept exactly. The tokens are fakes in the real formats
/// (AWS's documentation key, GitHub's documentation token, made-up bodies).
package enum SecretCorpus {
    /// A value that must not leak.
    package struct Positive: Sendable, CustomStringConvertible {
        /// The token format's name (`SecretRules.tokenFormats`), or `url` for a URL parameter.
        package var rule: String
        /// A config key that says nothing about secrets, so only the value can give it away.
        package var key: String
        /// The value as given.
        package var value: String
        /// The part that must appear nowhere: no character in it is escaped by JSON or CSV.
        package var secret: String
        /// What the value becomes, when only part of it is redacted (URLs); nil: `<redacted>`.
        package var redacted: String?

        package var description: String { "\(rule): \(key)" }
    }

    /// A value that must stay as it is.
    package struct Negative: Sendable, CustomStringConvertible {
        package var key: String
        package var value: String
        package var description: String { "\(key): \(value.prefix(40))" }
    }

    private static func token(_ rule: String, _ key: String, _ value: String, secret: String? = nil) -> Positive {
        Positive(rule: rule, key: key, value: value, secret: secret ?? value, redacted: nil)
    }

    /// One or more per token format.
    package static let tokens: [Positive] = [
        token("GitHub token", "githubPAT", "ghp_hunter9abcdefghijklmnopqrstuvwxyz0123"),
        token("GitHub token", "ghToken2", "gho_16C7e42F292c6912E7710c838347Ae178B4a"),
        token("GitHub token", "creds", "ghs_Zq8Xw4Lm2Np6Rt0Vb3Yc7Ke1Hj5Gf9Ds2Aa1"),
        token("GitHub token", "app_install", "ghu_1234567890abcdefghijABCDEFGHIJ123456"),
        token("GitHub token", "refresh_it", "ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498"),
        token(
            "GitHub fine-grained token", "fine",
            "github_pat_11ABCDEFG0123456789abc_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"),
        token("API key (sk-)", "openai", "sk-Abc123Def456Ghi789Jkl012Mno345Pqr678Stu901Vwx2"),
        token("API key (sk-)", "openai_project", "sk-proj-x7Kq2mP9vL4nR8tW1yB6cF3hJ5gD0sA_Zq8Xw4Lm2Np6Rt0Vb3Yc7Ke1Hj5Gf9Ds-T3BlbkFJ9aZ"),
        token(
            "API key (sk-)", "anthropic",
            "sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa9876543210zyxwvutsrqponmlkjihgfedcba-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_abcdefghijklmnoAA"),
        token("Hugging Face token", "hub", "hf_aBcDeFgHiJkLmNoPqRsTuVwXyZaBcDeFgH"),
        token("Hugging Face token", "hub2", "hf_QwErTyUiOpAsDfGhJkLzXcVbNm0123456789"),
        token("Slack token", "slack_bot", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"),
        token("Slack token", "slack_user", "xoxp-2233445566-7788990011-1122334455-0a1b2c3d4e5f60718293a4b5c6d7e8f9"),
        token("AWS access key id", "aws_id", "AKIAIOSFODNN7EXAMPLE"),
        token("AWS access key id", "aws_session_id", "ASIAY34FZKBOKMUTVV7A"),
        token("Google API key", "maps", "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"),
        token(
            "JSON web token", "session",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"),
        token(
            "JSON web token", "unsigned", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.",
            secret: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9"),
        token(
            "PEM private key", "deploy",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx7Kq2mP9vL4nR8tW1yB6cF3hJ5gD0sAZq8Xw4Lm2Np6Rt0Vb3Yc7\n-----END RSA PRIVATE KEY-----\n",
            secret: "MIIEowIBAAKCAQEAx7Kq2mP9vL4nR8tW1yB6cF3hJ5gD0sAZq8Xw4Lm2Np6Rt0Vb3Yc7"),
        token(
            "PEM private key", "ssh",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----",
            secret: "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"),
        token(
            "PEM private key", "pkcs8", "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIPkq2mP9vL4nR8tW1yB6cF3hJ5gD0sAZq8Xw4Lm2Np6R\n-----END PRIVATE KEY-----",
            secret: "MC4CAQAwBQYDK2VwBCIEIPkq2mP9vL4nR8tW1yB6cF3hJ5gD0sAZq8Xw4Lm2Np6R"),
        token("Bearer credential", "header", "Bearer 3f9a1c2e7b8d4f60a1b2c3d4e5f60718", secret: "3f9a1c2e7b8d4f60a1b2c3d4e5f60718"),
        token(
            "Bearer credential", "curl_header", "Authorization: bearer x7Kq2mP9vL4nR8tW1yB6cF3hJ5gD0sA",
            secret: "x7Kq2mP9vL4nR8tW1yB6cF3hJ5gD0sA"),
        token("Basic credential", "proxy_header", "Basic dXNlcjpodW50ZXIyMDI2", secret: "dXNlcjpodW50ZXIyMDI2"),
    ]

    /// Every secret query-parameter name, with a value of its own, and whole presigned URLs.
    package static let urls: [Positive] = {
        let names = [
            "token", "access_token", "refresh_token", "id_token", "api_key", "apikey", "apiKey", "auth", "password",
            "passwd", "secret", "client_secret", "private_token", "sig", "signature", "Signature", "X-Amz-Signature",
            "X-Amz-Credential", "X-Amz-Security-Token", "X-Goog-Signature", "X-Goog-Credential", "AWSAccessKeyId", "key",
        ]
        var urls = names.enumerated().map { index, name in
            let secret = "hunter4q\(index)z"
            return Positive(
                rule: "url", key: "endpoint\(index)", value: "https://api.example.com/v1?\(name)=\(secret)&x=1",
                secret: secret, redacted: "https://api.example.com/v1?\(name)=<redacted>&x=1")
        }
        urls.append(
            Positive(
                rule: "url", key: "presigned",
                value: "https://bucket.s3.amazonaws.com/data.bin?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20260101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                secret: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                redacted: "https://bucket.s3.amazonaws.com/data.bin?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20260101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=<redacted>"))
        urls.append(
            Positive(
                rule: "url", key: "azure_sas",
                value: "https://acct.blob.core.windows.net/c/f.txt?sv=2022-11-02&se=2026-01-01&sp=r&sig=hunter6Sas0AbCdEf%3D",
                secret: "hunter6Sas0AbCdEf",
                redacted: "https://acct.blob.core.windows.net/c/f.txt?sv=2022-11-02&se=2026-01-01&sp=r&sig=<redacted>"))
        urls.append(
            Positive(
                rule: "url", key: "oauth_callback", value: "https://app.example.com/cb#access_token=hunter7Frag&state=xyz",
                secret: "hunter7Frag", redacted: "https://app.example.com/cb#access_token=<redacted>&state=xyz"))
        urls.append(
            Positive(
                rule: "url", key: "relative", value: "/api/v2/items?page=3&auth=hunter8Rel",
                secret: "hunter8Rel", redacted: "/api/v2/items?page=3&auth=<redacted>"))
        return urls
    }()

    /// A value in a token format under a key the test keeps as given (`RunOptions.unredactedKeys`).
    package static let keptToken = "ghp_keptKEPTkeptKEPTkeptKEPTkeptKEPT1234"

    /// The secrets of issue 27's config, under secret-looking keys (`password`, `hfToken`…).
    package static let issueSecrets = ["hunter3pw", "hunter4", "hunter5", "hunter6hf", "hunter7oa", "hunter8ah", "hunter5key", "hunter9sum"]

    /// Every positive.
    package static var positives: [Positive] { tokens + urls }

    /// Values that look a little like secrets and are not.
    package static let negatives: [Negative] = [
        Negative(key: "n_sk", value: "sk"),
        Negative(key: "n_sklearn", value: "sk-learn"),
        Negative(key: "n_sk_slug", value: "sk-resnet50-imagenet-finetune-v2"),
        Negative(key: "n_tokenizer", value: "tokenizer=bert"),
        Negative(key: "n_max_tokens", value: "max_tokens"),
        Negative(key: "n_commit", value: "88310d1f0c2b7a4e9d3c5b6a7f8e9d0c1b2a3f4e"),
        Negative(key: "n_sha256", value: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        Negative(key: "n_uuid", value: "123e4567-e89b-12d3-a456-426614174000"),
        Negative(key: "n_uuid_upper", value: "A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D"),
        Negative(key: "n_image", value: "data:image/png;base64," + pseudoRandomBase64(bytes: 6_000)),
        Negative(key: "n_hf_cache", value: "/home/user/.cache/huggingface/hf_hub_cache/models--bert-base-uncased"),
        Negative(key: "n_hf_env", value: "HF_HUB_CACHE=/data/hf_hub_cache"),
        Negative(key: "n_hf_transfer", value: "hf_transfer"),
        Negative(key: "n_page", value: "https://example.com/list?page=2"),
        Negative(key: "n_query", value: "https://example.com/search?tokenizer=bert&max_tokens=512&keyword=sk&q=token"),
        Negative(key: "n_empty_value", value: "https://example.com/x?token=&page=2"),
        Negative(key: "n_ghp_short", value: "ghp_short"),
        Negative(key: "n_akia", value: "AKIA"),
        Negative(key: "n_akia_long", value: "AKIAZZZZZZZZZZZZZZZZZZZZLONGER"),
        Negative(key: "n_xoxb", value: "xoxb"),
        Negative(key: "n_jwt_header", value: "eyJhbGciOiJIUzI1NiJ9"),
        Negative(key: "n_bearer_words", value: "Bearer of bad news"),
        Negative(key: "n_bearer_prose", value: "bearer authentication is configured"),
        Negative(key: "n_basic", value: "Basic usage"),
        Negative(key: "n_basic_word", value: "Basic configuration"),
        Negative(key: "n_certificate", value: "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUW\n-----END CERTIFICATE-----"),
        Negative(key: "n_public_key", value: "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----"),
        Negative(key: "n_task", value: "task-1234567890abcdef1234567890ab"),
        Negative(key: "n_email", value: "user@example.com"),
        Negative(key: "n_sentence", value: "the token budget is 4096; see the secret sauce"),
    ]

    /// Base64 of deterministic pseudo-random bytes, like an inlined image.
    package static func pseudoRandomBase64(bytes count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> String {
        var state = seed
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        for _ in 0..<count {
            // SplitMix64: a fixed stream, so the test sees the same data every time.
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            bytes.append(UInt8(truncatingIfNeeded: z ^ (z >> 31)))
        }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var text: [UInt8] = []
        var i = 0
        while i + 2 < bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            for shift in [18, 12, 6, 0] { text.append(alphabet[Int((n >> UInt32(shift)) & 63)]) }
            i += 3
        }
        return String(decoding: text, as: UTF8.self)
    }
}
