import Foundation

/// Finds the first well-known token (``SecretRules/tokenFormats``) in a text, in one pass
/// over its UTF-8 bytes.
///
/// The text is read as words of letters, digits, `_` and `-`; a token must be a whole word
/// (`hf_` inside `path/hf_hub_cache` is the start of a word too short to be a token). Only a
/// word's first byte picks the formats worth checking, so ordinary text costs one look per
/// word.
enum TokenScanner {
    /// The formats whose tokens can start with each byte (the authorization schemes in both cases).
    private static let candidatesByFirstByte: [[Int]] = {
        var table = [[Int]](repeating: [], count: 256)
        for (index, format) in SecretRules.tokenFormats.enumerated() {
            var firstBytes: Set<UInt8> = []
            switch format.shape {
            case .prefixed(let prefixes, _, _, _): firstBytes = Set(prefixes.compactMap { $0.utf8.first })
            case .jsonWebToken: firstBytes = [UInt8(ascii: "e")]
            case .pemPrivateKey: firstBytes = [UInt8(ascii: "-")]
            case .authorization(let scheme, _):
                firstBytes = [scheme.lowercased().utf8.first!, scheme.uppercased().utf8.first!]
            }
            for byte in firstBytes { table[Int(byte)].append(index) }
        }
        return table
    }()

    /// The format of the first token in `text`, or nil.
    static func firstToken(in text: String) -> TokenFormat? {
        var text = text
        return text.withUTF8 { firstToken(in: $0) }
    }

    static func firstToken(in bytes: UnsafeBufferPointer<UInt8>) -> TokenFormat? {
        let count = bytes.count
        var i = 0
        while i < count {
            guard bytes[i].isTokenWordByte else {
                i += 1
                continue
            }
            let start = i
            while i < count, bytes[i].isTokenWordByte { i += 1 }
            for index in candidatesByFirstByte[Int(bytes[start])] {
                let format = SecretRules.tokenFormats[index]
                if matches(format.shape, bytes, word: start..<i) { return format }
            }
        }
        return nil
    }

    private static func matches(_ shape: TokenFormat.Shape, _ bytes: UnsafeBufferPointer<UInt8>, word: Range<Int>) -> Bool {
        switch shape {
        case .prefixed(let prefixes, let alphabet, let length, let requirement):
            for prefix in prefixes where hasPrefix(bytes, word, prefix) {
                let body = (word.lowerBound + prefix.utf8.count)..<word.upperBound
                guard length.contains(body.count), body.allSatisfy({ alphabet.contains(bytes[$0]) }) else { continue }
                if satisfies(requirement, bytes, body) { return true }
            }
            return false
        case .jsonWebToken:
            return isJSONWebToken(bytes, header: word)
        case .pemPrivateKey:
            return isPrivateKeyHeader(bytes, word: word)
        case .authorization(let scheme, let credential):
            return isAuthorization(bytes, word: word, scheme: scheme, credential)
        }
    }

    private static func hasPrefix(_ bytes: UnsafeBufferPointer<UInt8>, _ word: Range<Int>, _ prefix: String) -> Bool {
        var i = word.lowerBound
        for byte in prefix.utf8 {
            guard i < word.upperBound, bytes[i] == byte else { return false }
            i += 1
        }
        return true
    }

    private static func satisfies(_ requirement: TokenRequirement, _ bytes: UnsafeBufferPointer<UInt8>, _ body: Range<Int>) -> Bool {
        switch requirement {
        case .nothing:
            return true
        case .digit:
            return body.contains { bytes[$0].isASCIIDigit }
        case .randomSegment(let minimum):
            var length = 0, letter = false, digit = false
            for i in body {
                let byte = bytes[i]
                if byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") {
                    length = 0
                    letter = false
                    digit = false
                    continue
                }
                length += 1
                letter = letter || byte.isASCIILetter
                digit = digit || byte.isASCIIDigit
                if length >= minimum, letter, digit { return true }
            }
            return false
        }
    }

    /// `eyJ…` of 10 or more, `.`, a payload of 2 or more, `.`, a signature (possibly empty:
    /// an unsigned token is still a credential).
    private static func isJSONWebToken(_ bytes: UnsafeBufferPointer<UInt8>, header: Range<Int>) -> Bool {
        guard header.count >= 10, hasPrefix(bytes, header, "eyJ") else { return false }
        var i = header.upperBound
        guard i < bytes.count, bytes[i] == UInt8(ascii: ".") else { return false }
        i += 1
        let payloadStart = i
        while i < bytes.count, bytes[i].isTokenWordByte { i += 1 }
        guard i - payloadStart >= 2, i < bytes.count, bytes[i] == UInt8(ascii: ".") else { return false }
        return true
    }

    /// `-----BEGIN`, then a label naming a private key (`RSA PRIVATE KEY`, `OPENSSH PRIVATE
    /// KEY`, `PGP PRIVATE KEY BLOCK`), then `-----`. Certificates and public keys stay.
    private static func isPrivateKeyHeader(_ bytes: UnsafeBufferPointer<UInt8>, word: Range<Int>) -> Bool {
        guard word.count == 10, hasPrefix(bytes, word, "-----BEGIN") else { return false }
        var i = word.upperBound
        let labelStart = i
        while i < bytes.count, i - labelStart < 64, bytes[i] != UInt8(ascii: "-") { i += 1 }
        guard i + 5 <= bytes.count, hasPrefix(bytes, i..<(i + 5), "-----") else { return false }
        let label = String(decoding: UnsafeBufferPointer(rebasing: bytes[labelStart..<i]), as: UTF8.self)
        return label.contains("PRIVATE KEY")
    }

    private static func isAuthorization(
        _ bytes: UnsafeBufferPointer<UInt8>, word: Range<Int>, scheme: String, _ credential: AuthorizationCredential
    ) -> Bool {
        guard word.count == scheme.utf8.count else { return false }
        for (offset, byte) in scheme.utf8.enumerated() where bytes[word.lowerBound + offset] | 0x20 != byte {
            return false
        }
        var i = word.upperBound
        guard i < bytes.count, bytes[i] == UInt8(ascii: " ") else { return false }
        while i < bytes.count, bytes[i] == UInt8(ascii: " ") { i += 1 }
        let start = i
        while i < bytes.count, isCredentialByte(bytes[i]) { i += 1 }
        let value = start..<i
        switch credential {
        case .opaque(let minimum):
            return value.count >= minimum && value.contains { bytes[$0].isASCIIDigit }
        case .userColonPassword:
            guard value.count >= 8, value.count % 4 == 0 else { return false }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[value]), as: UTF8.self)
            guard let decoded = Data(base64Encoded: text) else { return false }
            return decoded.contains(UInt8(ascii: ":"))
        }
    }

    /// RFC 6750's token68: letters, digits and `-._~+/`, then `=` padding.
    private static func isCredentialByte(_ byte: UInt8) -> Bool {
        byte.isTokenWordByte || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "~") || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "=")
    }
}
