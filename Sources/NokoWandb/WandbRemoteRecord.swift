import NokoCore
import NokoRemoteSync

/// Where the run lives on wandb: what the run module writes to `metadata.json` under
/// `remotes.wandb` (``jsonValue``).
package struct WandbRemoteRecord: RemoteRecord, Codable {
    /// The entity; nil until the server names the default one (when none was given).
    package var entity: String?
    /// The project.
    package var project: String
    /// The run ID.
    package var runID: String
    /// The run's dashboard page, once the entity is known.
    package var url: String?
    /// `online` or `offline` (offline: `noko-run sync` uploads it).
    package var mode: String

    /// A record.
    package init(entity: String?, project: String, runID: String, url: String?, mode: String) {
        self.entity = entity
        self.project = project
        self.runID = runID
        self.url = url
        self.mode = mode
    }

    enum CodingKeys: String, CodingKey {
        case entity, project, url, mode
        case runID = "run_id"
    }

    /// The record as JSON: `{"entity", "project", "run_id", "url", "mode"}`.
    package var jsonValue: JSONValue {
        var members: [String: JSONValue] = [
            "project": .string(project), "run_id": .string(runID), "mode": .string(mode),
        ]
        members["entity"] = entity.map(JSONValue.string) ?? .null
        members["url"] = url.map(JSONValue.string) ?? .null
        return .object(members)
    }
}

/// The run information the run module hands every remote, under its old name.
package typealias WandbRunInfo = RemoteRunInfo
