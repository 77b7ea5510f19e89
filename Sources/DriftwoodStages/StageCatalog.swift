import DriftwoodCore

/// Every stage type, one line each: `type:` → how its config is read → how the stage is built.
/// Adding a stage type means adding a line here; the engine never changes.
public enum StageCatalog {
    static let entries: [Entry] = [
        .input("file", FileConfig.init) { c, env in try FileInput(config: c, environment: env) },
        .input("stdin", StdinConfig.init) { c, env in StdinInput(config: c, environment: env) },
        .input("kafka", KafkaInputConfig.init) { c, env in try KafkaInput(config: c, environment: env) },
        .filter("parse", ParseConfig.init) { c, env in try ParseFilter(config: c, failures: FailureCounter(env)) },
        .filter("enrich", EnrichConfig.init) { c, env in try EnrichFilter(config: c, environment: env) },
        .filter("mutate", MutateConfig.init) { c, env in MutateFilter(config: c, failures: FailureCounter(env)) },
        .filter("drop", DropConfig.init) { c, _ in DropFilter(config: c) },
        .filter("drift", DriftConfig.init) { c, env in DriftFilter(config: c, environment: env) },
        .filter("monitor", MonitorConfig.init) { c, env in MonitorFilter(config: c, environment: env) },
        // `id:` of an evaluate filter is its join field; the stage's own id is `stage_id:`.
        .filter("evaluate", EvaluateConfig.init, idKey: "stage_id") { c, env in EvaluateFilter(config: c, environment: env) },
        .output("jsonl", JSONLConfig.init) { c, env in JSONLOutput(config: c, health: env.health) },
        .output("stdout", StdoutConfig.init) { c, env in StdoutOutput(config: c, health: env.health) },
        .output("elasticsearch", ElasticsearchConfig.init) { c, env in ElasticsearchOutput(config: c, environment: env) },
        .output("http", HTTPConfig.init) { c, env in HTTPOutput(config: c, environment: env) },
        .output("alertmanager", AlertmanagerConfig.init) { c, env in AlertmanagerOutput(config: c, environment: env) },
        .output("mlflow", MLflowConfig.init) { c, env in MLflowOutput(config: c, environment: env) },
        .output("kafka", KafkaOutputConfig.init) { c, env in try KafkaOutput(config: c, environment: env) },
    ]

    /// How each stage type reads its config, by role and `type:` (`StageDescriptor.key`).
    public static let descriptors: [String: StageDescriptor] = Dictionary(
        uniqueKeysWithValues: entries.map { ($0.descriptor.key, $0.descriptor) })

    /// Builds the stage a spec describes.
    public static func makeInput(_ spec: StageSpec, _ env: StageEnvironment) throws -> any Input {
        try entry(spec).makeInput!(spec.config, env)
    }

    public static func makeFilter(_ spec: StageSpec, _ env: StageEnvironment) throws -> any Filter {
        try entry(spec).makeFilter!(spec.config, env)
    }

    public static func makeOutput(_ spec: StageSpec, _ env: StageEnvironment) throws -> any Output {
        try entry(spec).makeOutput!(spec.config, env)
    }

    static func entry(_ spec: StageSpec) -> Entry {
        entries.first { $0.descriptor.type == spec.type && $0.descriptor.role == spec.role }!
    }

    /// One catalog line, type-erased.
    struct Entry: Sendable {
        let descriptor: StageDescriptor
        var makeInput: (@Sendable (any StageConfig, StageEnvironment) throws -> any Input)?
        var makeFilter: (@Sendable (any StageConfig, StageEnvironment) throws -> any Filter)?
        var makeOutput: (@Sendable (any StageConfig, StageEnvironment) throws -> any Output)?

        static func input<C: StageConfig>(
            _ type: String, _ decode: @escaping @Sendable (ConfigObject) -> C,
            _ make: @escaping @Sendable (C, StageEnvironment) throws -> any Input
        ) -> Entry {
            Entry(
                descriptor: StageDescriptor(type: type, role: .input) { c, _ in decode(c) },
                makeInput: { try make($0 as! C, $1) })
        }

        static func filter<C: StageConfig>(
            _ type: String, _ decode: @escaping @Sendable (ConfigObject) -> C, idKey: String = "id",
            _ make: @escaping @Sendable (C, StageEnvironment) throws -> any Filter
        ) -> Entry {
            Entry(
                descriptor: StageDescriptor(type: type, role: .filter, idKey: idKey) { c, _ in decode(c) },
                makeFilter: { try make($0 as! C, $1) })
        }

        static func output<C: StageConfig>(
            _ type: String, _ decode: @escaping @Sendable (ConfigObject) -> C,
            _ make: @escaping @Sendable (C, StageEnvironment) throws -> any Output
        ) -> Entry {
            Entry(
                descriptor: StageDescriptor(type: type, role: .output) { c, _ in decode(c) },
                makeOutput: { try make($0 as! C, $1) })
        }
    }
}
