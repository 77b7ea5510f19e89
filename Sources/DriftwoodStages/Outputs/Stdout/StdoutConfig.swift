import DriftwoodCore

/// `type: stdout` — events on standard output.
public struct StdoutConfig: StageConfig {
    /// `json` (compact, one a line) | `pretty` (indented).
    public var pretty: Bool

    public init(pretty: Bool = false) { self.pretty = pretty }

    public init(_ c: ConfigObject) {
        pretty = c.choice("format", ["json", "pretty"], default: "json") == "pretty"
    }
}
