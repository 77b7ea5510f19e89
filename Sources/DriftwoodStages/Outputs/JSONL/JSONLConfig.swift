import DriftwoodCore

/// `type: jsonl` — one compact JSON object a line, to files named by a template.
public struct JSONLConfig: StageConfig {
    /// The file path; may hold `%{field}` and `%{+yyyy-MM-dd}` (from each event's `@timestamp`).
    public var path: Template
    /// `none` | `gzip` (each write appends one gzip member; `zcat` reads the whole file).
    public var gzip: Bool
    /// Optional: once a file would pass this size it is renamed `<path>.1` (then `.2`, …) and a new one begun.
    public var rotateMaxBytes: Int?

    public init(_ c: ConfigObject) {
        let text = c.requiredString("path") ?? "out.jsonl"
        do {
            path = try Template(text)
        } catch {
            c.error("bad template: \(error)", at: c.node("path"), key: "path")
            path = try! Template("out.jsonl")
        }
        gzip = c.choice("compression", ["none", "gzip"], default: "none") == "gzip"
        rotateMaxBytes = nil
        if let r = c.object("rotate") {
            rotateMaxBytes = r.size("max_bytes", default: 100 << 20)
            if !r.has("max_bytes") { r.error("missing required key 'max_bytes'") }
            r.finish()
        }
    }
}
