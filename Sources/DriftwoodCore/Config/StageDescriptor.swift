import Yams

/// Where a stage sits in a pipeline.
public enum StageRole: String, Sendable {
    case input, filter, output

    /// The pipeline file's key for stages of this role.
    public var sectionKey: String { rawValue + "s" }

    /// "a" or "an", for messages.
    public var article: String { self == .filter ? "a" : "an" }
}

/// The typed configuration of one stage, read strictly from its YAML block.
public protocol StageConfig: Sendable {
    /// Files the configuration read when the pipeline was checked (a model registry, a baseline,
    /// an index template): a reload compares their bytes, and `run --watch` watches them.
    var filesRead: [String] { get }
}

extension StageConfig {
    public var filesRead: [String] { [] }
}

/// How one stage type reads its configuration: one entry of the stage catalog.
public struct StageDescriptor: Sendable {
    public let type: String
    public let role: StageRole
    /// The key that names the stage's own id: `id`, except for a stage whose `id` means
    /// something of its own (`evaluate`'s join field), which takes `stage_id`.
    public let idKey: String
    /// Reads the stage's own keys (not `type`, `id` or `when`) and returns its config.
    public let decode: @Sendable (ConfigObject, StageContext) -> any StageConfig

    public init(
        type: String, role: StageRole, idKey: String = "id",
        decode: @escaping @Sendable (ConfigObject, StageContext) -> any StageConfig
    ) {
        self.type = type
        self.role = role
        self.idKey = idKey
        self.decode = decode
    }

    /// The catalog's key of a stage type in a role: an input and an output may share a type name
    /// (`kafka` reads and writes Kafka), so the role is part of the key.
    public static func key(_ role: StageRole, _ type: String) -> String { "\(role.rawValue):\(type)" }

    /// This descriptor's catalog key.
    public var key: String { Self.key(role, type) }
}

/// What a stage config may need to know while it is read.
public struct StageContext: Sendable {
    /// The stage's id (`<type>_<index>` unless given).
    public let id: String
    /// The pipeline's data directory.
    public let dataDir: String
    /// Environment variables, for values looked up at load time.
    public let environment: [String: String]
}

/// One stage as written in the pipeline file, read and checked.
public struct StageSpec: Sendable {
    public let role: StageRole
    public let type: String
    public let id: String
    /// Filters and outputs apply only to events that match.
    public let when: Condition?
    public let config: any StageConfig
    /// The key path, e.g. `outputs[0]`.
    public let path: String
    /// The stage's block as read (after `${VAR}` substitution), with a digest of each file it
    /// read: two specs with the same `settings` configure the same stage, wherever in the file
    /// it is written and however it is laid out (a reload keeps such a stage running).
    public let settings: String

    public init(
        role: StageRole, type: String, id: String, when: Condition?, config: any StageConfig, path: String,
        settings: String = ""
    ) {
        self.role = role
        self.type = type
        self.id = id
        self.when = when
        self.config = config
        self.path = path
        self.settings = settings
    }
}
