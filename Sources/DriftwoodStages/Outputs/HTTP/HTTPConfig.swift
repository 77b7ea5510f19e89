import DriftwoodCore

/// `type: http` — events to any HTTP endpoint (a webhook, a collector, another shipper).
public struct HTTPConfig: StageConfig {
    /// The endpoint, `http://…` or `https://…` (a query string is kept as given).
    public var url: String
    /// `POST` (default) or `PUT`.
    public var method: HTTPConnection.Method
    /// `ndjson` (default: one JSON object a line), `json_array` (one array a request) or `json`
    /// (one event a request, the object itself).
    public var encoding: Encoding
    /// `gzip` or `none` (default), and `compression_level` 1 to 12.
    public var gzip: Bool
    public var compressionLevel: Int
    /// Header lines sent with every request, `Name: value`.
    public var headers: [String]
    /// `{bearer}` or `{username, password}`; never in logs or errors.
    public var auth: HTTPAuth?
    public var tls: TLSOptions
    /// Default 1000 events, 1MiB, 1s; one event a request with `encoding: json`.
    public var batch: BatchLimits
    /// Requests in flight at once; default 2.
    public var concurrency: Int
    public var retry: RetryPolicy
    public var timeouts: HTTPTimeouts
    /// Where rejected events go; nil: `<data_dir>/dead_letter/<output id>.jsonl`.
    public var deadLetterPath: String?

    public enum Encoding: String, Sendable { case ndjson, jsonArray = "json_array", json }

    public init(_ c: ConfigObject) {
        url = c.requiredString("url") ?? "http://127.0.0.1"
        if let problem = Self.urlProblem(url) { c.error(problem, at: c.node("url"), key: "url") }
        method = c.choice("method", ["POST", "PUT"], default: "POST") == "PUT" ? .put : .post
        encoding = Encoding(rawValue: c.choice("encoding", ["ndjson", "json_array", "json"], default: "ndjson")) ?? .ndjson
        (gzip, compressionLevel) = c.compression(default: "none")
        headers = []
        for (name, node) in c.pairs("headers") ?? [] {
            let value = node.string ?? ""
            if name.isEmpty || !name.allSatisfy({ $0.isLetter || $0.isNumber || "-_".contains($0) }) {
                c.error("'\(name)' is not a header name (letters, digits, '-' and '_')", at: node, key: "headers.\(name)")
            } else if value.contains(where: { $0.isNewline || $0 == "\0" }) {
                c.error("a header value cannot hold a line break", at: node, key: "headers.\(name)")
            } else {
                headers.append("\(name): \(value)")
            }
        }
        auth = c.httpAuth(bearer: true, apiKey: false)
        tls = c.tlsOptions()
        batch = c.batchLimits(maxEvents: 1000, maxBytes: 1 << 20)
        if encoding == .json {
            if batch.maxEvents != 1 && c.object("batch")?.has("max_events") == true {
                c.error("encoding json sends one event a request; leave out max_events", key: "batch.max_events")
            }
            batch.maxEvents = 1
        }
        concurrency = c.concurrency(default: 2)
        retry = c.retryPolicy()
        timeouts = c.httpTimeouts()
        deadLetterPath = c.deadLetterPath()
    }

    /// Why `text` cannot be the endpoint, or nil.
    static func urlProblem(_ text: String) -> String? {
        guard let r = text.range(of: "://"), ["http", "https"].contains(text[..<r.lowerBound].lowercased()) else {
            return "'\(text)' is not an http:// or https:// URL"
        }
        let authority = text[r.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if authority.isEmpty { return "'\(text)' has no host" }
        if authority.contains("@") { return "credentials in a URL are not allowed; put them under 'auth:'" }
        if text.contains(where: { $0.isWhitespace }) { return "'\(text)' contains a space" }
        return nil
    }
}
