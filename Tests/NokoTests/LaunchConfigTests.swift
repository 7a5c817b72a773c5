import Foundation
import Logging
import NokoTestSupport
import Testing

@testable import Noko
import NokoPlatform

/// The config the launch tests override.
struct LaunchTestConfig: Codable, Equatable {
    enum Optimizer: String, Codable, CaseIterable { case adam, sgd }
    struct Model: Codable, Equatable {
        var layers = 2
        var width = 64
        var activation = "relu"
    }
    var lr = 0.1
    var name = "base"
    var epochs = 10
    var flag = false
    var optimizer = Optimizer.adam
    var model = Model()
    var hidden = [64, 128]
    var dropout: Double? = nil
    var weights: [String: Double] = ["a": 1]
    var apiKey = "sk-default"
}

/// Structs inside structs, for `{…}` merging at depth.
struct NestedLaunchConfig: Codable {
    struct Outer: Codable {
        struct Inner: Codable {
            var a = 1
            var b = 2
        }
        var inner = Inner()
        var c = "c"
    }
    var outer = Outer()
}

/// Launch-time config in-process: the parser, the typing, every error. The child-process
/// tests (LaunchTests) drive the same through real argv and environment.
@Suite struct LaunchConfigTests {
    private func resolve<Config: Codable>(
        _ argv: [String], environment: [String: String] = [:], _ defaults: Config = LaunchTestConfig()
    ) throws -> (Config, LaunchRecord) {
        let arguments = try LaunchArguments(argv: ["prog"] + argv, environment: environment, inputs: .argumentsAndEnvironment)
        return try LaunchConfig.resolve(defaults, arguments)
    }

    private func error(_ argv: [String], environment: [String: String] = [:]) -> String {
        do {
            _ = try resolve(argv, environment: environment)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func nestedPathsWithDotsAndSlashes() throws {
        let (config, record) = try resolve(["model.layers=4", "model/width=32"])
        #expect(config.model == .init(layers: 4, width: 32, activation: "relu"))
        #expect(record.overrides.map(\.value) == [.int(4), .int(32)])
    }

    @Test func valuesAreTypedByTheirField() throws {
        let (config, _) = try resolve(["lr=1e-5", "name=007", "flag=true", "optimizer=sgd", "epochs=1_000"])
        #expect(config.lr == 1e-5)
        #expect(config.name == "007")
        #expect(config.flag)
        #expect(config.optimizer == .sgd)
        #expect(config.epochs == 1000)
        #expect(try resolve(["name='a b'"]).0.name == "a b")
        #expect(try resolve(["name=true"]).0.name == "true")
        #expect(try resolve(["lr=5"]).0.lr == 5)
        #expect(try resolve(["lr=-inf"]).0.lr == -.infinity)
    }

    @Test func arraysWholeAndByElement() throws {
        #expect(try resolve(["hidden[1]=256"]).0.hidden == [64, 256])
        #expect(try resolve(["hidden=[1,2,3]"]).0.hidden == [1, 2, 3])
        #expect(try resolve(["hidden=[]"]).0.hidden == [])
        #expect(try resolve(["hidden=[ 7 , 8 ]"]).0.hidden == [7, 8])
    }

    @Test func addAndRemove() throws {
        #expect(try resolve(["+dropout=0.5"]).0.dropout == 0.5)
        #expect(try resolve(["+dropout=0.5", "~dropout"]).0.dropout == nil)
        #expect(try resolve(["++dropout=0.25"]).0.dropout == 0.25)
        #expect(try resolve(["++lr=0.25"]).0.lr == 0.25)
        #expect(try resolve(["+weights.b=2"]).0.weights == ["a": 1, "b": 2])
        #expect(try resolve(["~weights.a"]).0.weights == [:])
        #expect(try resolve(["weights={x: 3, y: 4}"]).0.weights == ["x": 3, "y": 4])
        #expect(try resolve(["+dropout=0.5", "dropout=null"]).0.dropout == nil)
    }

    @Test func unknownPathsSuggestTheNearest() throws {
        #expect(error(["model.layrs=4"]) == "config has no path 'model.layrs' (argument 'model.layrs=4'); did you mean 'model.layers'?")
        #expect(error(["layers=4"]).contains("did you mean 'model.layers'?"))
        #expect(error(["zzzzzzzz=1"]).contains("(--noko-help lists every path)"))
        #expect(error(["+model.depth=3"]).contains("config has no path 'model.depth'"))
        #expect(error(["model={layers: 3, widht: 4}"]) == "config has no path 'model.widht' (argument 'model={layers: 3, widht: 4}'); did you mean 'model.width'?")
        #expect(try resolve(["model={layers: 3, width: 4}"]).0.model == .init(layers: 3, width: 4, activation: "relu"))
        let nested = try resolve(["outer={inner: {b: 5}}"], NestedLaunchConfig())
        #expect(nested.0.outer.inner.a == 1 && nested.0.outer.inner.b == 5 && nested.0.outer.c == "c")
        #expect(error(["~nothing"]).contains("config 'nothing' is not set, so it cannot be removed"))
    }

    @Test func wrongTypesNameThePathTheTypeAndTheValue() {
        #expect(error(["lr=fast"]) == "config 'lr' expects Double, found 'fast' (argument 'lr=fast')")
        #expect(error(["epochs=1.5"]) == "config 'epochs' expects Int, found '1.5' (argument 'epochs=1.5')")
        #expect(error(["epochs=99999999999999999999"]).hasPrefix("config 'epochs' expects Int (-9223372036854775808 to 9223372036854775807), found '99999999999999999999'"))
        #expect(error(["flag=yes"]) == "config 'flag' expects Bool (true or false), found 'yes' (argument 'flag=yes')")
        #expect(error(["optimizer=adamw"]) == "config 'optimizer' expects Optimizer (adam, sgd), found 'adamw' (argument 'optimizer=adamw')")
        #expect(error(["hidden=[1,x]"]) == "config 'hidden[1]' expects Int, found 'x' (argument 'hidden=[1,x]')")
        #expect(error(["hidden=5"]) == "config 'hidden' expects an array, found '5' (argument 'hidden=5')")
        #expect(error(["hidden=[1,"]) == "config 'hidden': '[' is not closed by ']' (argument 'hidden=[1,')")
        #expect(error(["hidden=[1,,2]"]) == "config 'hidden': an element is empty (argument 'hidden=[1,,2]')")
        #expect(error(["model=3"]) == "config 'model' expects a struct, found '3' (argument 'model=3')")
        #expect(error(["+weights.b=heavy"]) == "config 'weights.b' expects Double, found 'heavy' (argument '+weights.b=heavy')")
    }

    @Test func addRemoveAndIndexMistakes() {
        #expect(error(["dropout=0.5"]) == "config 'dropout' is not in the defaults (argument 'dropout=0.5'); add it with +dropout=0.5")
        #expect(error(["+lr=1"]).hasPrefix("config 'lr' is already set (to 0.1) (argument '+lr=1'); change it with lr=1"))
        #expect(error(["~epochs"]) == "config 'epochs' cannot be removed: it is not optional (Int) (argument '~epochs')")
        #expect(error(["hidden[5]=1"]).hasPrefix("config 'hidden[5]': 'hidden' has 2 elements, so there is no [5]"))
        #expect(error(["~hidden[0]"]).contains("is an array element, which cannot be removed"))
        #expect(error(["lr.x=1"]).contains("'lr' is a value, not a struct or dictionary"))
    }

    @Test func secretsNeverAppearInErrorsOrRecords() throws {
        #expect(error(["+apiKey=sk-given"]).contains("<redacted>"))
        #expect(!error(["+apiKey=sk-given"]).contains("sk-"))
        let (config, record) = try resolve(["apiKey=sk-given"])
        #expect(config.apiKey == "sk-given")  // the program gets its key…
        #expect(record.overrides[0].override.recordedText == "apiKey=<redacted>")  // …records do not
        #expect(SecretRedactor.standard.redact(commandLine: ["prog", "apiKey=sk-given", "model.authToken=t", "lr=1", "+hf_token[0]=x"]).0 == ["prog", "apiKey=<redacted>", "model.authToken=<redacted>", "lr=1", "+hf_token[0]=<redacted>"])
    }

    /// `overrides.json` goes through the same redactor as `config.json`: a secret key's value,
    /// a token under a key whose name says nothing, a secret URL parameter; the rest kept.
    @Test func overridesJSONHoldsNoSecretByKeyOrByValue() throws {
        let token = "ghp_" + String(repeating: "a1B2", count: 9)
        let (_, record) = try resolve(["apiKey=sk-given", "name=\(token)", "model.activation=https://h/x?token=hunter4&y=1", "lr=0.5"])
        let directory = temporaryDirectory()
        try LaunchRecorder.record(record, redactor: .standard, in: directory, messages: Logger(label: "test"))
        let text = try String(contentsOf: RunLayout(directory).overrides, encoding: .utf8)
        for secret in ["sk-given", token, "hunter4"] { #expect(!text.contains(secret), "\(secret) in overrides.json") }
        #expect(text.contains("token=<redacted>&y=1"))
        #expect(text.contains("0.5"))
        let unredacted = temporaryDirectory()
        try LaunchRecorder.record(record, redactor: .off, in: unredacted, messages: Logger(label: "test"))
        let kept = try String(contentsOf: RunLayout(unredacted).overrides, encoding: .utf8)
        #expect(kept.contains(token), "with redaction off the value is recorded as given")
    }

    @Test func theProgramsOwnArgumentsAreLeftAlone() throws {
        let arguments = try LaunchArguments(
            argv: ["prog", "--runs-dir", "x", "lr=0.1", "--config", "c.json", "input.txt", "--mode=a=b", "a b=c", "--noko-help", "~/x", "--config=d.yaml"],
            environment: [:], inputs: .argumentsAndEnvironment)
        #expect(arguments.programArguments == ["prog", "--runs-dir", "x", "input.txt", "--mode=a=b", "a b=c", "~/x"])
        #expect(arguments.overrides.map(\.text) == ["lr=0.1"])
        #expect(arguments.configFiles.map(\.path) == ["c.json", "d.yaml"])
        #expect(arguments.helpRequested)
        let environmentOnly = try LaunchArguments(
            argv: ["prog", "lr=0.1"], environment: ["NOKO_OVERRIDES": "epochs=3"], inputs: .environment)
        #expect(environmentOnly.programArguments == ["prog", "lr=0.1"])
        #expect(environmentOnly.overrides.map(\.text) == ["epochs=3"])
        let off = try LaunchArguments(argv: ["prog", "lr=0.1"], environment: ["NOKO_OVERRIDES": "epochs=3"], inputs: .none)
        #expect(!off.changesConfig && off.programArguments == ["prog", "lr=0.1"])
    }

    @Test func environmentOverridesAreShellWords() throws {
        #expect(try ShellWords.split(#"a=1  b='x y' c="p \"q\" \$r" d=\ e"#, source: "NOKO_OVERRIDES") == ["a=1", "b=x y", #"c=p "q" $r"#, "d= e"])
        #expect(try resolve([], environment: ["NOKO_OVERRIDES": "name='two words' epochs=3"]).0 .name == "two words")
        #expect(error([], environment: ["NOKO_OVERRIDES": "name='open"]) == "NOKO_OVERRIDES: a single quote is not closed")
        #expect(error([], environment: ["NOKO_OVERRIDES": "lr=1 --fast"]).hasPrefix("NOKO_OVERRIDES: '--fast' is not an override"))
        #expect(error(["--config"]) == "--config needs a file: --config FILE (JSON or YAML)")
    }

    @Test func configFilesMergePartiallyAndInPrecedenceOrder() throws {
        let directory = temporaryDirectory()
        let json = directory.appendingPathComponent("base.json")
        try Data(#"{"lr": 0.5, "model": {"layers": 3}, "name": "from-json"}"#.utf8).write(to: json)
        let yaml = directory.appendingPathComponent("over.yaml")
        try Data("model:\n  width: 16\nname: 007\nlr: 1e-3\ndropout: 0.2\nhidden: [1, 2]\n".utf8).write(to: yaml)
        let (config, record) = try resolve(
            ["--config", yaml.path, "name=from-argument"],
            environment: ["NOKO_CONFIG": json.path, "NOKO_OVERRIDES": "epochs=7 name=from-environment"])
        #expect(config.model == .init(layers: 3, width: 16, activation: "relu"))
        #expect(config.lr == 1e-3)  // the YAML file wins over NOKO_CONFIG's
        #expect(config.dropout == 0.2)  // a nil optional may come from a file
        #expect(config.hidden == [1, 2])
        #expect(config.epochs == 7)
        #expect(config.name == "from-argument")  // arguments win over NOKO_OVERRIDES
        #expect(record.files.map(\.source) == [.configEnvironment, .configArgument])
        #expect(record.overrides.map(\.override.source) == [.overridesEnvironment, .overridesEnvironment, .argument])
    }

    @Test func configFileErrorsNameTheFileAndThePlace() throws {
        let directory = temporaryDirectory()
        func file(_ name: String, _ text: String) throws -> String {
            let url = directory.appendingPathComponent(name)
            try Data(text.utf8).write(to: url)
            return url.path
        }
        let badJSON = try file("bad.json", "{\n  \"lr\": 0.5,\n  \"epochs\": ,\n}")
        #expect(error(["--config", badJSON]).hasPrefix("--config \(badJSON): line 3, column 13: malformed JSON"))
        let badYAML = try file("bad.yaml", "lr: 0.5\nmodel:\n  layers: [1, 2\nname: x\n")
        #expect(error(["--config", badYAML]).hasPrefix("--config \(badYAML): line 4, column 5: malformed YAML"))
        let unknown = try file("unknown.yaml", "model:\n  layrs: 3\n")
        #expect(error(["--config", unknown]) == "config has no path 'model.layrs' (--config \(unknown)); did you mean 'model.layers'?")
        let wrongType = try file("wrong.json", #"{"epochs": "many"}"#)
        #expect(error([], environment: ["NOKO_CONFIG": wrongType]) == "config 'epochs' expects Int, found '\"many\"' (NOKO_CONFIG \(wrongType))")
        let list = try file("list.yaml", "- 1\n- 2\n")
        #expect(error(["--config", list]).contains("expected a mapping of config keys at the top level"))
        let duplicate = try file("twice.yaml", "lr: 1\nlr: 2\n")
        #expect(error(["--config", duplicate]).contains("lr"))
        #expect(error(["--config", directory.appendingPathComponent("missing.yaml").path]).hasSuffix("missing.yaml: no such file"))
        let empty = try file("empty.yaml", "")
        #expect(try resolve(["--config", empty]).0 == LaunchTestConfig())
    }

    @Test func helpListsEveryPathWithTypeAndDefault() throws {
        let help = try LaunchConfig.help(LaunchTestConfig(), program: "train")
        for line in [
            "lr", "Double", "0.1", "model.layers", "Int", "hidden", "[Int]", "[64, 128]", "dropout", "Double?", "nil",
            "optimizer", "Optimizer (adam, sgd)", "weights", "[String: Double]",
        ] {
            #expect(help.contains(line), "\(line)")
        }
        #expect(!help.contains("weights.a"))
        #expect(!help.contains("  model  "))
    }

    @Test func theSameLaunchGivesTheSameConfig() throws {
        let argv = ["lr=0.003", "model.layers=5", "+dropout=0.1", "hidden=[3,4]"]
        let (first, _) = try resolve(argv)
        let (second, _) = try resolve(argv)
        #expect(try ConfigEncoder.encode(first).serializedBytes(pretty: true) == ConfigEncoder.encode(second).serializedBytes(pretty: true))
    }
}

/// SHA-256 against the FIPS 180-4 examples and sha256sum, at every padding boundary.
@Suite struct SHA256Tests {
    private func digest(_ bytes: [UInt8], pieces: Int = 1) -> String {
        var hasher = SHA256()
        let size = max(1, bytes.count / pieces)
        var start = 0
        while start < bytes.count {
            hasher.update(Array(bytes[start..<min(bytes.count, start + size)]))
            start += size
        }
        return hasher.finalize()
    }

    @Test func knownAnswers() {
        #expect(digest([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(digest(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            digest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(digest([UInt8](repeating: 0x61, count: 1_000_000), pieces: 7) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func everyLengthAroundABlockMatchesSha256sum() throws {
        let directory = temporaryDirectory()
        for length in [1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000] {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let file = directory.appendingPathComponent("f\(length)")
            try Data(bytes).write(to: file)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["sha256sum", file.path]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            process.waitUntilExit()
            let expected = String(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(64))
            #expect(try SHA256.hashFile(file.path) == expected, "\(length)")
            #expect(digest(bytes, pieces: 3) == expected, "\(length) in pieces")
        }
    }
}
