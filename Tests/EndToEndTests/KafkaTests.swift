import Foundation
import Testing

/// The `kafka` output and input through the real binary, against librdkafka's mock cluster (one
/// cluster process per test; Debian packages no broker): every line once with its key and
/// `driftwood-id` header, every record once with its `kafka.*` fields, committed offsets across
/// a graceful stop and a `kill -9` (exactly once in Elasticsearch through fingerprints), and a
/// broker outage during produce without loss.
@Suite(.serialized) struct KafkaTests {
    /// `count` JSON lines `{"n":…,"model":"m<n%3>"}` from `from`.
    static func lines(_ range: Range<Int>) -> [String] {
        range.map { #"{"n":\#($0),"model":"m\#($0 % 3)","score":0.5}"# }
    }

    static func outputPipeline(_ kafka: KafkaMock, mode: String, in dir: URL) throws -> String {
        try Driftwood.write(
            """
            shutdown_timeout: 20s
            inputs: [{type: file, paths: [app.log], mode: \(mode), scan_interval: 100ms}]
            filters: [{type: parse, format: json}]
            outputs:
              - type: kafka
                brokers: ["\(kafka.firstBroker)"]
                topic: "logs-%{model}"
                key: "%{model}"
                compression: lz4
            """, to: "agent.yml", in: dir)
    }

    static func inputPipeline(_ kafka: KafkaMock, output: String, in dir: URL) throws -> String {
        try Driftwood.write(
            """
            shutdown_timeout: 50s
            inputs:
              - type: kafka
                brokers: ["\(kafka.bootstrap.split(separator: ",").joined(separator: "\", \""))"]
                topics: [logs]
                group: aggregators
                start_at: beginning
                options: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}
            filters: [{type: parse, format: json}]
            outputs:
            \(output)
            """, to: "aggregator.yml", in: dir)
    }

    static func numbers(_ records: [KafkaMock.Record]) -> [Int] {
        records.compactMap { r in
            (try? JSONSerialization.jsonObject(with: Data(r.value.utf8)) as? [String: Any])?["n"] as? Int
        }
    }

    @Test func fileToKafkaDeliversEveryLineOnceKeyedByModelWithItsId() throws {
        let kafka = try KafkaMock(brokers: 3, topics: ["logs-m0": 3, "logs-m1": 3, "logs-m2": 3])
        defer { kafka.stop() }
        let dir = try Driftwood.temporaryDirectory()
        try FileLogs.append(Self.lines(0..<6000).joined(separator: "\n") + "\n", to: dir.appendingPathComponent("app.log").path)
        let result = try Driftwood.run(["run", try Self.outputPipeline(kafka, mode: "read", in: dir)], directory: dir)
        #expect(result.code == 0, "\(result.stderr)")
        var all: [Int] = []
        var ids = Set<String>()
        for model in 0..<3 {
            let records = try kafka.records("logs-m\(model)")
            let ns = Self.numbers(records)
            #expect(ns.count == records.count)
            #expect(ns.allSatisfy { $0 % 3 == model }, "the topic template put another model in logs-m\(model)")
            #expect(records.allSatisfy { $0.key == "m\(model)" }, "key is not the model")
            // One key, one partition: the model's records keep their order.
            #expect(Set(records.map(\.partition)).count == 1)
            #expect(ns == ns.sorted())
            for r in records {
                let id = r.headers.hasPrefix("driftwood-id=") ? String(r.headers.dropFirst("driftwood-id=".count)) : ""
                #expect(id.count == 32, "header driftwood-id missing or malformed: '\(r.headers)'")
                ids.insert(id)
            }
            all += ns
        }
        let cover = FileLogs.coverage(all, of: 0..<6000)
        #expect(cover.missing.isEmpty, "lost \(cover.missing.count) lines")
        #expect(cover.duplicates == 0)
        #expect(ids.count == 6000, "fingerprint ids are not one per line")
    }

    @Test func kafkaToJSONLDeliversEveryRecordOnceAndResumesFromCommittedOffsets() throws {
        let kafka = try KafkaMock(brokers: 1, topics: ["logs": 3])
        defer { kafka.stop() }
        let dir = try Driftwood.temporaryDirectory()
        for model in 0..<3 {
            try kafka.produce(Self.lines(0..<3000).filter { $0.contains("\"m\(model)\"") }, to: "logs", key: "m\(model)")
        }
        // A record that is not valid UTF-8 is repaired, not dropped.
        try kafka.produce(raw: Data([0x62, 0x61, 0x64, 0x20, 0xC3, 0x0A]), to: "logs")
        let out = dir.appendingPathComponent("out.jsonl").path
        let p = try Self.inputPipeline(kafka, output: "  - {type: jsonl, path: out.jsonl}", in: dir)
        let first = try Driftwood.Running(["run", p], directory: dir)
        #expect(FileLogs.waitForLines(out, count: 3001, timeout: 60), "\(first.stderr)")
        kill(first.pid, SIGTERM)
        #expect(first.wait(timeout: 30) == 0, "\(first.stderr)")
        let events = try Driftwood.jsonLines(out)
        let cover = FileLogs.coverage(events.compactMap { $0["n"] as? Int }, of: 0..<3000)
        #expect(cover.missing.isEmpty && cover.duplicates == 0 && events.count == 3001)
        var positions = Set<String>()
        for e in events {
            let k = e["kafka"] as? [String: Any] ?? [:]
            #expect(k["topic"] as? String == "logs")
            guard let partition = k["partition"] as? Int, let offset = k["offset"] as? Int else {
                Issue.record("kafka.partition/offset missing: \(e)")
                continue
            }
            positions.insert("\(partition)/\(offset)")
            if let n = e["n"] as? Int { #expect(k["key"] as? String == "m\(n % 3)") }
            #expect((e["input"] as? [String: Any])?["type"] as? String == "kafka")
        }
        #expect(positions.count == 3001)
        #expect(events.contains { ($0["message"] as? String) == "bad \u{FFFD}" }, "invalid UTF-8 not repaired")

        // The stop committed every delivered offset: a restart reads only what came since.
        try kafka.produce(Self.lines(3000..<3300), to: "logs", key: "m0")
        let second = try Driftwood.Running(["run", p, "--metrics-address", "127.0.0.1:0"], directory: dir)
        #expect(FileLogs.waitForLines(out, count: 3301, timeout: 60), "\(second.stderr)")
        // The consumer lag per partition: caught up, so 0 on each partition read from.
        let base = try second.metricsBase()
        var m: [String: Double] = [:]
        let lagged = try MetricsScrape.eventually(timeout: 30) {
            m = try MetricsScrape.metrics(base)
            let lags = m.filter { $0.key.hasPrefix("driftwood_kafka_consumer_lag{") }
            return !lags.isEmpty && lags.values.allSatisfy { $0 == 0 }
                && lags.keys.contains { $0.contains(#"topic="logs""#) && $0.contains("partition=") }
        }
        #expect(lagged, "\(m.filter { $0.key.contains("kafka") })")
        Thread.sleep(forTimeInterval: 1)
        kill(second.pid, SIGTERM)
        #expect(second.wait(timeout: 30) == 0)
        let again = FileLogs.coverage(try FileLogs.numbers(out), of: 0..<3300)
        #expect(again.missing.isEmpty)
        #expect(again.duplicates == 0, "a graceful stop commits exactly what was delivered")
    }

    @Test func killNineThenRestartEndsWithEveryEventOnceInElasticsearch() throws {
        let kafka = try KafkaMock(brokers: 1, topics: ["logs": 4])
        defer { kafka.stop() }
        let osmem = try Osmem.start()
        defer { osmem.stop() }
        let dir = try Driftwood.temporaryDirectory()
        let first = 12_000
        let total = 13_000
        try kafka.produce(Self.lines(0..<first), to: "logs")
        // Beside Elasticsearch, a JSONL file shows what was read twice (at least once) that
        // Elasticsearch stored once (fingerprints).
        let p = try Self.inputPipeline(
            kafka,
            output: """
                  - type: elasticsearch
                    hosts: ["\(osmem.url)"]
                    index: model-logs
                  - {type: jsonl, path: out.jsonl}
                """, in: dir)
        let out = dir.appendingPathComponent("out.jsonl").path
        let running = try Driftwood.Running(["run", p], directory: dir)
        #expect(FileLogs.waitForLines(out, count: 2000, timeout: 60), "\(running.stderr)")
        kill(running.pid, SIGKILL)
        _ = running.wait(timeout: 10)
        // More records arrive while the aggregator is down.
        try kafka.produce(Self.lines(first..<total), to: "logs")
        let second = try Driftwood.Running(["run", p], directory: dir)
        let all = MetricsScrape.eventually(timeout: 180) {
            ((try? osmem.count("model-logs")) ?? 0) >= total && FileLogs.lineCount(out) >= total
        }
        Thread.sleep(forTimeInterval: 2)
        kill(second.pid, SIGTERM)
        #expect(second.wait(timeout: 60) == 0, "\(second.stderr)")
        #expect(all, "\(second.stderr)")
        let cover = FileLogs.coverage(try FileLogs.numbers(out), of: 0..<total)
        #expect(cover.missing.isEmpty, "lost \(cover.missing.count) records across kill -9")
        #expect(cover.duplicates > 0, "nothing was read twice after the kill; the test proves nothing")
        #expect(try osmem.count("model-logs") == total, "a re-consumed record made a second document")
    }

    @Test func brokerDownThenUpDuringProduceLosesNothing() throws {
        let kafka = try KafkaMock(brokers: 1, topics: ["logs-m0": 1, "logs-m1": 1, "logs-m2": 1])
        defer { kafka.stop() }
        let dir = try Driftwood.temporaryDirectory()
        let log = dir.appendingPathComponent("app.log").path
        try FileLogs.append(Self.lines(0..<2000).joined(separator: "\n") + "\n", to: log)
        let running = try Driftwood.Running(["run", try Self.outputPipeline(kafka, mode: "tail", in: dir)], directory: dir)
        let first = MetricsScrape.eventually(timeout: 60) {
            ((try? (0..<3).map { try kafka.records("logs-m\($0)").count }.reduce(0, +)) ?? 0) >= 2000
        }
        #expect(first, "\(running.stderr)")
        try kafka.brokerDown(1)
        try FileLogs.append(Self.lines(2000..<5000).joined(separator: "\n") + "\n", to: log)
        Thread.sleep(forTimeInterval: 3)
        #expect(running.process.isRunning, "driftwood gave up while the broker was down: \(running.stderr)")
        try kafka.brokerUp(1)
        let all = MetricsScrape.eventually(timeout: 90) {
            ((try? (0..<3).map { try kafka.records("logs-m\($0)").count }.reduce(0, +)) ?? 0) >= 5000
        }
        kill(running.pid, SIGTERM)
        #expect(running.wait(timeout: 30) == 0, "\(running.stderr)")
        #expect(all, "\(running.stderr)")
        let ns = try (0..<3).flatMap { Self.numbers(try kafka.records("logs-m\($0)")) }
        let cover = FileLogs.coverage(ns, of: 0..<5000)
        #expect(cover.missing.isEmpty, "lost \(cover.missing.count) lines across the outage")
        // The idempotent producer retries without writing a record twice.
        #expect(cover.duplicates == 0)
    }
}
