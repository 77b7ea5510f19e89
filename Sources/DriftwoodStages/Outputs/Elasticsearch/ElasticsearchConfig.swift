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

    /// `batch: {max_events, max_bytes, timeout}`: at most 5000 events (default), 10MiB of
    /// uncompressed body, 1s of waiting.
    public typealias Batch = BatchLimits
    /// `auth: {username, password}` or `auth: {api_key}`.
    public typealias Auth = HTTPAuth
    /// `tls: {ca_file, verify}`.
    public typealias TLS = TLSOptions
    /// `timeouts: {connect, request}`.
    public typealias Timeouts = HTTPTimeouts

    /// `template: {name, file}`.
    public struct IndexTemplate: Sendable, Equatable {
        public var name: String
        public var file: String
        /// The file's JSON, read and checked when the pipeline is loaded.
        public var body: [UInt8]
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

        (gzip, compressionLevel) = c.compression(default: "gzip")
        batch = c.batchLimits(maxEvents: 5000, maxBytes: 10 << 20)
        concurrency = c.concurrency(default: 2)
        retry = c.retryPolicy()
        auth = c.httpAuth(bearer: false, apiKey: true)
        tls = c.tlsOptions()

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

        deadLetterPath = c.deadLetterPath()
        timeouts = c.httpTimeouts()
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

extension ElasticsearchConfig {
    public var filesRead: [String] { template.map { [$0.file] } ?? [] }
}
