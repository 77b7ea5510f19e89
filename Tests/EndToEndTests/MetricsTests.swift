import Foundation
import Testing

/// `/metrics` and `/health` through the real binary: counters that match what was written, an
/// output that cannot deliver turning `/health` to 503 (and back), and a port already in use.
@Suite struct MetricsTests {
    /// `n` JSON lines; every tenth carries `debug` (the drop filter takes it).
    static func lines(_ n: Int) -> Data {
        Data(
            (0..<n).map { $0 % 10 == 0 ? #"{"n":\#($0),"debug":true}"# : #"{"n":\#($0)}"# }.joined(separator: "\n").utf8
                + [0x0A])
    }

    @Test func countersMatchTheEventsWrittenAndHealthIsOk() throws {
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            """
            inputs: [{type: stdin}]
            filters:
              - {type: parse, format: json}
              - {type: drop, when: 'exists(debug)'}
            outputs: [{type: jsonl, path: out.jsonl}]
            """, to: "p.yml", in: dir)
        let running = try Driftwood.Running(["run", p, "--metrics-address", "127.0.0.1:0"], directory: dir)
        defer { _ = running.wait(timeout: 0) }
        let base = try running.metricsBase()
        _ = running.feed(Self.lines(1000), close: false)
        // stdin stays open: the scrape sees a running pipeline.
        var m: [String: Double] = [:]
        let settled = try MetricsScrape.eventually(timeout: 30) {
            m = try MetricsScrape.metrics(base)
            return m[#"driftwood_events_out_total{stage="jsonl_0"}"#] == 900
        }
        #expect(settled, "\(m)")
        let expected: [String: Double] = [
            #"driftwood_events_in_total{stage="stdin_0"}"#: 1000, #"driftwood_events_out_total{stage="stdin_0"}"#: 1000,
            #"driftwood_events_in_total{stage="parse_0"}"#: 1000, #"driftwood_events_out_total{stage="parse_0"}"#: 1000,
            #"driftwood_events_in_total{stage="drop_1"}"#: 1000, #"driftwood_events_out_total{stage="drop_1"}"#: 900,
            #"driftwood_events_dropped_total{stage="drop_1",reason="filtered"}"#: 100,
            #"driftwood_events_in_total{stage="jsonl_0"}"#: 900, #"driftwood_events_out_total{stage="jsonl_0"}"#: 900,
            #"driftwood_queue_events{stage="filters"}"#: 0, #"driftwood_queue_events{stage="jsonl_0"}"#: 0,
        ]
        for (sample, value) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(m[sample] == value, "\(sample)")
        }
        #expect(try Driftwood.jsonLines(dir.appendingPathComponent("out.jsonl").path).count == 900)
        let (status, health) = try MetricsScrape.health(base)
        #expect(status == 200)
        #expect(health["status"] as? String == "ok")
        #expect((health["uptime_seconds"] as? Int).map { $0 >= 0 } == true)
        let out = MetricsScrape.output("jsonl_0", health)
        #expect(out["state"] as? String == "ok")
        #expect(out["events_delivered"] as? Int == 900)
        #expect(out["last_error"] is NSNull)
        #expect((out["last_delivery"] as? String)?.hasSuffix("Z") == true)
        // Other paths are not found.
        #expect(try HTTP.request("GET", base + "/nope").status == 404)
        running.closeInput()
        #expect(running.wait(timeout: 20) == 0, "\(running.stderr)")
    }

    /// The pipeline's threads carry their stage's name for the kernel, so `top -H`, `ps -L` and
    /// `perf` tell the input, the filter workers and each output apart.
    @Test func threadsAreNamedForTheirStages() throws {
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            """
            inputs: [{type: stdin}]
            filters: [{type: parse, format: json}]
            outputs: [{type: jsonl, path: out.jsonl}]
            """, to: "p.yml", in: dir)
        let running = try Driftwood.Running(["run", p], directory: dir)
        defer { _ = running.wait(timeout: 0) }
        _ = running.feed(Self.lines(10), close: false)
        var names: Set<String> = []
        let named = try MetricsScrape.eventually(timeout: 30) {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(running.pid)/task")) ?? []
            names = Set(tasks.compactMap { try? String(contentsOfFile: "/proc/\(running.pid)/task/\($0)/comm", encoding: .utf8) }
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
            return names.isSuperset(of: ["in stdin_0", "filters 0", "out jsonl_0"])
        }
        #expect(named, "thread names: \(names.sorted())")
    }

    /// An elasticsearch output pointed at a closed port on 127.0.0.1: it retries, and after
    /// `unhealthy_after` with events waiting `/health` answers 503 with the output blocked.
    @Test func healthTurns503WhenElasticsearchCannotBeReached() throws {
        let dir = try Driftwood.temporaryDirectory()
        let dead = "http://127.0.0.1:\(try ElasticsearchOutputTests.closedPort())"
        let p = try Driftwood.write(
            """
            inputs: [{type: stdin}]
            outputs:
              - {type: elasticsearch, id: es, hosts: ["\(dead)"], index: blocked, batch: {timeout: 100ms}, retry: {initial_backoff: 20ms, max_backoff: 200ms}}
            metrics: {address: "127.0.0.1:0", unhealthy_after: 1s}
            shutdown_timeout: 1s
            """, to: "p.yml", in: dir)
        let running = try Driftwood.Running(["run", p, "--log-format", "json"], directory: dir)
        defer { _ = running.wait(timeout: 0) }
        let base = try running.metricsBase()
        _ = running.feed(Self.lines(50), close: false)
        var health: (status: Int, json: [String: Any]) = (0, [:])
        // Blocked from 1s after the events arrived; the first attempt fails within the batch timeout.
        let blocked = try MetricsScrape.eventually(timeout: 20) {
            health = try MetricsScrape.health(base)
            return health.status == 503 && MetricsScrape.output("es", health.json)["last_error"] is String
        }
        #expect(blocked, "\(health)")
        #expect(health.json["status"] as? String == "unhealthy")
        let es = MetricsScrape.output("es", health.json)
        #expect(es["state"] as? String == "blocked")
        #expect((es["last_error"] as? String)?.contains(dead) == true, "\(es)")
        #expect(es["last_delivery"] is NSNull)
        #expect(es["events_delivered"] as? Int == 0 && es["events_pending"] as? Int == 50)
        let m = try MetricsScrape.metrics(base)
        #expect(m[#"driftwood_events_in_total{stage="es"}"#] == 50)
        #expect((m[#"driftwood_output_retries_total{output="es"}"#] ?? 0) >= 1)
        #expect((m[#"driftwood_bulk_request_duration_seconds_count{output="es"}"#] ?? 0) >= 1)
        #expect(m[#"driftwood_bulk_request_duration_seconds_bucket{output="es",le="0.005"}"#] != nil)
        #expect(
            m[#"driftwood_bulk_request_duration_seconds_bucket{output="es",le="30.0"}"#] != nil, "\(m.keys.sorted())")
        #expect(m[#"driftwood_bulk_request_duration_seconds_sum{output="es"}"#] != nil)
        // Driftwood's own log: one ECS-style JSON object a line, the stage under driftwood.stage.
        let log = try running.stderr.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let retry = log.first { $0["message"] as? String == "bulk request failed; retrying" }
        #expect(retry?["driftwood.stage"] as? String == "es", "\(log)")
        #expect(retry?["log.level"] as? String == "warning")
        #expect(retry?["event.dataset"] as? String == "driftwood.log")
        // Nothing can be delivered: the graceful stop runs out of shutdown_timeout.
        kill(running.pid, SIGTERM)
        #expect(running.wait(timeout: 20) == 1)
    }

    /// Elasticsearch answers 503 for a while, then recovers: `/health` goes 503, then back to 200.
    @Test func healthRecoversOnceElasticsearchTakesTheEvents() throws {
        let proxy = try FaultProxy.start(upstream: nil)
        defer { proxy.stop() }
        try proxy.down(status: 503)
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            """
            inputs: [{type: stdin}]
            outputs:
              - {type: elasticsearch, id: es, hosts: ["\(proxy.url)"], index: later, batch: {timeout: 100ms}, retry: {initial_backoff: 20ms, max_backoff: 200ms}}
            metrics: {address: "127.0.0.1:0", unhealthy_after: 1s}
            """, to: "p.yml", in: dir)
        let running = try Driftwood.Running(["run", p], directory: dir)
        defer { _ = running.wait(timeout: 0) }
        let base = try running.metricsBase()
        _ = running.feed(Self.lines(50), close: false)
        var health: (status: Int, json: [String: Any]) = (0, [:])
        #expect(
            try MetricsScrape.eventually(timeout: 20) {
                health = try MetricsScrape.health(base)
                return health.status == 503 && MetricsScrape.output("es", health.json)["last_error"] is String
            }, "\(health)")
        #expect(
            (MetricsScrape.output("es", health.json)["last_error"] as? String)?.contains("HTTP 503") == true,
            "\(health)")
        try proxy.up()
        #expect(
            try MetricsScrape.eventually(timeout: 20) {
                health = try MetricsScrape.health(base)
                return health.status == 200 && MetricsScrape.output("es", health.json)["events_delivered"] as? Int == 50
            }, "\(health)")
        let es = MetricsScrape.output("es", health.json)
        #expect(health.json["status"] as? String == "ok")
        #expect(es["state"] as? String == "ok" && es["last_error"] is NSNull && es["last_delivery"] is String)
        running.closeInput()
        #expect(running.wait(timeout: 20) == 0, "\(running.stderr)")
    }

    @Test func aPortAlreadyInUseIsAStartUpError() throws {
        let listener = try Listener()
        defer { listener.close() }
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            "inputs: [{type: stdin}]\noutputs: [{type: jsonl, path: out.jsonl}]\n", to: "p.yml", in: dir)
        let address = "127.0.0.1:\(listener.port)"
        let result = try Driftwood.run(
            ["run", p, "--metrics-address", address], stdin: Self.lines(10), directory: dir, timeout: 30)
        #expect(result.code == 1)
        #expect(
            result.stderr.contains("cannot serve /metrics and /health on \(address): address already in use"),
            "\(result.stderr)")
        // Nothing was read or written.
        #expect(!result.stderr.contains("pipeline started"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.jsonl").path))
        // An address this machine does not have (TEST-NET-1): the same, from the pipeline file.
        let q = try Driftwood.write(
            "inputs: [{type: stdin}]\noutputs: [{type: stdout}]\nmetrics: {address: 192.0.2.1:9600}\n", to: "q.yml",
            in: dir)
        let other = try Driftwood.run(["run", q], stdin: Self.lines(10), directory: dir, timeout: 30)
        #expect(other.code == 1)
        #expect(
            other.stderr.contains(
                "cannot serve /metrics and /health on 192.0.2.1:9600: cannot assign requested address"),
            "\(other.stderr)")
    }
}
