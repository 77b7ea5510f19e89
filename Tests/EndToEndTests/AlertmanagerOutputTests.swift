import Foundation
import Testing

/// The `alertmanager` output through the real binary, against the real Prometheus Alertmanager
/// (Debian's `prometheus-alertmanager`, started by `Tests/Fixtures/servers/serve.py` on a free
/// port with a throwaway config and storage).
@Suite(.serialized) struct AlertmanagerOutputTests {
    static let script = Driftwood.packageRoot.appendingPathComponent("Tests/Fixtures/servers/serve.py").path

    static func alertmanager(_ dir: URL, _ name: String) throws -> LocalServer {
        try LocalServer(
            name: "alertmanager", executable: "/usr/bin/env",
            arguments: ["python3", script, "alertmanager", dir.appendingPathComponent(name).path], keepStdinOpen: true,
            timeout: 60)
    }

    /// The active alerts Alertmanager shows.
    static func alerts(_ server: LocalServer) throws -> [[String: Any]] {
        let (status, body) = try server.request("GET", "/api/v2/alerts")
        guard status == 200 else { return [] }
        return (try JSONSerialization.jsonObject(with: body) as? [[String: Any]]) ?? []
    }

    static func waitFor(_ seconds: Double = 20, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return try condition()
    }

    static func alertLine(state: String, at time: Date, value: Double) -> String {
        let stamp = ISO8601DateFormatter().string(from: time)
        return
            #"{"@timestamp":"\#(stamp)","event":{"kind":"alert"},"message":"psi drift \#(value) on features.amount exceeds 0.2","alert":{"type":"MODEL_DRIFT_DETECTED","state":"\#(state)","feature":"features.amount","metric":"psi","value":\#(value),"threshold":0.2,"window":1000,"group":"fraud-detector"},"host":{"name":"h1"}}"#
            + "\n"
    }

    @Test func everyAlertmanagerShowsTheAlertFiringResentThenResolved() throws {
        let dir = try Driftwood.temporaryDirectory()
        let first = try Self.alertmanager(dir, "am1")
        defer { first.stop() }
        let second = try Self.alertmanager(dir, "am2")
        defer { second.stop() }
        let p = try Driftwood.write(
            """
            inputs: [{type: stdin}]
            filters: [{type: parse, format: json, remove_source: true}]
            outputs:
              - type: alertmanager
                id: am
                urls: ["\(first.url)", "\(second.url)/"]
                labels: {severity: warning, team: ml}
                resend_interval: 2s
                retry: {initial_backoff: 20ms, max_backoff: 200ms}
            shutdown_timeout: 20s
            """, to: "p.yml", in: dir)
        let running = try Driftwood.Running(["run", p], directory: dir)
        let firing = Self.alertLine(state: "firing", at: Date().addingTimeInterval(-1), value: 0.31)
        // Non-alert events around it are skipped.
        _ = running.feed(Data(("{\"n\":1}\n" + firing + "{\"n\":2}\n").utf8), close: false)
        for server in [first, second] {
            #expect(try Self.waitFor { try Self.alerts(server).count == 1 }, "\(running.stderr)")
            let alert = try #require(try Self.alerts(server).first)
            let labels = alert["labels"] as? [String: String] ?? [:]
            #expect(
                labels == [
                    "alertname": "MODEL_DRIFT_DETECTED", "model": "fraud-detector", "feature": "features.amount",
                    "metric": "psi", "source": "driftwood", "severity": "warning", "team": "ml",
                ])
            let annotations = alert["annotations"] as? [String: String] ?? [:]
            #expect(annotations["summary"] == "psi drift 0.31 on features.amount exceeds 0.2")
            #expect(annotations["value"] == "0.31" && annotations["threshold"] == "0.2")
            #expect((alert["status"] as? [String: Any])?["state"] as? String == "active")
        }
        // Posted again while it fires: Alertmanager's updatedAt moves on.
        let updated = try Self.alerts(first).first?["updatedAt"] as? String ?? ""
        #expect(try Self.waitFor(10) { (try Self.alerts(first).first?["updatedAt"] as? String ?? "") > updated })
        // Resolved: it leaves the active alerts of both.
        let resolved = Self.alertLine(state: "resolved", at: Date(), value: 0.1)
        let progress = running.feed(Data(resolved.utf8))
        for server in [first, second] {
            #expect(try Self.waitFor { try Self.alerts(server).isEmpty }, "\(running.stderr)")
        }
        _ = progress
        #expect(running.wait(timeout: 30) == 0, "\(running.stderr)")
    }

    @Test func anAlertmanagerThatIsDownGetsTheAlertWhenItComesUp() throws {
        let dir = try Driftwood.temporaryDirectory()
        let up = try Self.alertmanager(dir, "up")
        defer { up.stop() }
        // A port nothing listens on yet: connection refused, retried.
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        close(socket)
        let p = try Driftwood.write(
            """
            inputs: [{type: stdin}]
            filters: [{type: parse, format: json, remove_source: true}]
            outputs:
              - {type: alertmanager, id: am, urls: ["\(up.url)", "http://127.0.0.1:\(port)"], retry: {initial_backoff: 20ms, max_backoff: 200ms}}
            shutdown_timeout: 3s
            """, to: "p.yml", in: dir)
        let running = try Driftwood.Running(["run", p], directory: dir)
        _ = running.feed(Data(Self.alertLine(state: "firing", at: Date(), value: 0.4).utf8))
        // The one that is up has it; the other is retried (and holds the acknowledgement).
        #expect(try Self.waitFor { try Self.alerts(up).count == 1 }, "\(running.stderr)")
        #expect(Self.waitFor(10) { running.stderr.contains("connection_failed") }, "\(running.stderr)")
        #expect(running.process.isRunning)
        kill(running.pid, SIGTERM)
        _ = running.wait(timeout: 20)
    }
}
