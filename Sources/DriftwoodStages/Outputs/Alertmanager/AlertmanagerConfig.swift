import DriftwoodCore

/// `type: alertmanager` — alert events to Prometheus Alertmanager's API v2, to people.
public struct AlertmanagerConfig: StageConfig {
    /// Alertmanager base URLs; every one receives every alert (a cluster expects that).
    /// Default `http://127.0.0.1:9093`.
    public var urls: [String]
    /// Labels added to every alert (`severity`, `team`, …); they win over the alert's own.
    public var labels: [(String, String)]
    /// A firing alert is posted again this often while it fires; default 1m.
    public var resendInterval: Duration
    /// `{bearer}` or `{username, password}`, for an Alertmanager behind a proxy.
    public var auth: HTTPAuth?
    public var tls: TLSOptions
    public var timeouts: HTTPTimeouts
    public var retry: RetryPolicy
    /// Default 500 alerts, 1MiB, 1s.
    public var batch: BatchLimits
    /// Where alerts Alertmanager refused go; nil: `<data_dir>/dead_letter/<output id>.jsonl`
    /// (`<output id>-<n>.jsonl` for the n-th URL after the first).
    public var deadLetterPath: String?

    public init(_ c: ConfigObject) {
        urls = c.stringList("urls") ?? ["http://127.0.0.1:9093"]
        if urls.isEmpty { c.error("needs at least one Alertmanager URL", at: c.node("urls"), key: "urls") }
        for (k, url) in urls.enumerated() {
            if let problem = HTTPConfig.urlProblem(url) { c.error(problem, at: c.node("urls"), key: "urls[\(k)]") }
        }
        urls = urls.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        labels = []
        for (name, node) in c.pairs("labels") ?? [] {
            guard let first = name.first, first.isLetter || first == "_",
                name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
            else {
                c.error("'\(name)' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)", at: node, key: "labels.\(name)")
                continue
            }
            labels.append((name, node.string ?? ""))
        }
        resendInterval = c.positiveDuration("resend_interval", default: .seconds(60))
        auth = c.httpAuth(bearer: true, apiKey: false)
        tls = c.tlsOptions()
        timeouts = c.httpTimeouts()
        retry = c.retryPolicy()
        batch = c.batchLimits(maxEvents: 500, maxBytes: 1 << 20)
        deadLetterPath = c.deadLetterPath()
    }
}
