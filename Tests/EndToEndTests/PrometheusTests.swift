import Foundation
import Testing

/// driftwood's `/metrics` through a real Prometheus (Debian's `prometheus`, started here on
/// 127.0.0.1 with a generated config and a temporary storage directory, stopped by its PID):
/// `promtool check metrics` passes on what driftwood exports, the shipped alerting rules load
/// and evaluate without error, and every query of every panel of the shipped Grafana dashboard
/// returns at least one series once samples went through.
@Suite(.serialized) struct PrometheusTests {
    @Test func everyDashboardQueryReturnsSeriesFromARealPrometheus() throws {
        let osmem = try Osmem.start()
        defer { osmem.stop() }
        let dir = try Driftwood.temporaryDirectory()
        let logs = dir.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let log = logs.appendingPathComponent("model.log")
        try FileManager.default.copyItem(at: Driftwood.packageRoot.appendingPathComponent("samples/model_logs.jsonl"), to: log)
        let root = Driftwood.packageRoot.path
        let running = try Driftwood.Running(
            ["run", "pipelines/model-logs-to-es.yml"], directory: Driftwood.packageRoot,
            environment: [
                "MODEL_LOG_PATHS": logs.path + "/*.log", "ES_URL": osmem.url,
                "DRIFTWOOD_DATA_DIR": dir.appendingPathComponent("state").path,
                "DRIFTWOOD_METRICS_ADDRESS": "127.0.0.1:0",
                "MODEL_REGISTRY": root + "/samples/models.yml", "DRIFT_BASELINE": root + "/samples/baseline.json",
            ])
        defer {
            kill(running.pid, SIGTERM)
            _ = running.wait(timeout: 30)
        }
        let base = try running.metricsBase()
        let size = Double((try FileManager.default.attributesOfItem(atPath: log.path)[.size] as? Int) ?? 0)
        #expect(
            try MetricsScrape.eventually(timeout: 60) {
                try MetricsScrape.metrics(base)[#"driftwood_file_offset_bytes{path="\#(log.path)"}"#] == size
            })

        // promtool lints the exposition as Prometheus reads it.
        let exposition = try HTTP.request("GET", base + "/metrics").body
        let lint = try Driftwood.run(["check", "metrics"], stdin: exposition, executable: "/usr/bin/promtool")
        #expect(lint.code == 0, "promtool check metrics: \(lint.stdout)\(lint.stderr)")

        let prometheus = try Prometheus.start(scraping: String(base.dropFirst("http://".count)), in: dir)
        defer { prometheus.stop() }
        // Enough scrapes for rate() and increase() over 30 s windows.
        #expect(
            try MetricsScrape.eventually(timeout: 60) {
                let r = try prometheus.query(#"count_over_time(up{job="driftwood"}[1m]) >= 8"#)
                return !r.isEmpty
            }, "Prometheus did not scrape driftwood")
        #expect(try prometheus.query(#"up{job="driftwood"} == 1"#).count == 1)

        let dashboard = try JSONSerialization.jsonObject(
            with: Data(contentsOf: DashboardMetrics.stackDashboard)) as! [String: Any]
        let expressions = Self.expressions(dashboard)
        #expect(expressions.count >= 15)
        var empty: [String] = []
        for expr in expressions {
            let query = expr.replacingOccurrences(of: "$__rate_interval", with: "30s")
                .replacingOccurrences(of: "$model", with: ".*")
            let series = try prometheus.query(query)
            if series.isEmpty { empty.append(expr) }
        }
        #expect(empty.isEmpty, "dashboard queries with no series: \(empty)")
        // The model variable's values.
        let groups = try prometheus.get("/api/v1/label/group/values?match[]=driftwood_model_error_rate")
        #expect((groups["data"] as? [String] ?? []).count == 4)

        // The alerting rules loaded and evaluate cleanly against real series.
        let rules = try prometheus.get("/api/v1/rules")
        let loaded = ((rules["data"] as? [String: Any])?["groups"] as? [[String: Any]] ?? []).flatMap {
            $0["rules"] as? [[String: Any]] ?? []
        }
        #expect(loaded.count == 8)
        #expect(
            try MetricsScrape.eventually(timeout: 30) {
                let rules = try prometheus.get("/api/v1/rules")
                let all = ((rules["data"] as? [String: Any])?["groups"] as? [[String: Any]] ?? []).flatMap {
                    $0["rules"] as? [[String: Any]] ?? []
                }
                return all.count == 8 && all.allSatisfy { $0["health"] as? String == "ok" }
            }, "rules not all healthy: \(loaded.map { ($0["name"] ?? "", $0["health"] ?? "", $0["lastError"] ?? "") })")
        // The sample's fraud-detector drift is over its threshold: the drift rule sees it.
        #expect(
            !(try prometheus.query(
                #"driftwood_drift_score > on(instance, group, metric) group_left() driftwood_model_threshold"#)).isEmpty)
    }

    /// Every PromQL expression in a Grafana dashboard: each panel's targets (rows' nested panels
    /// too).
    static func expressions(_ dashboard: [String: Any]) -> [String] {
        var found: [String] = []
        func walk(_ panels: [[String: Any]]) {
            for panel in panels {
                for target in panel["targets"] as? [[String: Any]] ?? [] {
                    if let expr = target["expr"] as? String, !expr.isEmpty { found.append(expr) }
                }
                walk(panel["panels"] as? [[String: Any]] ?? [])
            }
        }
        walk(dashboard["panels"] as? [[String: Any]] ?? [])
        return found
    }
}

/// A Prometheus server for one test.
final class Prometheus {
    let process: Process
    let url: String

    private init(process: Process, url: String) {
        self.process = process
        self.url = url
    }

    /// Starts `/usr/bin/prometheus` scraping `target` every second, with the shipped rules.
    static func start(scraping target: String, in dir: URL) throws -> Prometheus {
        let rules = Driftwood.packageRoot.appendingPathComponent("deploy/prometheus/rules.yml").path
        let config = """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files: ["\(rules)"]
            scrape_configs:
              - job_name: driftwood
                static_configs:
                  - targets: ["\(target)"]
            """
        let configPath = try Driftwood.write(config, to: "prometheus.yml", in: dir)
        let listener = try Listener()
        let port = listener.port
        listener.close()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
        process.arguments = [
            "--config.file=\(configPath)", "--storage.tsdb.path=\(dir.appendingPathComponent("tsdb").path)",
            "--web.listen-address=127.0.0.1:\(port)",
        ]
        let log = dir.appendingPathComponent("prometheus.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        let server = Prometheus(process: process, url: "http://127.0.0.1:\(port)")
        let ready = MetricsScrape.eventually(timeout: 30) {
            ((try? HTTP.request("GET", server.url + "/-/ready"))?.status ?? 0) == 200 || !process.isRunning
        }
        guard ready, process.isRunning else {
            server.stop()
            throw LocalServer.ServerError(
                description: "prometheus did not start: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        }
        return server
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
    }

    func get(_ path: String) throws -> [String: Any] {
        let (status, body) = try HTTP.request("GET", url + path)
        guard status == 200, let json = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw LocalServer.ServerError(description: "\(path): \(status) \(String(decoding: body, as: UTF8.self))")
        }
        return json
    }

    /// The series an instant query returns (an error answer throws).
    func query(_ promql: String) throws -> [[String: Any]] {
        let encoded = promql.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let json = try get("/api/v1/query?query=\(encoded)")
        return ((json["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
    }
}
