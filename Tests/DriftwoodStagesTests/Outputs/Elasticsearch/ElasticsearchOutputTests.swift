import DriftwoodCore
import Foundation
import Logging
import Testing

@testable import DriftwoodStages

/// The output as the engine drives it (`write`, `flush`, `close` on one thread), against a null
/// Elasticsearch: when acknowledgements are settled, and where `write` blocks.
@Suite(.serialized) struct ElasticsearchOutputTests {
    static func output(_ server: NullElasticsearch, _ keys: String, dataDir: String? = nil) throws -> ElasticsearchOutput {
        let config = try ElasticsearchConfigTests.config("hosts: [\"\(server.url)\"]\nindex: t\n\(keys)")
        let dir = dataDir ?? FileManager.default.temporaryDirectory.appendingPathComponent("es-out-\(UUID().uuidString)").path
        let env = StageEnvironment(
            id: "es", pipelineName: "p", dataDir: dir, logger: Logger(label: "test"), hostName: "test-host")
        return ElasticsearchOutput(config: config, environment: env)
    }

    /// A batch of `n` events whose acknowledgement counts into `settled`.
    static func batch(_ n: Int, from start: Int = 0, settled: Settled) throws -> EventBatch {
        let events = try (start..<(start + n)).map {
            Event(
                fields: try Fields(json: #"{"@timestamp":"2026-11-24T10:00:00.000Z","n":\#($0)}"#),
                origin: Origin(source: 1, position: UInt64($0)))
        }
        return EventBatch(events: events, acknowledgement: Acknowledgement(count: 1) { settled.add() })
    }

    final class Settled: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func add() { lock.withLock { n += 1 } }
        var count: Int { lock.withLock { n } }

        /// Waits up to `timeout` seconds for `count` to reach `expected`.
        func wait(for expected: Int, timeout: Double) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while count < expected && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            return count >= expected
        }
    }

    static let fast = "retry: {initial_backoff: 20ms, max_backoff: 200ms}\nbatch: {timeout: 100ms}"

    @Test func aBatchIsAcknowledgedOnlyOnceTheServerTookIt() throws {
        let server = try NullElasticsearch()
        defer { server.stop() }
        try server.down(status: 503)
        let output = try Self.output(server, Self.fast)
        let settled = Settled()
        try output.write(output.encode(try Self.batch(10, settled: settled)))
        Thread.sleep(forTimeInterval: 1)
        #expect(settled.count == 0)  // retried, never settled early
        #expect(try server.bulkRequests().count >= 2)
        try server.up()
        #expect(settled.wait(for: 1, timeout: 30))
        try output.close()
        #expect(settled.count == 1)
    }

    @Test func itemRetriesHoldTheAcknowledgementUntilTheLastItemLands() throws {
        let server = try NullElasticsearch()
        defer { server.stop() }
        try server.inject([["kind": "items", "status": 429, "every": 2, "times": 3]])
        let output = try Self.output(server, "\(Self.fast)\nconcurrency: 1")
        let settled = Settled()
        for k in 0..<3 { try output.write(output.encode(try Self.batch(20, from: 20 * k, settled: settled))) }
        try output.close()
        #expect(settled.count == 3)
        let requests = try server.bulkRequests()
        #expect(requests.filter { $0.status == "200" }.reduce(0) { $0 + $1.items } > 60)
    }

    @Test func writeBlocksOnceConcurrencyRequestsAreOutAndOneMoreIsFull() throws {
        let server = try NullElasticsearch()
        defer { server.stop() }
        try server.down(status: 503)
        let output = try Self.output(
            server, "retry: {initial_backoff: 20ms, max_backoff: 100ms}\nbatch: {max_events: 10}\nconcurrency: 1")
        let settled = Settled()
        let written = Settled()
        let batches = try (0..<20).map { try Self.batch(10, from: 10 * $0, settled: settled) }
        let writer = Thread {
            for b in batches {
                try? output.write(output.encode(b))
                written.add()
            }
            try? output.close()
        }
        writer.start()
        Thread.sleep(forTimeInterval: 1.5)
        // One request out (retrying) and one full one waiting: the third write blocks.
        #expect(written.count <= 2, "\(written.count) writes returned while the server was down")
        #expect(settled.count == 0)
        try server.up()
        #expect(settled.wait(for: 20, timeout: 20))
        #expect(written.wait(for: 20, timeout: 30))
    }

    @Test func deadLetteredDocumentsAreAcknowledged() throws {
        let server = try NullElasticsearch()
        defer { server.stop() }
        try server.inject([["kind": "items", "status": 400, "every": 3, "times": 1]])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("es-dlq-\(UUID().uuidString)").path
        let output = try Self.output(server, Self.fast, dataDir: dir)
        let settled = Settled()
        try output.write(output.encode(try Self.batch(9, settled: settled)))
        try output.close()
        #expect(settled.count == 1)
        let lines = try String(contentsOfFile: "\(dir)/dead_letter/es.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(try server.bulkRequests().count == 1)  // rejected for good: not retried
    }

    @Test func aPartlyFilledRequestGoesOutAfterTheBatchTimeout() throws {
        let server = try NullElasticsearch()
        defer { server.stop() }
        let output = try Self.output(server, Self.fast)
        let settled = Settled()
        try output.write(output.encode(try Self.batch(5, settled: settled)))
        #expect(settled.wait(for: 1, timeout: 30))  // no flush, no close: the 100ms timer sent it
        try output.close()
    }
}
