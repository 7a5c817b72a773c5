import Foundation
import NokoCore
import Testing

@testable import NokoGit

/// The metadata record, credentials in remote URLs, and the commit identity.
@Suite("GitCheckpointRecord")
struct GitCheckpointRecordTests {
    private let sample = GitCheckpointRecord(
        root: "/work/project", branch: nil, detached: true, head: "a".padding(toLength: 40, withPad: "a", startingAt: 0),
        dirty: true, checkpoint: String(repeating: "b", count: 40), checkpointBranch: "noko-checkpoints",
        previousCheckpoint: nil, files: 12, bytes: 3456,
        skipped: [GitSkippedFile(path: ".env", reason: .secret, size: 10), GitSkippedFile(path: "big.bin", reason: .tooLarge, size: 9_000_000)],
        remoteURL: nil, fromHead: GitDiffStats(filesChanged: 2, insertions: 3, deletions: 1),
        fromLastCheckpoint: GitDiffStats(filesChanged: 12, insertions: 100, deletions: 0))

    @Test("encodes snake_case keys with explicit nulls, and decodes back")
    func json() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(sample)
        let object = try #require(try JSONValue(parsing: [UInt8](data)).objectValue)
        #expect(Set(object.keys) == [
            "root", "branch", "detached", "head", "dirty", "checkpoint", "checkpoint_branch", "previous_checkpoint",
            "files", "bytes", "skipped", "remote_url", "from_head", "from_last_checkpoint",
        ])
        #expect(object["branch"] == .null)
        #expect(object["previous_checkpoint"] == .null)
        #expect(object["remote_url"] == .null)
        #expect(object["from_head"]?["files_changed"] == .int(2))
        #expect(object["skipped"]?.arrayValue?[1]["reason"] == .string("too_large"))
        #expect(try JSONDecoder().decode(GitCheckpointRecord.self, from: data) == sample)
    }

    @Test("decoding names the missing key")
    func missingKey() throws {
        let json = Data(#"{"root": "/x", "detached": false, "dirty": false, "files": 1, "bytes": 1}"#.utf8)
        let error = #expect(throws: DecodingError.self) { try JSONDecoder().decode(GitCheckpointRecord.self, from: json) }
        #expect(String(describing: error).contains("checkpoint"))
    }

    @Test("remote URLs lose user names, passwords and tokens")
    func remoteCredentials() {
        #expect(SecretRedactor.strippingCredentials("https://user:pa55@github.com/a/b.git") == "https://github.com/a/b.git")
        #expect(SecretRedactor.strippingCredentials("https://ghp_token@github.com/a/b.git") == "https://github.com/a/b.git")
        #expect(SecretRedactor.strippingCredentials("ssh://git@host:2222/a/b.git") == "ssh://host:2222/a/b.git")
        #expect(SecretRedactor.strippingCredentials("https://github.com/a/b@c.git") == "https://github.com/a/b@c.git")
        #expect(SecretRedactor.strippingCredentials("git@github.com:a/b.git") == "git@github.com:a/b.git")
        #expect(SecretRedactor.strippingCredentials("/srv/git/project.git") == "/srv/git/project.git")
        #expect(SecretRedactor.strippingCredentials("https://u:p@w@host/x") == "https://host/x")
    }

    @Test("identity from user.name and user.email, falling back to noko <noko@localhost>")
    func identity() throws {
        let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("noko-identity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let configured = directory.appendingPathComponent("configured")
        try Data("[user]\n\tname = Ada Lovelace\n\temail = ada@example.org\n".utf8).write(to: configured)
        let empty = directory.appendingPathComponent("empty")
        try Data("[core]\n\tbare = false\n".utf8).write(to: empty)
        let nameOnly = directory.appendingPathComponent("name-only")
        try Data("[user]\n\tname = Grace\n\temail = \"  \"\n".utf8).write(to: nameOnly)

        #expect(try CheckpointIdentity(config: .file(at: configured.path)) == CheckpointIdentity(name: "Ada Lovelace", email: "ada@example.org"))
        #expect(try CheckpointIdentity(config: .file(at: empty.path)) == CheckpointIdentity(name: "noko", email: "noko@localhost"))
        #expect(try CheckpointIdentity(config: .file(at: nameOnly.path)) == CheckpointIdentity(name: "Grace", email: "noko@localhost"))
        _ = try CheckpointIdentity(config: .file(at: empty.path)).signature()
    }

    @Test("a checkpoint in a repository without any identity is by noko <noko@localhost>")
    func fallbackIdentityEndToEnd() throws {
        let repo = try TestRepository("anonymous")
        try repo.git("config", "--unset", "user.name")
        try repo.git("config", "--unset", "user.email")
        try repo.write("a.txt", "a\n")
        try repo.commitAll()
        // The machine's global config may hold an identity: check the repository's own
        // levels resolve to none, then that the commit matches what the identity resolves to.
        let expected = try CheckpointIdentity(config: GitRepository.open(at: repo.root.path).configSnapshot())
        let record = try #require(try repo.checkpoint().record)
        let author = try repo.git("log", "-1", "--format=%an <%ae>", record.checkpoint).trimmingCharacters(in: .newlines)
        #expect(author == "\(expected.name) <\(expected.email)>")
        let local = try CheckpointIdentity(config: .file(at: repo.url(".git/config").path))
        #expect(local == CheckpointIdentity(name: "noko", email: "noko@localhost"))
    }
}
