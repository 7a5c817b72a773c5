import Foundation
import NokoCore
import NokoPlatform

/// One file a remote keeps beside the rows (wandb's Files tab, MLflow's artifacts), as it is
/// uploaded.
package struct RunFile: Sendable, Equatable {
    package var name: String
    package var bytes: [UInt8]

    package init(name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }

    /// What a cursor records once the file is uploaded, so a later session uploads it again
    /// only when it changed.
    package var fingerprint: String {
        var hash = SHA256()
        hash.update(bytes)
        return hash.finalize()
    }

    /// Those of `files` the remote lacks in this version (`uploaded`: the cursor's name →
    /// fingerprint), each redacted of the session's secrets first: a diff or the console might
    /// hold the key the remote is reached with.
    package static func pending(_ files: [RunFile], uploaded: [String: String], link: RemoteLink) -> [(file: RunFile, fingerprint: String)] {
        var wanted: [(file: RunFile, fingerprint: String)] = []
        for var file in files {
            let text = String(decoding: file.bytes, as: UTF8.self)
            let redacted = link.redact(text)
            if redacted != text { file.bytes = Array(redacted.utf8) }
            let fingerprint = file.fingerprint
            if uploaded[file.name] != fingerprint { wanted.append((file, fingerprint)) }
        }
        return wanted
    }

    /// `metadata.json` as a remote gets it, named `name`: the git remote's URL without the
    /// credentials it may carry.
    package static func metadata(_ layout: RunLayout, name: String) -> RunFile? {
        guard var metadata = try? RunFileFormat.readJSON(layout.metadata), case .object(var members) = metadata else { return nil }
        if case .object(var git)? = members["git"], let remote = git["remote_url"]?.stringValue {
            git["remote_url"] = .string(SecretRedactor.strippingCredentials(remote))
            members["git"] = .object(git)
        }
        metadata = .object(members)
        return RunFile(name: name, bytes: metadata.serializedBytes(pretty: true))
    }
}
