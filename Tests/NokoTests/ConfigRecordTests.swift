import Foundation
import Testing

@testable import Noko
import NokoCore

private struct Optimizer: Codable {
    var name = "adam"
    var lr: Float = 0.001
    var betas = [0.9, 0.999]
}

private struct TrainConfig: Codable {
    var seed = 42
    var epochs: Int? = nil
    var warmup = Double.nan
    var optimizer = Optimizer()
    var url = URL(string: "https://user:pw@example.com/data")!
    var apiKey = "secret"
}

private struct Database: Codable {
    var url = "postgres://admin:hunter2@db.example.com:5432/exp"
    var replicas = ["https://u:p@r1.example.com/x", "plain text"]
}

private struct Unencodable: Encodable {
    struct Bad: Encodable {
        func encode(to encoder: any Encoder) throws {
            throw EncodingError.invalidValue(self, .init(codingPath: encoder.codingPath, debugDescription: "cannot encode Bad"))
        }
    }
    var fine = 1
    var inner = ["layers": [Bad()]]
}

@Suite struct ConfigRecordTests {
    @Test func encodableConfigsKeepTheirStructure() throws {
        let tree = try ConfigRecord.tree(TrainConfig())
        #expect(tree["seed"] == 42)
        #expect(tree["epochs"] == nil || tree["epochs"] == .null)
        #expect(tree["warmup"]?.doubleValue?.isNaN == true, "NaN is kept (JSONEncoder would refuse it)")
        #expect(tree["optimizer"]?["lr"] == 0.001, "a Float is recorded with its own shortest text")
        #expect(tree["optimizer"]?["betas"] == [0.9, 0.999])
        #expect(tree["url"] == "https://example.com/data", "URL credentials are stripped")
        #expect(tree.serialized().contains(#""warmup":"NaN""#))
    }

    @Test func urlCredentialsNeverReachTheRecordedConfig() throws {
        let tree = try ConfigRecord.tree(Database())
        #expect(tree["url"] == "postgres://db.example.com:5432/exp")
        #expect(tree["replicas"] == ["https://r1.example.com/x", "plain text"])
        #expect(!tree.serialized().contains("hunter2"))
    }

    @Test func dictionaryConfigs() throws {
        let tree = try ConfigRecord.tree(["lr": 0.1, "layers": [64, 32], "opt": ["name": "sgd", "nesterov": true], "model": Optimizer()] as [String: Any])
        #expect(tree["layers"] == [64, 32])
        #expect(tree["opt"]?["nesterov"] == true)
        #expect(tree["model"]?["name"] == "adam")
    }

    @Test func aFailingValueNamesItsKeyPath() {
        #expect {
            try ConfigRecord.tree(Unencodable())
        } throws: { error in
            "\(error)".contains("'inner/layers[0]'") && "\(error)".contains("cannot encode Bad")
        }
        #expect {
            try ConfigRecord.tree(["ok": 1, "nested": ["closure": { () in }]] as [String: Any])
        } throws: { error in
            (error as? ConfigError)?.keyPath == "nested/closure"
        }
    }

    @Test(arguments: [
        ("api_key", true), ("apiKey", true), ("API-KEY", true), ("apikey", true), ("hf_token", true), ("authToken", true),
        ("db_password", true), ("passwd", true), ("client_secret", true), ("aws_credentials", true), ("credential", true),
        ("wandb_key", true), ("private_key", true), ("accessKey", true), ("auth", true), ("passphrase", true),
        ("HFToken", true), ("AWSAccessKeyId", true), ("OPENAI_API_KEY", true),
        ("max_tokens", false), ("tokenizer", false), ("author", false), ("key_dim", false), ("num_tokens", false), ("key", false), ("secretary", false), ("lr", false),
    ])
    func secretKeysAreWordsNotSubstrings(key: String, secret: Bool) {
        #expect(SecretRules.isSecretKey(key) == secret)
    }

    @Test func redactionReplacesWholeSubtreesAndListsPaths() throws {
        let tree: JSONValue = ["a": ["token": "x", "n": 1], "credentials": ["user": "u", "pass": "p"], "list": [["password": "z"]]]
        let (redacted, findings) = SecretRedactor.standard.redact(tree)
        #expect(redacted["a"]?["token"] == "<redacted>")
        #expect(redacted["a"]?["n"] == 1)
        #expect(redacted["credentials"] == "<redacted>")
        #expect(redacted["list"]?.arrayValue?.first?["password"] == "<redacted>")
        #expect(findings.map(\.keyPath) == ["a/token", "credentials", "list[0]/password"])
    }

    @Test func flatteningJoinsWithSlashAndIndexes() {
        let flat = ConfigRecord.flattened(["b": ["c": 1, "d": [true, "x"]], "a": 2.5])
        #expect(flat.map(\.key) == ["a", "b/c", "b/d[0]", "b/d[1]"])
        #expect(flat.map(\.value) == [.double(2.5), .int(1), .bool(true), .string("x")])
    }

    @Test func theEnvironmentNeverCarriesSecrets() {
        let env = SystemInfo.capturedEnvironment([
            "CUDA_VISIBLE_DEVICES": "0,1", "WANDB_API_KEY": "k", "HOME": "/root", "SLURM_JOB_ID": "77",
            "SLURM_JOB_TOKEN": "t", "MASTER_ADDR": "https://a:b@node1", "SLURM_JOB_COMMENT": "ghp_hunter9abcdefghijklmnopqrstuvwxyz0123",
        ])
        #expect(env == [
            "CUDA_VISIBLE_DEVICES": "0,1", "SLURM_JOB_ID": "77", "MASTER_ADDR": "https://node1", "SLURM_JOB_COMMENT": "<redacted>",
        ])
    }

    @Test func distributedContextFromLaunchers() {
        #expect(DistributedContext(environment: [:]) == .single)
        #expect(DistributedContext(environment: ["RANK": "2", "WORLD_SIZE": "4"]) == DistributedContext(rank: 2, worldSize: 4))
        #expect(DistributedContext(environment: ["SLURM_PROCID": "1", "SLURM_NTASKS": "3", "SLURM_JOB_ID": "9"]) == DistributedContext(rank: 1, worldSize: 3, jobID: "9"))
        #expect(DistributedContext(environment: ["OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "2"]).worldSize == 2)
    }
}
