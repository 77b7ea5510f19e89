import DriftwoodCore
import Yams

/// `type: enrich` — adds static fields, the model version, and the host name.
public struct EnrichConfig: StageConfig {
    /// Static fields: path → value. String values may hold `%{field}` references (and `${ENV}`,
    /// substituted when the file is read).
    public var fields: [(path: FieldPath, value: StaticValue)]
    /// Optional: the model version, looked up by model name or fixed.
    public var modelVersion: ModelVersionConfig?
    /// `host: true` adds `host.name`.
    public var host: Bool

    /// A static value: JSON text, or a string template rendered per event.
    public enum StaticValue: Sendable {
        case json([UInt8])
        case template(Template)
    }

    /// `model_version:` of an enrich filter.
    public struct ModelVersionConfig: Sendable {
        /// A YAML/JSON file mapping model name → version; re-read when it changes.
        public var registry: String?
        /// A fixed version for every event (instead of a registry).
        public var value: String?
        /// The field holding the model name; default `model`.
        public var nameField: FieldPath
        /// Where the version goes; default `model_version`.
        public var target: FieldPath
        /// The version when the model is not in the registry; default `unknown`.
        public var defaultVersion: String
    }

    public init(_ c: ConfigObject) {
        fields = []
        for (key, node) in c.pairs("fields") ?? [] {
            guard let path = FieldPath(key) else {
                c.error("'\(key)' is not a field path", at: node, key: "fields")
                continue
            }
            if case .scalar(let s) = node, s.style != .plain || node.int == nil && node.float == nil && node.bool == nil,
                s.string.contains("%{")
            {
                do {
                    fields.append((path, .template(try Template(s.string))))
                } catch {
                    c.error("bad template: \(error)", at: node, key: "fields.\(key)")
                }
            } else {
                fields.append((path, .json(YAMLJSON.json(node))))
            }
        }
        host = c.bool("host", default: false)
        modelVersion = nil
        if let m = c.object("model_version") {
            let registry = m.string("registry")
            let value = m.string("value")
            if registry == nil && value == nil { m.error("needs 'registry' (a file) or 'value' (a fixed version)") }
            if registry != nil && value != nil { m.error("give either 'registry' or 'value', not both") }
            if let registry {
                do { _ = try ModelRegistry.load(path: registry) } catch {
                    m.error("\(error)", at: m.node("registry"), key: "registry")
                }
            }
            modelVersion = ModelVersionConfig(
                registry: registry, value: value,
                nameField: m.fieldPath("name_field", default: FieldPath("model")!),
                target: m.fieldPath("target", default: FieldPath("model_version")!),
                defaultVersion: m.string("default", default: "unknown"))
            m.finish()
        }
        if fields.isEmpty && modelVersion == nil && !host && !c.has("fields") {
            c.error("nothing to add: give 'fields', 'model_version' or 'host: true'")
        }
    }
}

/// YAML values as JSON text: plain scalars that read as numbers, booleans or null keep their
/// type; everything else is a string.
public enum YAMLJSON {
    public static func json(_ node: Node) -> [UInt8] {
        var out: [UInt8] = []
        append(node, to: &out)
        return out
    }

    static func append(_ node: Node, to out: inout [UInt8]) {
        switch node {
        case .scalar(let s):
            if s.style == .plain || s.style == .any {
                if s.tag == Tag(.null) || s.string == "~" || s.string == "null" {
                    out += Array("null".utf8)
                    return
                }
                if let b = node.bool { return JSONWriter.appendBool(b, to: &out) }
                if let i = node.int { return JSONWriter.appendInteger(Int64(i), to: &out) }
                if let d = node.float, d.isFinite { return JSONWriter.appendNumber(d, to: &out) }
            }
            JSONWriter.appendString(s.string, to: &out)
        case .mapping(let m):
            out.append(UInt8(ascii: "{"))
            for (k, (key, value)) in m.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.appendString(key.string ?? "", to: &out)
                out.append(UInt8(ascii: ":"))
                append(value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .sequence(let seq):
            out.append(UInt8(ascii: "["))
            for (k, value) in seq.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                append(value, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .alias:
            out += Array("null".utf8)
        }
    }
}

extension EnrichConfig {
    public var filesRead: [String] { modelVersion?.registry.map { [$0] } ?? [] }
}
