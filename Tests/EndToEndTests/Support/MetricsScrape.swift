import Foundation

/// Reading driftwood's `/metrics` and `/health` in the tests, over 127.0.0.1.
enum MetricsScrape {
    /// Samples of a Prometheus text answer: `name{labels}` exactly as exported → value.
    static func metrics(_ base: String) throws -> [String: Double] {
        let (status, body) = try HTTP.request("GET", base + "/metrics")
        guard status == 200 else { throw LocalServer.ServerError(description: "GET /metrics: \(status)") }
        return parse(String(decoding: body, as: UTF8.self))
    }

    static func parse(_ text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                continue
            }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    /// The status code and the JSON object of `/health`.
    static func health(_ base: String) throws -> (status: Int, json: [String: Any]) {
        let (status, body) = try HTTP.request("GET", base + "/health")
        let json = try JSONSerialization.jsonObject(with: body) as? [String: Any] ?? [:]
        return (status, json)
    }

    /// One output's object in a `/health` answer.
    static func output(_ id: String, _ health: [String: Any]) -> [String: Any] {
        (health["outputs"] as? [String: Any])?[id] as? [String: Any] ?? [:]
    }

    /// Polls `condition` every 50 ms until it holds or `timeout` seconds pass.
    static func eventually(timeout: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return try condition()
    }
}

extension Driftwood.Running {
    /// `http://127.0.0.1:PORT` from the "serving /metrics and /health" line driftwood logs once
    /// it listens (text or JSON log), so a test can ask for port 0 and find the port it got.
    func metricsBase(timeout: Double = 20) throws -> String {
        var found: String?
        _ = MetricsScrape.eventually(timeout: timeout) {
            for line in stderr.split(separator: "\n") where line.contains("serving /metrics and /health") {
                if let match = line.firstMatch(of: /127\.0\.0\.1:(\d+)/) { found = "http://127.0.0.1:\(match.1)" }
            }
            return found != nil || !process.isRunning
        }
        guard let found else {
            throw LocalServer.ServerError(description: "driftwood did not log its metrics address:\n\(stderr)")
        }
        return found
    }

    /// Closes driftwood's stdin: the stdin input reaches its end.
    func closeInput() { try? input.fileHandleForWriting.close() }
}

/// A TCP socket listening on 127.0.0.1 (a port some other program holds), closed by `close()`.
final class Listener {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 8) == 0 else {
            Glibc.close(fd)
            throw LocalServer.ServerError(description: "cannot listen on 127.0.0.1")
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { Glibc.close(fd) }
}
