import DriftwoodCore

/// `type: mlflow` — production metrics (drift, monitor and evaluation reports) as MLflow runs,
/// beside the model's training runs.
public struct MLflowConfig: StageConfig {
    /// The tracking server, `http://127.0.0.1:5000` by default.
    public var trackingURI: String
    /// The experiment, a template rendered per report (`%{drift.group}`); default `driftwood`.
    public var experiment: Template
    /// `{bearer}` or `{username, password}` (MLflow's basic-auth app).
    public var auth: HTTPAuth?
    public var tls: TLSOptions
    public var timeouts: HTTPTimeouts
    public var retry: RetryPolicy
    /// Where reports MLflow refused go; nil: `<data_dir>/dead_letter/<output id>.jsonl`.
    public var deadLetterPath: String?

    public init(_ c: ConfigObject) {
        trackingURI = c.string("tracking_uri", default: "http://127.0.0.1:5000")
        if let problem = HTTPConfig.urlProblem(trackingURI) {
            c.error(problem, at: c.node("tracking_uri"), key: "tracking_uri")
        }
        while trackingURI.hasSuffix("/") { trackingURI.removeLast() }
        experiment = try! Template("driftwood")
        if let text = c.string("experiment") {
            do {
                experiment = try Template(text)
                if text.isEmpty { c.error("must not be empty", at: c.node("experiment"), key: "experiment") }
            } catch {
                c.error("bad template: \(error)", at: c.node("experiment"), key: "experiment")
            }
        }
        auth = c.httpAuth(bearer: true, apiKey: false)
        tls = c.tlsOptions()
        timeouts = c.httpTimeouts()
        retry = c.retryPolicy()
        deadLetterPath = c.deadLetterPath()
    }
}
