import Foundation

/// `Tests/Fixtures/elasticsearch/fault_proxy.py`: in front of osmem-server (or answering `_bulk`
/// itself), it injects what osmem-server never does (503, 429, item 429s, slow answers, dropped
/// connections, 413, 401) and records requests, so tests can check headers and request shapes.
enum FaultProxy {
    static let script = Driftwood.packageRoot.appendingPathComponent("Tests/Fixtures/elasticsearch/fault_proxy.py").path

    /// Test-only TLS material: a CA and a certificate for 127.0.0.1 it signed.
    static let tlsDirectory = Driftwood.packageRoot.appendingPathComponent("Tests/Fixtures/elasticsearch/tls").path

    /// Starts a proxy to `upstream` (nil: a null Elasticsearch answering every item 201),
    /// serving HTTPS with the fixture certificate when `tls` is set.
    static func start(upstream: LocalServer?, keepLines: Bool = true, tls: Bool = false) throws -> LocalServer {
        var arguments = [script]
        if let upstream { arguments += ["--upstream", upstream.url] }
        if !keepLines { arguments.append("--no-lines") }
        if tls { arguments += ["--tls-cert", "\(tlsDirectory)/server.pem", "--tls-key", "\(tlsDirectory)/server-key.pem"] }
        return try LocalServer(
            name: "fault-proxy", executable: "/usr/bin/env", arguments: ["python3"] + arguments, keepStdinOpen: true)
    }
}

extension LocalServer {
    /// Queues faults for the next matching requests (see fault_proxy.py).
    func inject(_ faults: [[String: Any]]) throws {
        try request("POST", "/_proxy/faults", json: faults)
    }

    /// Every request answered with `status` (0: the connection is dropped) until `up()`.
    func down(status: Int = 503) throws { try request("POST", "/_proxy/down", json: ["status": status]) }

    func up() throws { try request("POST", "/_proxy/up", json: [String: Any]()) }

    /// The requests seen so far: method, path, headers, lines (inflated body), status.
    func recorded() throws -> [[String: Any]] {
        let (_, body) = try HTTP.request("GET", url + "/_proxy/requests")
        return try JSONSerialization.jsonObject(with: body) as! [[String: Any]]
    }

    /// The recorded `_bulk` requests.
    func bulkRequests() throws -> [[String: Any]] {
        try recorded().filter { ($0["path"] as? String)?.contains("_bulk") == true }
    }
}
