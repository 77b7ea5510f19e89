import Foundation
import Testing

/// The agent → Kafka → aggregator tier through the real binaries, against librdkafka's mock
/// cluster and osmem-server: a consumer group of two aggregators through a rebalance (a member
/// joins mid-stream, then one leaves), and an agent killed after producing but before its
/// checkpoint, whose re-sent lines the aggregator indexes once (the `driftwood-id` header).
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
}
