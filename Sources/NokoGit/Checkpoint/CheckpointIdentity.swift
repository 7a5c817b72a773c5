/// Who a checkpoint commit is by: the repository's `user.name` and `user.email` (any config
/// level), each falling back to `noko <noko@localhost>` so that a machine without a git
/// identity (CI, containers) still gets its checkpoint.
struct CheckpointIdentity: Equatable {
    static let fallbackName = "noko"
    static let fallbackEmail = "noko@localhost"

    var name: String
    var email: String

    init(name: String, email: String) {
        self.name = name
        self.email = email
    }

    init(config: GitConfig) throws(GitError) {
        let name = try config.string("user.name")?.trimmed
        let email = try config.string("user.email")?.trimmed
        self.name = name.flatMap { $0.isEmpty ? nil : $0 } ?? Self.fallbackName
        self.email = email.flatMap { $0.isEmpty ? nil : $0 } ?? Self.fallbackEmail
    }

    func signature() throws(GitError) -> GitSignature {
        try GitSignature(name: name, email: email)
    }
}

extension String {
    fileprivate var trimmed: String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
