import Foundation
import Yams

/// A whole pipeline file, read and checked: settings plus its stages in order.
public struct PipelineConfig: Sendable {
    /// The pipeline's name; default: the file's base name.
    public var name: String
    /// Checkpoints and dead letters live here; default `.driftwood/<name>`.
    public var dataDir: String
    /// `HOST:PORT` for `/metrics` and `/health`; nil for none.
    public var metricsAddress: String?
    /// `metrics.unhealthy_after`: `/health` answers 503 once an output with events waiting has
    /// delivered nothing for this long; default 60s.
    public var unhealthyAfter: Duration
    /// How long a graceful stop may take to drain; default 30s.
    public var shutdownTimeout: Duration
    public var inputs: [StageSpec]
    public var filters: [StageSpec]
    public var outputs: [StageSpec]

    /// Top-level keys of a pipeline file.
    public static let topLevelKeys = ["name", "data_dir", "metrics", "shutdown_timeout", "inputs", "filters", "outputs"]

    /// Reads a pipeline file's text strictly. Every problem found is thrown together.
    /// - Parameters:
    ///   - file: the path to name in errors (and whose base name is the default `name`).
    ///   - catalog: the stage types, by `type:`.
    ///   - filtersOnly: `inputs` and `outputs` may be left out (`driftwood test`).
    public static func load(
        text: String, file: String, environment: [String: String], catalog: [String: StageDescriptor],
        filtersOnly: Bool = false
    ) throws(ConfigErrors) -> PipelineConfig {
        let problems = ConfigProblems(file: file)
        if let at = AliasKeyScan.first(in: text) {
            problems.add(
                line: at.line, column: at.column, path: "", stageType: nil,
                "a YAML alias cannot be a mapping key in a pipeline file (comparing it could take minutes)")
            throw ConfigErrors(problems.errors)
        }
        let composed: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                problems.add(line: 1, column: 1, path: "", stageType: nil, "the pipeline file is empty")
                throw ConfigErrors(problems.errors)
            }
            composed = node
        } catch let error as ConfigErrors {
            throw error
        } catch let error as YamlError {
            let (line, column, message) = describe(error)
            problems.add(line: line, column: column, path: "", stageType: nil, "invalid YAML: \(message)")
            throw ConfigErrors(problems.errors)
        } catch {
            problems.add(line: 1, column: 1, path: "", stageType: nil, "invalid YAML: \(error)")
            throw ConfigErrors(problems.errors)
        }
        // `${VAR}` goes into scalar values only now, after parsing; aliases are bounded here too.
        guard let root = ConfigTree.prepare(composed, text: text, environment: environment, problems: problems) else {
            throw ConfigErrors(problems.errors)
        }

        let top = ConfigObject(node: root, path: "", stageType: nil, problems: problems)
        let baseName = file.split(separator: "/").last.map { String($0) } ?? file
        // `model-logs.yml` → `model-logs`; `my.pipeline.yaml` → `my.pipeline`.
        let defaultName = baseName.lastIndex(of: ".").map { String(baseName[..<$0]) }.flatMap { $0.isEmpty ? nil : $0 } ?? baseName
        let name = top.string("name", default: defaultName)
        let dataDir = top.string("data_dir", default: ".driftwood/\(name)")
        var metricsAddress: String?
        var unhealthyAfter = Duration.seconds(60)
        if let metrics = top.object("metrics") {
            metricsAddress = metrics.string("address")
            if let address = metricsAddress, HostPort(address) == nil {
                metrics.error("expected HOST:PORT, like 127.0.0.1:9600", at: metrics.node("address"), key: "address")
            }
            unhealthyAfter = metrics.duration("unhealthy_after", default: unhealthyAfter)
            if unhealthyAfter <= .zero {
                metrics.error("must be longer than 0s", at: metrics.node("unhealthy_after"), key: "unhealthy_after")
            }
            metrics.finish()
        }
        let shutdownTimeout = top.duration("shutdown_timeout", default: .seconds(30))

        var sections: [StageRole: [StageSpec]] = [:]
        var ids: [String: String] = [:]
        for role in [StageRole.input, .filter, .output] {
            sections[role] = []
            guard let items = top.list(role.sectionKey) else {
                // Present but not a list has been reported already.
                if role != .filter && !filtersOnly && !top.has(role.sectionKey) {
                    top.error("missing required key '\(role.sectionKey)'")
                }
                continue
            }
            if items.isEmpty && role != .filter && !filtersOnly {
                top.error("needs at least one \(role.rawValue)", at: top.node(role.sectionKey), key: role.sectionKey)
            }
            for (index, item) in items.enumerated() {
                let context = (environment: environment, dataDir: dataDir)
                if let spec = readStage(
                    item.node, path: item.path, index: index, role: role, catalog: catalog, problems: problems,
                    context: context)
                {
                    if let other = ids[spec.id] {
                        problems.add(
                            item.node, path: item.path, stageType: spec.type,
                            "id '\(spec.id)' is already used by \(other); stage ids must be unique")
                    }
                    ids[spec.id] = spec.path
                    sections[role]!.append(spec)
                }
            }
        }
        top.finish()
        if !problems.errors.isEmpty { throw ConfigErrors(problems.errors) }
        return PipelineConfig(
            name: name, dataDir: dataDir, metricsAddress: metricsAddress, unhealthyAfter: unhealthyAfter,
            shutdownTimeout: shutdownTimeout,
            inputs: sections[.input]!, filters: sections[.filter]!, outputs: sections[.output]!)
    }

    static func readStage(
        _ node: Node, path: String, index: Int, role: StageRole, catalog: [String: StageDescriptor],
        problems: ConfigProblems, context: (environment: [String: String], dataDir: String)
    ) -> StageSpec? {
        let probe = ConfigObject(node: node, path: path, stageType: nil, problems: problems)
        guard case .mapping = node else { return nil }
        guard let type = probe.string("type") else {
            probe.error("missing required key 'type'")
            return nil
        }
        let choices = catalog.values.filter { $0.role == role }.map(\.type).sorted()
        guard let descriptor = catalog[StageDescriptor.key(role, type)] else {
            var message = "unknown \(role.rawValue) type '\(type)' (expected one of \(choices.joined(separator: ", ")))"
            if let hint = closestMatch(to: type, in: choices) { message += "; did you mean '\(hint)'?" }
            if let other = catalog.values.first(where: { $0.type == type }) { message = "'\(type)' is \(other.role.article) \(other.role.rawValue), not \(role.article) \(role.rawValue)" }
            probe.error(message, at: probe.node("type"), key: "type")
            return nil
        }
        let object = ConfigObject(node: node, path: path, stageType: type, problems: problems)
        _ = object.node("type")
        // A type name an input and an output share (`kafka`) says its role in the default id, so a
        // pipeline with both (a relay) does not get the same id twice.
        let shared = catalog.values.contains { $0.type == type && $0.role != role }
        let id = object.string(descriptor.idKey, default: shared ? "\(type)_\(role.rawValue)_\(index)" : "\(type)_\(index)")
        var when: Condition?
        if role != .input, let source = object.string("when") {
            do {
                when = try Condition(source)
            } catch {
                object.error("bad condition at column \(error.column): \(error.message)", at: object.node("when"), key: "when")
            }
        }
        let config = descriptor.decode(object, StageContext(id: id, dataDir: context.dataDir, environment: context.environment))
        object.finish()
        return StageSpec(
            role: role, type: type, id: id, when: when, config: config, path: path,
            settings: settings(of: node, filesRead: config.filesRead))
    }

    /// A stage's block as canonical YAML (no comments, layout or positions) and a digest of each
    /// file its configuration read: what a reload compares to tell a changed stage from a kept one.
    static func settings(of node: Node, filesRead: [String]) -> String {
        var text = canonical(node)
        for file in filesRead {
            let bytes = FileManager.default.contents(atPath: file).map { [UInt8]($0) }
            text += "\n# file \(file): " + (bytes.map { String(fnv1a64($0), radix: 16) + " \($0.count) bytes" } ?? "unreadable")
        }
        return text
    }

    /// `node` with keys sorted and each scalar as its resolved tag and value: flow or block
    /// layout, quoting that does not change a value's type, and key order make no difference.
    static func canonical(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            return "\(node.tag)" + String(reflecting: scalar.string)
        case .mapping(let mapping):
            let pairs = mapping.map { (canonical($0.key), canonical($0.value)) }.sorted { $0.0 < $1.0 }
            return "{" + pairs.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}"
        case .sequence(let sequence):
            return "[" + sequence.map(canonical).joined(separator: ", ") + "]"
        case .alias:
            return "\(node)"
        }
    }

    /// Every file the stages' configurations read, once each, in stage order (`run --watch`).
    public var filesRead: [String] {
        var seen = Set<String>()
        return (inputs + filters + outputs).flatMap(\.config.filesRead).filter { seen.insert($0).inserted }
    }

    static func describe(_ error: YamlError) -> (Int, Int, String) {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return (mark.line, mark.column, [context?.text, problem].compactMap { $0 }.joined(separator: ": "))
        case .duplicatedKeysInMapping(let duplicates, let context):
            return (context.mark.line, context.mark.column, "duplicate keys \(duplicates.joined(separator: ", "))")
        case .reader(let problem, _, _, _):
            return (1, 1, problem)
        default:
            return (1, 1, "\(error)")
        }
    }
}

/// `HOST:PORT`, as in `metrics.address`. An empty host (`:9600`) or `*` (`*:9600`) means every
/// IPv4 interface (`0.0.0.0`); `[::]:9600` every IPv6 one (and IPv4 where the system maps it).
public struct HostPort: Sendable, Equatable {
    public let host: String
    public let port: Int

    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty || host == "*" ? "0.0.0.0" : host
        self.port = port
    }
}
