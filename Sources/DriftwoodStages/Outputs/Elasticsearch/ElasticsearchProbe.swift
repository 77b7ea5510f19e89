import Foundation

/// The health check `driftwood run` makes before it starts and `driftwood check --connect` makes
/// (as Vector's sink healthcheck): `GET /` on each host of an `elasticsearch` output, with its
/// auth and TLS settings. The answer is one line: what the server is, or what is wrong —
/// connection refused, a name that does not resolve, TLS, 401/403, not Elasticsearch, a version
/// too old.
public enum ElasticsearchProbe {
    /// What one host said.
    public struct Outcome: Sendable, CustomStringConvertible {
        public let url: String
        /// Nil when the host can take documents.
        public let problem: String?
        /// `Elasticsearch 8.15.0`, `OpenSearch 2.17.0`, … when it answered.
        public let server: String?
        public var ok: Bool { problem == nil }
        public var description: String { problem.map { "\(url): \($0)" } ?? "\(url): ok (\(server ?? "answers"))" }
    }

    /// Oldest Elasticsearch major version the output works with (`_bulk` without types).
    public static let oldestMajor = 7

    /// Probes every host of `config`, one after another; blocking (a few seconds at most per host:
    /// the connect time-out, and at most 10 s for the answer).
    public static func probe(_ config: ElasticsearchConfig) -> [Outcome] {
        let settings = HTTPConnection.Settings(
            connectTimeout: config.timeouts.connect, requestTimeout: min(config.timeouts.request, .seconds(10)),
            auth: config.auth, tls: config.tls)
        return config.hosts.map { host in
            let connection = HTTPConnection(settings: settings)
            let result = connection.send(.get, url: host.baseURL + "/", body: UnsafeRawBufferPointer(start: nil, count: 0))
            return outcome(of: result, url: host.baseURL)
        }
    }

    static func outcome(of result: Result<HTTPConnection.Response, TransportFailure>, url: String) -> Outcome {
        switch result {
        case .failure(let failure):
            return Outcome(url: url, problem: describe(failure), server: nil)
        case .success(let response):
            return outcome(status: response.status, body: response.body, url: url)
        }
    }

    /// The one-line reason for a failure to connect.
    static func describe(_ failure: TransportFailure) -> String {
        let m = failure.message
        let lower = m.lowercased()
        if lower.contains("resolve") { return "cannot resolve the host name (DNS): \(m)" }
        if lower.contains("refused") || lower.contains("couldn't connect") || lower.contains("could not connect") {
            return "connection refused (is the server running at this URL?): \(m)"
        }
        if failure.kind == .tls || lower.contains("ssl") || lower.contains("tls") || lower.contains("certificate") {
            return "TLS failed (an https URL for an http server, or a certificate not trusted: tls.ca_file, tls.verify): \(m)"
        }
        if failure.kind == .timeout { return "no answer within the time-out (timeouts.connect, timeouts.request): \(m)" }
        return "cannot connect: \(m)"
    }

    /// The outcome of an HTTP answer to `GET /`.
    public static func outcome(status: Int, body: [UInt8], url: String) -> Outcome {
        switch status {
        case 401:
            return Outcome(url: url, problem: "401 Unauthorized: the server refused the credentials (auth.username and auth.password, or auth.api_key)", server: nil)
        case 403:
            // A user allowed to index but not to read cluster information: it can still take documents.
            return Outcome(url: url, problem: nil, server: "server not identified: 403 to GET / (the user may not read cluster information)")
        case 200..<300:
            break
        default:
            let text = String(decoding: body.prefix(200), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
            return Outcome(url: url, problem: "HTTP \(status) to GET /: \(text)", server: nil)
        }
        guard let root = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let version = root["version"] as? [String: Any], let number = version["number"] as? String
        else {
            return Outcome(url: url, problem: "answers, but not as Elasticsearch (no version.number in GET /)", server: nil)
        }
        let openSearch = (version["distribution"] as? String) == "opensearch"
        let name = openSearch ? "OpenSearch" : "Elasticsearch"
        let major = Int(number.split(separator: ".").first ?? "") ?? 0
        if !openSearch && major < oldestMajor {
            return Outcome(url: url, problem: "\(name) \(number) is too old (\(oldestMajor).0 or later is needed)", server: "\(name) \(number)")
        }
        return Outcome(url: url, problem: nil, server: "\(name) \(number)")
    }
}
