import DriftwoodCore
import Foundation

/// `type: elasticsearch` — gzip `_bulk` requests to Elasticsearch (or OpenSearch), with per-item
/// retries, a dead-letter file and idempotent ids.
public struct ElasticsearchConfig: StageConfig {
    /// Base URLs, like `http://127.0.0.1:9200` or `https://es.example:9243/prefix`. Requests go
    /// round-robin; a host that fails sits out with backoff. Default `http://127.0.0.1:9200`.
    public var hosts: [ElasticsearchHost]
    /// Where documents go: an index name rendered per event (`%{field}`, `%{+yyyy.MM.dd}` from the
    /// event's `@timestamp`), or the data stream name `<type>-<dataset>-<namespace>`.
    /// Default `driftwood-%{+yyyy.MM.dd}`.
    public var index: Template
    /// Set when writing to a data stream: every action is `create`.
    public var dataStream: DataStream?
    /// `create` (default: a document that exists is never overwritten) or `index`.
    public var action: BulkAction
    /// `fingerprint` (default: a stable id from the event's origin), `auto` (the server picks),
    /// or a template like `%{request_id}`.
    public var documentID: DocumentID
    /// `gzip` (default) or `none`.
    public var gzip: Bool
    /// libdeflate level for `gzip`, 1 (fastest, default) to 12 (smallest).
    public var compressionLevel: Int
    /// When a bulk request is cut.
    public var batch: Batch
    /// Bulk requests in flight at once; default 2.
    public var concurrency: Int
    /// How failed requests and items are retried.
    public var retry: RetryPolicy
    /// Basic or API-key authentication; the secret never appears in logs or errors.
    public var auth: Auth?
    /// TLS settings for `https` hosts.
    public var tls: TLS
    /// Optional: an index template PUT at start, before the first bulk request.
    public var template: IndexTemplate?
    /// Where rejected documents go; nil: `<data_dir>/dead_letter/<output id>.jsonl`.
    public var deadLetterPath: String?
    /// Connection and whole-request time limits.
    public var timeouts: Timeouts

    /// `data_stream: {type, dataset, namespace}`.
    public struct DataStream: Sendable, Equatable {
        public var type: String
        public var dataset: String
        public var namespace: String
        /// `<type>-<dataset>-<namespace>`, the data stream's name.
        public var name: String { "\(type)-\(dataset)-\(namespace)" }
    }

    /// `batch: {max_events, max_bytes, timeout}`.
    public struct Batch: Sendable, Equatable {
        /// Most events in one bulk request; default 5000.
        public var maxEvents: Int
        /// Most bytes of uncompressed body in one bulk request; default 10MiB.
        public var maxBytes: Int
        /// Longest time an event waits for its request to fill; default 1s.
        public var timeout: Duration
    }

    /// `retry: {initial_backoff, max_backoff, max_attempts}`.
    public struct RetryPolicy: Sendable, Equatable {
        /// Exponential backoff with full jitter, between `initial_backoff` (100ms) and `max_backoff` (30s).
        public var backoff: Backoff
        /// Attempts before the remaining documents go to the dead-letter file; nil (default): retry forever.
        public var maxAttempts: Int?
    }

    /// `auth: {username, password}` or `auth: {api_key}`.
    public enum Auth: Sendable, Equatable, CustomStringConvertible {
        case basic(username: String, password: String)
        /// The encoded API key as sent after `ApiKey ` (an `id:key` pair is encoded when read).
        case apiKey(String)

        /// Names the method, never the secret.
        public var description: String {
            switch self {
            case .basic(let username, _): return "basic(username: \(username), password: <redacted>)"
            case .apiKey: return "api_key(<redacted>)"
            }
        }
    }

    /// `tls: {ca_file, verify}`.
    public struct TLS: Sendable, Equatable {
        /// PEM file of the certificate authorities to trust; nil: the system's.
        public var caFile: String?
        /// Check the server's certificate and host name; default true.
        public var verify: Bool
    }

    /// `template: {name, file}`.
    public struct IndexTemplate: Sendable, Equatable {
        public var name: String
        public var file: String
        /// The file's JSON, read and checked when the pipeline is loaded.
        public var body: [UInt8]
    }

    /// `timeouts: {connect, request}`.
    public struct Timeouts: Sendable, Equatable {
        /// Longest wait for a TCP (and TLS) connection; default 5s.
        public var connect: Duration
        /// Longest time for one whole request, body upload to last response byte; default 60s.
        public var request: Duration
    }

    /// `document_id:`.
    public enum DocumentID: Sendable {
        case fingerprint
        case auto
        case template(Template)
    }

    public static let defaultIndex = "driftwood-%{+yyyy.MM.dd}"

    public init(_ c: ConfigObject) {
        hosts = []
        let hostTexts = c.stringList("hosts") ?? ["http://127.0.0.1:9200"]
        for (k, text) in hostTexts.enumerated() {
            do {
                hosts.append(try ElasticsearchHost(text))
            } catch {
                c.error("\(error)", at: c.node("hosts"), key: "hosts[\(k)]")
            }
        }
        if hostTexts.isEmpty { c.error("needs at least one host URL", at: c.node("hosts"), key: "hosts") }

        action = BulkAction(rawValue: c.choice("action", ["create", "index"], default: "create")) ?? .create
        dataStream = nil
        index = try! Template(Self.defaultIndex)
        if let ds = c.object("data_stream") {
            let stream = DataStream(
                type: ds.string("type", default: "logs"), dataset: ds.string("dataset", default: "generic"),
                namespace: ds.string("namespace", default: "default"))
            for (key, value) in [("type", stream.type), ("dataset", stream.dataset), ("namespace", stream.namespace)] {
                if let problem = Self.dataStreamPartProblem(value) { ds.error(problem, at: ds.node(key), key: key) }
            }
            ds.finish()
            dataStream = stream
            if c.has("index") { c.error("give either 'index' or 'data_stream', not both", at: c.node("index"), key: "index") }
            if c.has("action") && action != .create {
                c.error("data streams take only 'create' actions", at: c.node("action"), key: "action")
            }
            action = .create
            if let t = try? Template(stream.name) { index = t }
        } else if let text = c.string("index") {
            do {
                index = try Template(text)
                if let problem = Self.indexNameProblem(text) { c.error(problem, at: c.node("index"), key: "index") }
            } catch {
                c.error("bad template: \(error)", at: c.node("index"), key: "index")
            }
        }

        documentID = .fingerprint
        if let text = c.string("document_id") {
            switch text {
            case "fingerprint": documentID = .fingerprint
            case "auto": documentID = .auto
            default:
                do {
                    let t = try Template(text)
                    if t.isConstant {
                        var message =
                            "a constant id would give every event the same document; expected fingerprint, auto or a template like %{request_id}"
                        if let hint = closestMatch(to: text, in: ["fingerprint", "auto"]) {
                            message += " (did you mean '\(hint)'?)"
                        }
                        c.error(message, at: c.node("document_id"), key: "document_id")
                    } else {
                        documentID = .template(t)
                    }
                } catch {
                    c.error("bad template: \(error)", at: c.node("document_id"), key: "document_id")
                }
            }
        }

        gzip = c.choice("compression", ["gzip", "none"], default: "gzip") == "gzip"
        compressionLevel = c.int("compression_level", default: 1, min: 1)
        if compressionLevel > 12 {
            c.error("must be at most 12", at: c.node("compression_level"), key: "compression_level")
            compressionLevel = 12
        }

        batch = Batch(maxEvents: 5000, maxBytes: 10 << 20, timeout: .seconds(1))
        if let b = c.object("batch") {
            batch.maxEvents = b.int("max_events", default: 5000, min: 1)
            batch.maxBytes = b.size("max_bytes", default: 10 << 20)
            if batch.maxBytes < 1024 {
                b.error("must be at least 1KiB", at: b.node("max_bytes"), key: "max_bytes")
                batch.maxBytes = 1024
            }
            batch.timeout = b.duration("timeout", default: .seconds(1))
            if batch.timeout <= .zero {
                b.error("must be longer than 0", at: b.node("timeout"), key: "timeout")
                batch.timeout = .seconds(1)
            }
            b.finish()
        }
        concurrency = c.int("concurrency", default: 2, min: 1)
        if concurrency > 64 {
            c.error("must be at most 64", at: c.node("concurrency"), key: "concurrency")
            concurrency = 64
        }

        var initial = Duration.milliseconds(100)
        var maximum = Duration.seconds(30)
        var maxAttempts: Int?
        if let r = c.object("retry") {
            initial = r.duration("initial_backoff", default: initial)
            maximum = r.duration("max_backoff", default: maximum)
            if initial <= .zero {
                r.error("must be longer than 0", at: r.node("initial_backoff"), key: "initial_backoff")
                initial = .milliseconds(100)
            }
            if maximum < initial {
                r.error("must not be shorter than initial_backoff", at: r.node("max_backoff"), key: "max_backoff")
                maximum = initial
            }
            if r.has("max_attempts") { maxAttempts = r.int("max_attempts", default: 1, min: 1) }
            r.finish()
        }
        retry = RetryPolicy(backoff: Backoff(initial: initial, maximum: maximum), maxAttempts: maxAttempts)

        auth = nil
        if let a = c.object("auth") {
            let username = a.string("username")
            let password = a.string("password")
            let apiKey = a.string("api_key")
            if apiKey != nil && (username != nil || password != nil) {
                a.error("give either username and password, or api_key, not both")
            } else if let apiKey {
                auth = .apiKey(apiKey.contains(":") ? Data(apiKey.utf8).base64EncodedString() : apiKey)
            } else if let username, let password {
                auth = .basic(username: username, password: password)
            } else if username != nil {
                a.error("missing required key 'password'")
            } else if password != nil {
                a.error("missing required key 'username'")
            } else {
                a.error("needs username and password, or api_key")
            }
            a.finish()
        }

        tls = TLS(caFile: nil, verify: true)
        if let t = c.object("tls") {
            tls.caFile = t.string("ca_file")
            tls.verify = t.bool("verify", default: true)
            if let file = tls.caFile, let problem = FileAccess.problem(file) {
                t.error("\(problem)", at: t.node("ca_file"), key: "ca_file")
            }
            t.finish()
        }

        template = nil
        if let t = c.object("template") {
            let name = t.requiredString("name")
            let file = t.requiredString("file")
            if let name, name.isEmpty || name.contains("/") || name != name.lowercased() {
                t.error("expected a lowercase template name without '/'", at: t.node("name"), key: "name")
            }
            if let name, let file {
                switch Self.readTemplate(file) {
                case .success(let body): template = IndexTemplate(name: name, file: file, body: body)
                case .failure(let problem): t.error(problem.message, at: t.node("file"), key: "file")
                }
            }
            t.finish()
        }

        deadLetterPath = nil
        if let d = c.object("dead_letter") {
            deadLetterPath = d.requiredString("path")
            d.finish()
        }

        timeouts = Timeouts(connect: .seconds(5), request: .seconds(60))
        if let t = c.object("timeouts") {
            timeouts.connect = t.duration("connect", default: .seconds(5))
            timeouts.request = t.duration("request", default: .seconds(60))
            for (key, value) in [("connect", timeouts.connect), ("request", timeouts.request)] where value <= .zero {
                t.error("must be longer than 0", at: t.node(key), key: key)
            }
            t.finish()
        }
    }

    /// The dead-letter file: `dead_letter.path`, or `<data_dir>/dead_letter/<output id>.jsonl`.
    public func deadLetterFile(dataDir: String, outputID: String) -> String {
        deadLetterPath ?? "\(dataDir)/dead_letter/\(outputID).jsonl"
    }

    struct TemplateProblem: Error { let message: String }

    /// The template file's bytes when they hold a JSON object.
    static func readTemplate(_ file: String) -> Result<[UInt8], TemplateProblem> {
        let bytes: [UInt8]
        do { bytes = try FileAccess.read(file) } catch {
            return .failure(TemplateProblem(message: "\(error)"))
        }
        do {
            let compact = try JSONCompactor.compact(bytes)
            guard compact.first == UInt8(ascii: "{") else {
                return .failure(TemplateProblem(message: "'\(file)' must hold a JSON object (an index template)"))
            }
            return .success(compact)
        } catch {
            return .failure(TemplateProblem(message: "'\(file)' is not valid JSON: \(error)"))
        }
    }

    /// Why the literal parts of an index name cannot be an Elasticsearch index name, or nil.
    static func indexNameProblem(_ text: String) -> String? {
        // Only the literal text can be checked here; field values are checked by the server.
        var literal = ""
        var rest = Substring(text)
        while let open = rest.range(of: "%{") {
            literal += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { break }
            rest = rest[rest.index(after: close)...]
        }
        literal += rest
        if literal != literal.lowercased() { return "index names must be lowercase" }
        if let bad = literal.first(where: { "\\/*?\"<>| ,#:".contains($0) }) {
            return "index names cannot contain '\(bad)'"
        }
        if let first = text.first, "-_+".contains(first) { return "index names cannot start with '\(first)'" }
        return nil
    }

    static func dataStreamPartProblem(_ part: String) -> String? {
        if part.isEmpty { return "must not be empty" }
        if part.contains("%{") { return nil }
        if part != part.lowercased() { return "must be lowercase" }
        if part.contains("-") { return "must not contain '-' (it separates type, dataset and namespace)" }
        if let bad = part.first(where: { "\\/*?\"<>| ,#:".contains($0) }) { return "cannot contain '\(bad)'" }
        return nil
    }
}

/// The bulk action of each document.
public enum BulkAction: String, Sendable {
    /// Fails (409) when the id exists: with fingerprint ids, a resend is recognised as delivered.
    case create
    /// Creates or overwrites.
    case index
}

/// One `hosts:` entry: scheme, host, port and an optional path prefix.
public struct ElasticsearchHost: Sendable, Equatable, CustomStringConvertible {
    /// `http://host:port/prefix` without a trailing slash.
    public let baseURL: String

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Parses `http://host:9200`, `https://host/prefix` or `host:9200` (http assumed).
    public init(_ text: String) throws(ParseError) {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        var scheme = "http"
        if let r = rest.range(of: "://") {
            scheme = rest[..<r.lowerBound].lowercased()
            rest = rest[r.upperBound...]
        }
        guard scheme == "http" || scheme == "https" else {
            throw ParseError(description: "unsupported scheme '\(scheme)' in host URL (expected http or https)")
        }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = rest[authorityEnd...]
        if authority.contains("@") {
            // Credentials in a URL end up in logs; `auth:` keeps them out.
            throw ParseError(description: "credentials in a host URL are not allowed; put them under 'auth:'")
        }
        guard !authority.isEmpty else { throw ParseError(description: "host URL '\(text)' has no host") }
        if path.contains("?") || path.contains("#") {
            throw ParseError(description: "host URL '\(text)' may not hold a query or fragment")
        }
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let port = Int(authority[authority.index(after: colon)...]), (1...65535).contains(port) else {
                throw ParseError(description: "bad port in host URL '\(text)'")
            }
        }
        while path.hasSuffix("/") { path = path.dropLast() }
        baseURL = "\(scheme)://\(authority)\(path)"
    }

    public var description: String { baseURL }
}
