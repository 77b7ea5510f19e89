import Foundation
import Testing

/// The agent → Kafka → aggregator tier through the real binaries, against librdkafka's mock
/// cluster and osmem-server: a consumer group of two aggregators through a rebalance (a member
/// joins mid-stream, then one leaves), an agent killed after producing but before its
/// checkpoint, whose re-sent lines the aggregator indexes once (the `driftwood-id` header), and
/// the ready pipelines joining predictions logged on one host with labels logged on another.
@Suite(.serialized) struct KafkaTierTests {
    /// One aggregator of the group `aggregators` in its own directory: kafka → parse →
    /// Elasticsearch (fingerprint ids) and a JSONL file that shows what this member read.
    static func aggregator(_ kafka: KafkaMock, osmem: LocalServer, topic: String, in dir: URL) throws -> String {
        try Driftwood.write(
            """
            shutdown_timeout: 50s
            inputs:
              - type: kafka
                brokers: ["\(kafka.bootstrap.split(separator: ",").joined(separator: "\", \""))"]
                topics: [\(topic)]
                group: aggregators
                start_at: beginning
                options: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}
            filters: [{type: parse, format: json}]
            outputs:
              - type: elasticsearch
                hosts: ["\(osmem.url)"]
                index: model-logs
              - {type: jsonl, path: out.jsonl}
            """, to: "aggregator.yml", in: dir)
    }

    static func directory(_ name: String, in parent: URL) throws -> URL {
        let dir = parent.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The `n` of every event in a member's JSONL output (none yet: empty).
    static func numbers(in dir: URL) -> [Int] {
        (try? FileLogs.numbers(dir.appendingPathComponent("out.jsonl").path)) ?? []
    }

    /// The `kafka.partition` of every event in a member's JSONL output.
    static func partitions(in dir: URL) -> Set<Int> {
        let events = (try? Driftwood.jsonLines(dir.appendingPathComponent("out.jsonl").path)) ?? []
        return Set(events.compactMap { ($0["kafka"] as? [String: Any])?["partition"] as? Int })
    }

    @Test func twoAggregatorsThroughARebalanceDeliverEveryEventAndIndexItOnce() throws {
        let kafka = try KafkaMock(brokers: 1, topics: ["logs": 6])
        defer { kafka.stop() }
        let osmem = try Osmem.start()
        defer { osmem.stop() }
        let root = try Driftwood.temporaryDirectory()
        let a = try Self.directory("a", in: root)
        let b = try Self.directory("b", in: root)
        // Records without a key, so they spread over all six partitions.
        var produced = 0
        func produce(_ count: Int) throws {
            try kafka.produce(KafkaTests.lines(produced..<produced + count), to: "logs", spread: true)
            produced += count
        }

        let first = try Driftwood.Running(["run", try Self.aggregator(kafka, osmem: osmem, topic: "logs", in: a)], directory: a)
        try produce(3000)
        #expect(FileLogs.waitForLines(a.appendingPathComponent("out.jsonl").path, count: 1000, timeout: 60), "\(first.stderr)")
        // The second member joins while records keep coming: the group rebalances and the
        // partitions are shared out.
        let second = try Driftwood.Running(["run", try Self.aggregator(kafka, osmem: osmem, topic: "logs", in: b)], directory: b)
        // A rebalance waits for the first member to give up its partitions (committing what it
        // delivered); on a loaded machine that takes longer than the ten seconds of producing.
        var joined = false
        let deadline = Date().addingTimeInterval(90)
        for round in 0... where Date() < deadline {
            if round < 20 { try produce(300) }
            Thread.sleep(forTimeInterval: 0.5)
            if !Self.numbers(in: b).isEmpty {
                joined = true
                break
            }
        }
        #expect(joined, "the second member never got a partition: \(second.stderr)")
        let bothRead = MetricsScrape.eventually(timeout: 30) { Set(Self.numbers(in: a) + Self.numbers(in: b)).count >= produced }
        #expect(bothRead)
        let readByFirstBeforeLeaving = Self.partitions(in: a)
        // One member leaves mid-stream: its partitions go back to the other, which reads them
        // on from the offsets committed at the revocation.
        try produce(2000)
        kill(first.pid, SIGTERM)
        #expect(first.wait(timeout: 60) == 0, "\(first.stderr)")
        try produce(3000)
        let total = produced
        let all = MetricsScrape.eventually(timeout: 120) {
            Set(Self.numbers(in: a) + Self.numbers(in: b)).count >= total && ((try? osmem.count("model-logs")) ?? 0) >= total
        }
        Thread.sleep(forTimeInterval: 2)
        kill(second.pid, SIGTERM)
        #expect(second.wait(timeout: 60) == 0, "\(second.stderr)")
        #expect(all, "first:\n\(first.stderr)\nsecond:\n\(second.stderr)")

        let cover = FileLogs.coverage(Self.numbers(in: a) + Self.numbers(in: b), of: 0..<total)
        #expect(cover.missing.isEmpty, "lost \(cover.missing.count) records through the rebalances")
        // Records in flight when their partition moved were read again by the new owner (at
        // least once); without that the index check below would prove nothing.
        #expect(cover.duplicates > 0, "no record was read twice through the rebalances")
        #expect(!Self.numbers(in: a).isEmpty && !Self.numbers(in: b).isEmpty)
        // The member that stayed took over partitions the other one had read.
        #expect(!readByFirstBeforeLeaving.isDisjoint(with: Self.partitions(in: b)))
        #expect(Self.partitions(in: b) == Set(0..<6), "the remaining member does not hold every partition")
        #expect(try osmem.count("model-logs") == total, "a record read by both members made a second document")
    }

    @Test func anAgentKilledBeforeItsCheckpointResendsAndTheAggregatorIndexesEachLineOnce() throws {
        let kafka = try KafkaMock(brokers: 1, topics: ["logs": 4])
        defer { kafka.stop() }
        let osmem = try Osmem.start()
        defer { osmem.stop() }
        let root = try Driftwood.temporaryDirectory()
        let agentDir = try Self.directory("agent", in: root)
        let aggregatorDir = try Self.directory("aggregator", in: root)
        let log = agentDir.appendingPathComponent("app.log").path
        // A checkpoint only at a graceful stop: the kill below loses every position, so the
        // restarted agent sends all it had sent again.
        let agent = try Driftwood.write(
            """
            shutdown_timeout: 20s
            inputs: [{type: file, paths: [app.log], mode: tail, scan_interval: 100ms, checkpoint_interval: 1h}]
            filters: [{type: parse, format: json}]
            outputs:
              - type: kafka
                brokers: ["\(kafka.firstBroker)"]
                topic: logs
                key: "%{model}"
            """, to: "agent.yml", in: agentDir)
        func records() -> [KafkaMock.Record] { (try? kafka.records("logs")) ?? [] }

        let aggregator = try Driftwood.Running(
            ["run", try Self.aggregator(kafka, osmem: osmem, topic: "logs", in: aggregatorDir)], directory: aggregatorDir)
        try FileLogs.append(KafkaTests.lines(0..<3000).joined(separator: "\n") + "\n", to: log)
        let crashed = try Driftwood.Running(["run", agent], directory: agentDir)
        #expect(MetricsScrape.eventually(timeout: 60) { records().count >= 3000 }, "\(crashed.stderr)")
        kill(crashed.pid, SIGKILL)
        _ = crashed.wait(timeout: 10)
        try FileLogs.append(KafkaTests.lines(3000..<4000).joined(separator: "\n") + "\n", to: log)
        let restarted = try Driftwood.Running(["run", agent], directory: agentDir)
        #expect(MetricsScrape.eventually(timeout: 60) { records().count >= 7000 }, "\(restarted.stderr)")
        kill(restarted.pid, SIGTERM)
        #expect(restarted.wait(timeout: 30) == 0, "\(restarted.stderr)")

        let inTopic = records()
        let sent = FileLogs.coverage(KafkaTests.numbers(inTopic), of: 0..<4000)
        #expect(sent.missing.isEmpty)
        #expect(sent.duplicates >= 3000, "the agent did not send its lines again; the test proves nothing")
        let out = aggregatorDir.appendingPathComponent("out.jsonl").path
        let all = MetricsScrape.eventually(timeout: 120) {
            FileLogs.lineCount(out) >= inTopic.count && ((try? osmem.count("model-logs")) ?? 0) >= 4000
        }
        Thread.sleep(forTimeInterval: 2)
        kill(aggregator.pid, SIGTERM)
        #expect(aggregator.wait(timeout: 60) == 0, "\(aggregator.stderr)")
        #expect(all, "\(aggregator.stderr)")
        // The aggregator read every record, the re-sent ones too (new offsets) ...
        let read = FileLogs.coverage(try FileLogs.numbers(out), of: 0..<4000)
        #expect(read.missing.isEmpty && read.duplicates >= 3000)
        // ... and stored each line once: a re-sent record carries the agent's id.
        #expect(try osmem.count("model-logs") == 4000, "a line the agent sent twice made a second document")
        let documents = try osmem.documents("model-logs")
        #expect(Set(documents.compactMap { $0["n"] as? Int }).count == 4000)
    }

    /// pipelines/agent-to-kafka.yml on two hosts, one logging the predictions of two models and the
    /// other the ground truth for most of them, and pipelines/kafka-aggregator.yml: each label is
    /// keyed by its model into its prediction's partition, and `evaluate` reports every pair per
    /// model with nothing expired or left over.
    @Test func labelsLoggedOnAnotherHostMeetTheirPredictionsInTheAggregatorPerModel() throws {
        let kafka = try KafkaMock(brokers: 1, topics: ["model-logs": 6])
        defer { kafka.stop() }
        let osmem = try Osmem.start()
        defer { osmem.stop() }
        let root = try Driftwood.temporaryDirectory()
        let home = Driftwood.packageRoot.path
        // Six partitions, as docker-compose.yml makes; these two models' keys hash to two of
        // them (5 and 3), `_unknown_` to a third.
        let models = ["fraud-detector", "spam-filter"]
        let (predicted, labelled) = (1100, 1000)  // per model; the window is 1000 pairs
        /// `ms` milliseconds after 10:00 of the samples' day.
        func ts(_ ms: Int) -> String {
            String(format: "2026-11-24T%02d:%02d:%02d.%03dZ", 10 + ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
        }
        func id(_ model: String, _ i: Int) -> String { "\(model)-\(i)" }
        // Scores spread evenly over [0, 1) and the channels in turn, like the baseline's, so
        // drift and fairness stay quiet; one label in ten disagrees with its prediction.
        func score(_ i: Int) -> Double { Double(i * 919 % 1000) / 1000 }
        var predictions: [String] = []
        var labels: [String] = []
        for i in 0..<predicted {
            for (k, model) in models.enumerated() {
                let at = (2 * i + k) * 50
                predictions.append(
                    #"{"ts":"\#(ts(at))","level":"INFO","msg":"prediction","request_id":"\#(id(model, i))","model":"\#(model)","features":{"channel":"\#(["web", "mobile", "api", "pos"][i % 4])"},"prediction":\#(score(i)),"latency_ms":5.0}"#)
                guard i < labelled else { continue }
                let actual = (score(i) >= 0.5) != (i % 10 == 0) ? 1 : 0
                labels.append(
                    #"{"ts":"\#(ts(at + 30_000))","msg":"ground_truth","request_id":"\#(id(model, i))","model":"\#(model)","actual":\#(actual)}"#)
            }
        }
        let environment = [
            "KAFKA_BROKERS": kafka.firstBroker, "KAFKA_TOPIC": "model-logs", "DRIFTWOOD_HOME": home,
            "DRIFTWOOD_METRICS_ADDRESS": "127.0.0.1:0",
        ]
        func agent(_ name: String, logging lines: [String]) throws -> Driftwood.Running {
            let dir = try Self.directory(name, in: root)
            try FileLogs.append(lines.joined(separator: "\n") + "\n", to: dir.appendingPathComponent("model.log").path)
            return try Driftwood.Running(
                ["run", home + "/pipelines/agent-to-kafka.yml"], directory: dir,
                environment: environment.merging([
                    "MODEL_LOG_PATHS": dir.path + "/*.log", "DRIFTWOOD_DATA_DIR": dir.path + "/data",
                ]) { _, new in new })
        }
        let aggregatorDir = try Self.directory("aggregator", in: root)
        let aggregator = try Driftwood.Running(
            ["run", home + "/pipelines/kafka-aggregator.yml"], directory: aggregatorDir,
            environment: environment.merging([
                "ES_URL": osmem.url, "DRIFTWOOD_DATA_DIR": aggregatorDir.path + "/data",
                "ALERTMANAGER_URL": "http://127.0.0.1:9",  // no alert is expected (checked below)
            ]) { _, new in new })
        let servingHost = try agent("serving-host", logging: predictions)
        let labellingHost = try agent("labelling-host", logging: labels)
        let total = predictions.count + labels.count
        func records() -> [KafkaMock.Record] { (try? kafka.records("model-logs")) ?? [] }
        #expect(
            MetricsScrape.eventually(timeout: 60) { records().count >= total },
            "serving host:\n\(servingHost.stderr)\nlabelling host:\n\(labellingHost.stderr)")
        for host in [servingHost, labellingHost] {
            kill(host.pid, SIGTERM)
            #expect(host.wait(timeout: 30) == 0, "\(host.stderr)")
        }

        // Each label is in the partition of its prediction, keyed by their model, and the two
        // models' partitions differ (so one wrong key cannot suit both).
        var partitionOf: [String: Int] = [:]
        var labelRecords: [(KafkaMock.Record, [String: Any])] = []
        for record in records() {
            let value = try #require(try JSONSerialization.jsonObject(with: Data(record.value.utf8)) as? [String: Any])
            if value["actual"] != nil {
                labelRecords.append((record, value))
            } else {
                partitionOf[value["request_id"] as? String ?? ""] = record.partition
            }
        }
        #expect(labelRecords.count == labels.count && partitionOf.count == predictions.count)
        #expect(Set(models.map { partitionOf[id($0, 0)] }).count == 2, "both models hash to one partition: the test proves less")
        let astray = labelRecords.filter { record, value in
            record.key != value["model"] as? String || record.partition != partitionOf[value["request_id"] as? String ?? ""]
        }
        let astrayCount = astray.count
        let example = astray.first.map { "key \($0.0.key), partition \($0.0.partition): \($0.0.value)" } ?? ""
        #expect(astrayCount == 0, "labels not in their prediction's partition, e.g. \(example)")

        // The aggregator is done once every prediction is in (the unlabelled ones wait) and the
        // reports are indexed.
        func evaluationReports() -> [[String: Any]] {
            ((try? osmem.documents("model-metrics-*")) ?? []).compactMap { document in
                guard (document["event"] as? [String: Any])?["dataset"] as? String == "driftwood.evaluate" else { return nil }
                return document["evaluation"] as? [String: Any]
            }
        }
        func pending(_ metrics: [String: Double]) -> Double {
            metrics.filter { $0.key.hasPrefix("driftwood_evaluate_pending") }.values.reduce(0, +)
        }
        let base = try aggregator.metricsBase()
        var metrics: [String: Double] = [:]
        let done = MetricsScrape.eventually(timeout: 60) {
            metrics = (try? MetricsScrape.metrics(base)) ?? [:]
            return pending(metrics) == Double(models.count * (predicted - labelled)) && evaluationReports().count >= models.count
        }
        kill(aggregator.pid, SIGTERM)
        #expect(aggregator.wait(timeout: 60) == 0, "\(aggregator.stderr)")
        #expect(done, "\(metrics.filter { $0.key.hasPrefix("driftwood_evaluate") })\n\(aggregator.stderr)")
        let reports = evaluationReports()
        // One report per model, at its 1000th pair: every label met its prediction, none waited
        // past the TTL, and the pairs are the right ones (F1 0.9; pairing at random gives ~0.5).
        #expect(reports.compactMap { $0["group"] as? String }.sorted() == models.sorted(), "\(reports)")
        for report in reports {
            let counts = report["labels"] as? [String: Any]
            #expect(report["pairs"] as? Int == labelled, "\(report)")
            #expect(counts?["matched"] as? Int == labelled && counts?["expired"] as? Int == 0, "\(report)")
            #expect(((report["metrics"] as? [String: Any])?["f1"] as? Double ?? 0) > 0.85, "\(report)")
        }
        // Nothing unmatched for any reason (expired, duplicate, no group, ...), and no alert.
        let unmatched = metrics.filter { $0.key.hasPrefix("driftwood_evaluate_unmatched_total") }
        #expect(!unmatched.isEmpty && unmatched.values.allSatisfy { $0 == 0 }, "\(unmatched)")
        let alerts = metrics.filter { $0.key.hasPrefix("driftwood_alerts_total") }
        #expect(!alerts.isEmpty && alerts.values.allSatisfy { $0 == 0 }, "\(alerts)")
    }
}
