/// What noko takes for a secret, as data, in one place: the words that make a key name
/// secret, the words that make a URL query parameter secret, and the well-known token
/// formats recognised by their value whatever their key. ``SecretRedactor`` applies them;
/// the README's secrets paragraph lists them; each entry has a test.
///
/// The formats are the ones GitHub's secret scanning, gitleaks and trufflehog recognise, kept
/// strict (a prefix, an alphabet, a length, the whole word) so that ordinary values (`sk`,
/// `hf_hub_cache`, a commit hash, a UUID, base64 data) stay as they are.
package enum SecretRules {
    // MARK: Key names

    /// Words that make a key secret wherever they appear in it (`hf_token`, `authToken`,
    /// `db_password`). Words, not substrings: `max_tokens`, `tokenizer`, `author` stay.
    package static let keyWords: Set<String> = [
        "token", "secret", "secrets", "password", "passwd", "passphrase", "credential", "credentials",
        "apikey", "auth", "privatekey", "accesskey",
    ]

    /// Words that make a following "key" a secret: `api_key`, `wandb_key`, `private_key`,
    /// `AWSAccessKeyId`.
    package static let keyQualifiers: Set<String> = ["api", "access", "private", "secret", "wandb", "hf", "openai", "aws"]

    // MARK: URL query parameters

    /// Words that make a URL query parameter secret besides the key words: the signatures of
    /// presigned URLs (`sig=`, `X-Amz-Signature=`, `X-Goog-Signature=`, `Signature=`).
    package static let urlParameterWords: Set<String> = ["sig", "signature"]

    /// Whole parameter names that are secret in a URL though not as config keys: `key=` is an
    /// API key in a query string (Google's, and many others').
    package static let urlParameterNames: Set<String> = ["key"]

    // MARK: Value formats

    /// Well-known token formats, recognised by value whatever their key.
    package static let tokenFormats: [TokenFormat] = [
        TokenFormat(
            name: "GitHub token", .prefixed(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"], .alphanumeric, length: 30...255)),
        TokenFormat(name: "GitHub fine-grained token", .prefixed(["github_pat_"], .alphanumericOrUnderscore, length: 22...255)),
        // OpenAI (`sk-…`, `sk-proj-…`) and Anthropic (`sk-ant-api03-…`) keys. A random part
        // (letters and digits, 16 or more) tells a key from a hyphenated name like `sk-learn`.
        TokenFormat(name: "API key (sk-)", .prefixed(["sk-"], .base64URL, length: 20...512, requires: .randomSegment(16))),
        TokenFormat(name: "Hugging Face token", .prefixed(["hf_"], .alphanumeric, length: 30...64)),
        TokenFormat(
            name: "Slack token", .prefixed(["xoxa-", "xoxb-", "xoxp-", "xoxr-"], .alphanumericOrHyphen, length: 10...255, requires: .digit)),
        TokenFormat(name: "AWS access key id", .prefixed(["AKIA", "ASIA"], .upperAlphanumeric, length: 16...16)),
        TokenFormat(name: "Google API key", .prefixed(["AIza"], .base64URL, length: 35...35)),
        TokenFormat(name: "JSON web token", .jsonWebToken),
        TokenFormat(name: "PEM private key", .pemPrivateKey),
        TokenFormat(name: "Bearer credential", .authorization(scheme: "bearer", .opaque(minimumLength: 16))),
        TokenFormat(name: "Basic credential", .authorization(scheme: "basic", .userColonPassword)),
    ]

    // MARK: Applying the name rules

    /// True when a word of `key` (split at non-letters and camelCase humps) is a secret
    /// word, or "key" follows one of ``keyQualifiers``.
    package static func isSecretKey(_ key: String) -> Bool {
        isSecretKey(words: words(of: key))
    }

    private static func isSecretKey(words: [String]) -> Bool {
        if words.contains(where: keyWords.contains) { return true }
        return zip(words, words.dropFirst()).contains { keyQualifiers.contains($0) && $1 == "key" }
    }

    /// True when a URL query parameter of this name carries a secret: a secret key name
    /// (`access_token`, `api_key`), a signature (`X-Amz-Signature`), or `key`.
    package static func isSecretURLParameter(_ name: Substring) -> Bool {
        let words = words(of: name)
        if isSecretKey(words: words) || words.contains(where: urlParameterWords.contains) { return true }
        return words.count == 1 && urlParameterNames.contains(words[0])
    }

    /// The lowercased words of a key: split at every character that is not a letter or a
    /// digit, and at camelCase humps (`authToken` → auth, token; `AWSAccessKeyId` → aws,
    /// access, key, id).
    package static func words(of key: some StringProtocol) -> [String] {
        if key.utf8.allSatisfy({ $0 < 0x80 }) { return asciiWords(of: Array(key.utf8)) }
        var words: [String] = []
        var current = ""
        let characters = Array(key)
        for (i, character) in characters.enumerated() {
            if !(character.isLetter || character.isNumber) {
                if !current.isEmpty { words.append(current) }
                current = ""
                continue
            }
            if character.isUppercase, !current.isEmpty,
                startsWord(previousLower: characters[i - 1].isLowercase || characters[i - 1].isNumber,
                    previousUpper: characters[i - 1].isUppercase,
                    nextLower: i + 1 < characters.count && characters[i + 1].isLowercase)
            {
                words.append(current)
                current = ""
            }
            current.append(contentsOf: character.lowercased())
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// `authToken`: a hump after a lowercase letter or a digit; `AWSAccess`: the last capital
    /// of an acronym starts the next word.
    private static func startsWord(previousLower: Bool, previousUpper: Bool, nextLower: Bool) -> Bool {
        previousLower || (previousUpper && nextLower)
    }

    /// ``words(of:)`` for ASCII keys (nearly all), on bytes.
    private static func asciiWords(of bytes: [UInt8]) -> [String] {
        var words: [String] = []
        var start: Int?
        func finish(_ end: Int) {
            if let from = start {
                words.append(String(decoding: bytes[from..<end].lazy.map { $0.isASCIIUpper ? $0 | 0x20 : $0 }, as: UTF8.self))
            }
        }
        for (i, byte) in bytes.enumerated() {
            guard byte.isASCIIAlphanumeric else {
                finish(i)
                start = nil
                continue
            }
            if byte.isASCIIUpper, let from = start, i > from {
                let previous = bytes[i - 1]
                if startsWord(
                    previousLower: previous.isASCIILower || previous.isASCIIDigit, previousUpper: previous.isASCIIUpper,
                    nextLower: i + 1 < bytes.count && bytes[i + 1].isASCIILower)
                {
                    finish(i)
                    start = i
                }
            }
            if start == nil { start = i }
        }
        finish(bytes.count)
        return words
    }
}

/// One well-known token format: a name for warnings and a shape to match.
package struct TokenFormat: Sendable, CustomStringConvertible {
    /// How a token of a format looks.
    package enum Shape: Sendable {
        /// One of `prefixes`, then `length` characters of `alphabet`, making up a whole word
        /// (letters, digits, `_` and `-`).
        case prefixed([String], TokenAlphabet, length: ClosedRange<Int>, requires: TokenRequirement = .nothing)
        /// `eyJ…` (a base64url JSON header), a dot, a payload, a dot, a signature.
        case jsonWebToken
        /// `-----BEGIN … PRIVATE KEY-----`.
        case pemPrivateKey
        /// An HTTP `Authorization` value: the scheme (any case), spaces, a credential.
        case authorization(scheme: String, AuthorizationCredential)
    }

    /// The format's name in warnings (`GitHub token`).
    package let name: String
    package let shape: Shape

    package init(name: String, _ shape: Shape) {
        self.name = name
        self.shape = shape
    }

    package var description: String { name }
}

/// The characters allowed after a token's prefix.
package enum TokenAlphabet: Sendable {
    case alphanumeric, alphanumericOrUnderscore, alphanumericOrHyphen, upperAlphanumeric
    /// Letters, digits, `-` and `_`.
    case base64URL

    func contains(_ byte: UInt8) -> Bool {
        switch self {
        case .alphanumeric: return byte.isASCIIAlphanumeric
        case .alphanumericOrUnderscore: return byte.isASCIIAlphanumeric || byte == UInt8(ascii: "_")
        case .alphanumericOrHyphen: return byte.isASCIIAlphanumeric || byte == UInt8(ascii: "-")
        case .upperAlphanumeric: return (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
        case .base64URL: return byte.isTokenWordByte
        }
    }
}

/// What a token's body must also contain.
package enum TokenRequirement: Sendable {
    case nothing
    /// At least one digit.
    case digit
    /// A part between `-`/`_` at least this long that mixes letters and digits.
    case randomSegment(Int)
}

/// What follows an `Authorization` scheme.
package enum AuthorizationCredential: Sendable {
    /// An opaque token at least this long with a digit in it (`Bearer 3f9a…`, not `Bearer
    /// authentication`).
    case opaque(minimumLength: Int)
    /// Base64 of `user:password` (`Basic dXNlcjpwYXNz`, not `Basic usage`).
    case userColonPassword
}

extension UInt8 {
    var isASCIIAlphanumeric: Bool {
        (self >= 0x30 && self <= 0x39) || (self >= 0x41 && self <= 0x5A) || (self >= 0x61 && self <= 0x7A)
    }

    /// A byte of a token word: letters, digits, `_`, `-`.
    var isTokenWordByte: Bool { isASCIIAlphanumeric || self == UInt8(ascii: "_") || self == UInt8(ascii: "-") }

    var isASCIIDigit: Bool { self >= 0x30 && self <= 0x39 }
    var isASCIIUpper: Bool { self >= 0x41 && self <= 0x5A }
    var isASCIILower: Bool { self >= 0x61 && self <= 0x7A }
    var isASCIILetter: Bool { (self >= 0x41 && self <= 0x5A) || (self >= 0x61 && self <= 0x7A) }
}
