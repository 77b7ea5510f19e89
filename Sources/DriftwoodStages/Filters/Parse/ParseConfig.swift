import DriftwoodCore

/// `type: parse` — parses a field (default `message`) as JSON, logfmt or a regex with named groups.
public struct ParseConfig: StageConfig {
    public enum Format: String, Sendable, CaseIterable { case json, logfmt, regex }

    /// `json` | `logfmt` | `regex`.
    public var format: Format
    /// The field holding the text to parse; default `message`.
    public var field: FieldPath
    /// Where parsed fields go: "" merges them into the event root; `x.y` nests them under x.y.
    public var target: FieldPath?
    /// Remove `field` after a successful parse; default false.
    public var removeSource: Bool
    /// `regex` only: a pattern with named groups, e.g. `^(?<ts>\S+) (?<level>[A-Z]+) (?<msg>.*)$`.
    public var pattern: String?
    /// Optional: set `@timestamp` from a parsed field.
    public var timestamp: TimestampConfig?

    /// `timestamp:` of a parse filter.
    public struct TimestampConfig: Sendable {
        /// The field holding the time; e.g. `ts`.
        public var field: FieldPath
        /// Tried in order: `iso8601` | `unix` | `unix_ms` | a pattern like `yyyy-MM-dd HH:mm:ss.SSS`.
        public var formats: [String]
        /// Remove the time field once it became `@timestamp` (a value that failed is kept).
        public var remove = false
    }

    public init(_ c: ConfigObject) {
        format = Format(rawValue: c.choice("format", Format.allCases.map(\.rawValue), default: "json")) ?? .json
        field = c.fieldPath("field", default: .message)
        let targetText = c.string("target", default: "")
        target = nil
        if !targetText.isEmpty {
            target = FieldPath(targetText)
            if target == nil { c.error("'\(targetText)' is not a field path", at: c.node("target"), key: "target") }
        }
        removeSource = c.bool("remove_source", default: false)
        pattern = c.string("pattern")
        if format == .regex {
            if let pattern {
                do {
                    let names = try RegexPattern.groupNames(pattern)
                    if names.isEmpty {
                        c.error("the pattern has no named groups like (?<level>...)", at: c.node("pattern"), key: "pattern")
                    }
                } catch {
                    c.error("bad regex '\(pattern)': \(error.reason)", at: c.node("pattern"), key: "pattern")
                }
            } else {
                c.error("missing required key 'pattern' (format: regex needs one)")
            }
        } else if pattern != nil {
            c.error("'pattern' is only for format: regex", at: c.node("pattern"), key: "pattern")
        }
        if let t = c.object("timestamp") {
            let f = t.fieldPath("field")
            if f == nil && !t.has("field") { t.error("missing required key 'field'") }
            let formats = t.stringList("formats") ?? ["iso8601"]
            for (k, format) in formats.enumerated() where !["iso8601", "unix", "unix_ms"].contains(format) {
                do { _ = try TimestampPattern(format) } catch {
                    t.error("formats[\(k)]: '\(format)' is not iso8601, unix, unix_ms or a valid pattern: \(error)", at: t.node("formats"), key: "formats")
                }
            }
            let remove = t.bool("remove", default: false)
            t.finish()
            if let f { timestamp = TimestampConfig(field: f, formats: formats, remove: remove) }
        }
    }
}
