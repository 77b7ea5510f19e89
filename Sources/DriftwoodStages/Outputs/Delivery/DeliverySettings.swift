import DriftwoodCore
import Foundation

/// `auth:` of an HTTP output: basic, a bearer token, or an Elasticsearch API key.
public enum HTTPAuth: Sendable, Equatable, CustomStringConvertible {
    case basic(username: String, password: String)
    /// `Authorization: Bearer <token>`.
    case bearer(String)
    /// The encoded API key as sent after `ApiKey ` (an `id:key` pair is encoded when read).
    case apiKey(String)

    /// Names the method, never the secret.
    public var description: String {
        switch self {
        case .basic(let username, _): return "basic(username: \(username), password: <redacted>)"
        case .bearer: return "bearer(<redacted>)"
        case .apiKey: return "api_key(<redacted>)"
        }
    }
}

/// `tls: {ca_file, verify}`.
public struct TLSOptions: Sendable, Equatable {
    /// PEM file of the certificate authorities to trust; nil: the system's.
    public var caFile: String?
    /// Check the server's certificate and host name; default true.
    public var verify: Bool

    public init(caFile: String?, verify: Bool) {
        self.caFile = caFile
        self.verify = verify
    }
}

/// `batch: {max_events, max_bytes, timeout}`: when a request is cut.
public struct BatchLimits: Sendable, Equatable {
    /// Most events in one request.
    public var maxEvents: Int
    /// Most bytes of uncompressed body in one request.
    public var maxBytes: Int
    /// Longest time an event waits for its request to fill; default 1s.
    public var timeout: Duration
    /// A request that is not full goes out once no event has come for this long (default 50ms,
    /// at most `timeout`): when the stream pauses or ends, waiting longer only delays it.
    public var idle: Duration = .milliseconds(50)
}

/// `retry: {initial_backoff, max_backoff, max_attempts}`.
public struct RetryPolicy: Sendable, Equatable {
    /// Exponential backoff with full jitter, between `initial_backoff` (100ms) and `max_backoff` (30s).
    public var backoff: Backoff
    /// Attempts before the remaining events go to the dead-letter file; nil (default): retry forever.
    public var maxAttempts: Int?
}

/// `timeouts: {connect, request}`.
public struct HTTPTimeouts: Sendable, Equatable {
    /// Longest wait for a TCP (and TLS) connection; default 5s.
    public var connect: Duration
    /// Longest time for one whole request, body upload to last response byte; default 60s.
    public var request: Duration
}

/// Readers of the keys every HTTP output shares, so each reads and checks them the same way.
extension ConfigObject {
    /// `batch:`; the defaults are the output's.
    func batchLimits(maxEvents: Int, maxBytes: Int) -> BatchLimits {
        var batch = BatchLimits(maxEvents: maxEvents, maxBytes: maxBytes, timeout: .seconds(1))
        guard let b = object("batch") else { return batch }
        batch.maxEvents = b.int("max_events", default: maxEvents, min: 1)
        batch.maxBytes = b.size("max_bytes", default: maxBytes)
        if batch.maxBytes < 1024 {
            b.error("must be at least 1KiB", at: b.node("max_bytes"), key: "max_bytes")
            batch.maxBytes = 1024
        }
        batch.timeout = b.positiveDuration("timeout", default: .seconds(1))
        batch.idle = b.positiveDuration("idle", default: .milliseconds(50))
        b.finish()
        return batch
    }

    /// The duration at `key`; a zero or negative one is an error ("must be longer than 0") and
    /// gives `default`.
    func positiveDuration(_ key: String, default value: Duration) -> Duration {
        let d = duration(key, default: value)
        guard d <= .zero else { return d }
        error("must be longer than 0", at: node(key), key: key)
        return value
    }

    /// `concurrency:` (requests in flight at once), 1 to 64.
    func concurrency(default value: Int) -> Int {
        let n = int("concurrency", default: value, min: 1)
        if n > 64 {
            error("must be at most 64", at: node("concurrency"), key: "concurrency")
            return 64
        }
        return n
    }

    /// `retry:`.
    func retryPolicy() -> RetryPolicy {
        var initial = Duration.milliseconds(100)
        var maximum = Duration.seconds(30)
        var maxAttempts: Int?
        if let r = object("retry") {
            initial = r.positiveDuration("initial_backoff", default: initial)
            maximum = r.duration("max_backoff", default: maximum)
            if maximum < initial {
                r.error("must not be shorter than initial_backoff", at: r.node("max_backoff"), key: "max_backoff")
                maximum = initial
            }
            if r.has("max_attempts") { maxAttempts = r.int("max_attempts", default: 1, min: 1) }
            r.finish()
        }
        return RetryPolicy(backoff: Backoff(initial: initial, maximum: maximum), maxAttempts: maxAttempts)
    }

    /// `auth:`: `{username, password}`, or one of `{bearer}` and `{api_key}` when the output takes it.
    func httpAuth(bearer: Bool, apiKey: Bool) -> HTTPAuth? {
        guard let a = object("auth") else { return nil }
        defer { a.finish() }
        let username = a.string("username")
        let password = a.string("password")
        let key = apiKey ? a.string("api_key") : nil
        let token = bearer ? a.string("bearer") : nil
        let others = (apiKey ? ["api_key"] : []) + (bearer ? ["bearer"] : [])
        let alternatives = ["username and password"] + others
        let given = [username != nil || password != nil, key != nil, token != nil].filter { $0 }.count
        if given > 1 {
            a.error("give either " + alternatives.joined(separator: ", or ") + ", not both")
            return nil
        }
        if let key { return .apiKey(key.contains(":") ? Data(key.utf8).base64EncodedString() : key) }
        if let token { return .bearer(token) }
        if let username, let password { return .basic(username: username, password: password) }
        if username != nil { a.error("missing required key 'password'") }
        else if password != nil { a.error("missing required key 'username'") }
        else { a.error("needs " + alternatives.joined(separator: ", or ")) }
        return nil
    }

    /// `tls:`.
    func tlsOptions() -> TLSOptions {
        var tls = TLSOptions(caFile: nil, verify: true)
        guard let t = object("tls") else { return tls }
        tls.caFile = t.string("ca_file")
        tls.verify = t.bool("verify", default: true)
        if let file = tls.caFile, let problem = FileAccess.problem(file) {
            t.error("\(problem)", at: t.node("ca_file"), key: "ca_file")
        }
        t.finish()
        return tls
    }

    /// `timeouts:`.
    func httpTimeouts() -> HTTPTimeouts {
        var timeouts = HTTPTimeouts(connect: .seconds(5), request: .seconds(60))
        guard let t = object("timeouts") else { return timeouts }
        timeouts.connect = t.positiveDuration("connect", default: .seconds(5))
        timeouts.request = t.positiveDuration("request", default: .seconds(60))
        t.finish()
        return timeouts
    }

    /// `dead_letter: {path}`; nil when not given.
    func deadLetterPath() -> String? {
        guard let d = object("dead_letter") else { return nil }
        defer { d.finish() }
        return d.requiredString("path")
    }

    /// `compression: gzip | none` and `compression_level` (libdeflate 1 to 12).
    func compression(default gzip: String) -> (gzip: Bool, level: Int) {
        let on = choice("compression", ["gzip", "none"], default: gzip) == "gzip"
        var level = int("compression_level", default: 1, min: 1)
        if level > 12 {
            error("must be at most 12", at: node("compression_level"), key: "compression_level")
            level = 12
        }
        return (on, level)
    }
}
