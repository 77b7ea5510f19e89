import Foundation
import Testing

/// The Grafana dashboard against the real binary: every metric family its queries name is in
/// what `/metrics` exports while the shipped Elasticsearch pipeline runs (file input, drift,
/// monitor, elasticsearch output into osmem-server), and the file input's offset gauge and the
/// model gauges carry the values of what was read.
@Suite struct DashboardScrapeTests {
    @Test func everyMetricTheDashboardUsesIsExported() throws {
        let osmem = try Osmem.start()
        defer { osmem.stop() }
        let dir = try Driftwood.temporaryDirectory()
        let logs = dir.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let samples = Driftwood.packageRoot.appendingPathComponent("samples/model_logs.jsonl")
        let log = logs.appendingPathComponent("model.log")
        try FileManager.default.copyItem(at: samples, to: log)
        // Blank lines make no event.
        let lineCount = try Data(contentsOf: log).split(separator: 0x0A).filter { !$0.isEmpty }.count
        let root = Driftwood.packageRoot.path
        // From the repository root, as its header says (the template path is relative); all
        // state goes to the temporary directory.
        let running = try Driftwood.Running(
            ["run", "pipelines/model-logs-to-es.yml"], directory: Driftwood.packageRoot,
            environment: [
                "MODEL_LOG_PATHS": logs.path + "/*.log", "ES_URL": osmem.url,
                "DRIFTWOOD_DATA_DIR": dir.appendingPathComponent("state").path,
                "DRIFTWOOD_METRICS_ADDRESS": "127.0.0.1:0",
                "MODEL_REGISTRY": root + "/samples/models.yml", "DRIFT_BASELINE": root + "/samples/baseline.json",
            ])
        defer { _ = running.wait(timeout: 0) }
        let base = try running.metricsBase()
        var families: Set<String> = []
        var samplesNow: [String: Double] = [:]
        // Tail mode: wait until every line was shipped and its offset checkpointed.
        let size = Double((try FileManager.default.attributesOfItem(atPath: log.path)[.size] as? Int) ?? 0)
        let done = try MetricsScrape.eventually(timeout: 60) {
            let (status, body) = try HTTP.request("GET", base + "/metrics")
            guard status == 200 else { return false }
            let text = String(decoding: body, as: UTF8.self)
            families = Set(text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) })
            samplesNow = MetricsScrape.parse(text)
            return samplesNow[#"driftwood_file_offset_bytes{path="\#(log.path)"}"#] == size
        }
        #expect(done, "the file's offset gauge never reached its size: \(samplesNow.filter { $0.key.contains("offset") })")
        let used = try DashboardMetrics.names(inDashboardAt: DashboardMetrics.stackDashboard)
        #expect(!used.isEmpty)
        let missing = used.subtracting(families)
        #expect(missing.isEmpty, "the dashboard queries families driftwood does not export: \(missing.sorted())")
        #expect(samplesNow[#"driftwood_events_in_total{stage="model_logs"}"#] == Double(lineCount))
        #expect((samplesNow[#"driftwood_alerts_total{type="MODEL_DRIFT_DETECTED"}"#] ?? 0) > 0)
        #expect(Self.stop(running) == 0)
    }

    static func stop(_ running: Driftwood.Running) -> Int32? {
        kill(running.pid, SIGTERM)
        return running.wait(timeout: 30)
    }
}
