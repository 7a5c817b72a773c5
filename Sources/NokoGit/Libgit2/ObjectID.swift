import CGit2

/// A git object id (SHA-1), kept as libgit2's own struct so it can be passed straight back.
struct ObjectID: Equatable, CustomStringConvertible {
    var raw: git_oid

    init(_ raw: git_oid) {
        self.raw = raw
    }

    /// Parses a full 40-digit hexadecimal id.
    init(hex: String) throws(GitError) {
        ensureLibgit2()
        var oid = git_oid()
        let valid = hex.utf8.count == 40 && hex.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }
        guard valid else {
            throw GitError(operation: "read object id", message: "'\(hex)' is not a 40-digit hexadecimal commit id")
        }
        let code = hex.withCString { git_oid_fromstr(&oid, $0) }
        try check(code, "read object id '\(hex)'")
        raw = oid
    }

    /// The 40-digit lowercase hexadecimal form.
    var hex: String {
        var copy = raw
        // 40 digits plus the terminating NUL that git_oid_tostr writes.
        return String(unsafeUninitializedCapacity: 41) { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                _ = git_oid_tostr(chars.baseAddress, 41, &copy)
            }
            return 40
        }
    }

    var description: String { hex }

    static func == (lhs: ObjectID, rhs: ObjectID) -> Bool {
        var l = lhs.raw
        var r = rhs.raw
        return git_oid_equal(&l, &r) != 0
    }
}
