import DriftwoodCore
import Foundation
import Testing

@testable import DriftwoodStages

/// The `_bulk` body is tested without the wire: encoder output against fixture files.
@Suite struct BulkEncoderTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/elasticsearch")

    /// Three events of two days, one with escapes and non-ASCII text, one made by a filter.
    static func events() throws -> [Event] {
        [
            Event(
                fields: try Fields(
                    json: #"{"@timestamp":"2026-11-24T10:00:00.072Z","model":"fraud-detector","prediction":0.5685,"features":{"amount":233.46}}"#),
                origin: Origin(source: 7, position: 1, contentHash: 0xABCD)),
            Event(
                fields: try Fields(
                    json: #"{"@timestamp":"2026-11-25T23:59:59.999Z","model":"churn \"v2\"","msg":"é ünïcode\n","latency_ms":1e3}"#),
                origin: Origin(source: 7, position: 2, contentHash: 0x1234)),
            Event(
                fields: try Fields(json: #"{"@timestamp":"2026-11-25T00:00:00.000Z","event":{"kind":"alert"}}"#),
                origin: Origin(source: 7, position: 2, contentHash: 0x1234, derived: 1)),
        ]
    }

    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: fixtures.appendingPathComponent(name)))
    }

    @Test func dailyIndexWithFingerprintIDsMatchesTheFixture() throws {
        let encoder = BulkEncoder(
            action: .create, index: try Template("model-logs-%{+yyyy.MM.dd}"), documentID: .fingerprint)
        let items = encoder.encode(try Self.events())
        let expected = try Self.fixture("bulk-daily-fingerprint.ndjson")
        #expect(String(decoding: items.body, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        #expect(items.count == 3)
        #expect(items.offsets.first == 0 && Int(items.offsets.last!) == items.body.count)
    }

    @Test func constantIndexAutoIDsAndIndexActionMatchTheFixture() throws {
        let encoder = BulkEncoder(action: .index, index: try Template("bench"), documentID: .auto)
        let items = encoder.encode(try Self.events())
        let expected = try Self.fixture("bulk-constant-auto.ndjson")
        #expect(String(decoding: items.body, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
    }

    @Test func everyLineIsJSONAndItemsSplitIntoActionAndSource() throws {
        let encoder = BulkEncoder(action: .create, index: try Template("x-%{model}"), documentID: .fingerprint)
        let events = try Self.events()
        let items = encoder.encode(events)
        for i in 0..<items.count {
            let action = try JSONSerialization.jsonObject(with: Data(items.actionLine(of: i))) as! [String: Any]
            let create = action["create"] as! [String: Any]
            #expect(create["_id"] as? String == events[i].origin.fingerprint)
            #expect(Array(items.source(of: i)) == Array(events[i].fields.json.utf8))
        }
        // The index is rendered per event and escaped inside the action line.
        let second = try JSONSerialization.jsonObject(with: Data(items.actionLine(of: 1))) as! [String: Any]
        #expect((second["create"] as! [String: Any])["_index"] as? String == #"x-churn "v2""#)
        let third = try JSONSerialization.jsonObject(with: Data(items.actionLine(of: 2))) as! [String: Any]
        #expect((third["create"] as! [String: Any])["_index"] as? String == "x-_unknown_")
    }

    @Test func fingerprintIDsAreStableAndDistinct() throws {
        let events = try Self.events()
        let encoder = BulkEncoder(action: .create, index: try Template("a"), documentID: .fingerprint)
        #expect(encoder.encode(events).body == encoder.encode(events).body)
        let ids = Set(events.map(\.origin.fingerprint))
        #expect(ids.count == 3)  // the alert (derived) differs from its trigger
    }

    @Test func templateIDsFallBackToTheFingerprintWhenAFieldIsMissing() throws {
        let encoder = BulkEncoder(action: .create, index: try Template("a"), documentID: .template(try Template("%{model}")))
        let events = try Self.events()
        let items = encoder.encode(events)
        let ids = (0..<3).map { i -> String in
            let action = try! JSONSerialization.jsonObject(with: Data(items.actionLine(of: i))) as! [String: Any]
            return (action["create"] as! [String: Any])["_id"] as! String
        }
        #expect(ids[0] == "fraud-detector")
        #expect(ids[1] == #"churn "v2""#)
        #expect(ids[2] == events[2].origin.fingerprint)  // no `model`: never a shared `_unknown_` id
    }

    @Test func dataStreamsCreateIntoTheStreamName() throws {
        let c = try ElasticsearchConfigTests.config(
            "data_stream: {type: logs, dataset: model, namespace: prod}")
        let encoder = BulkEncoder(config: c)
        let items = encoder.encode(try Self.events())
        #expect(String(decoding: items.actionLine(of: 0), as: UTF8.self).hasPrefix(#"{"create":{"_id":""#))
        #expect(encoder.bulkPath == "/logs-model-prod/_bulk?filter_path=errors,items.*.error,items.*.status")
    }

    @Test func aConstantIndexGoesInThePathAndTemplatedOnesInTheActionLines() throws {
        let daily = BulkEncoder(action: .create, index: try Template("logs-%{+yyyy.MM.dd}"), documentID: .auto)
        #expect(daily.bulkPath == "/_bulk?filter_path=errors,items.*.error,items.*.status")
        let odd = BulkEncoder(action: .create, index: try Template("a+b é"), documentID: .auto)
        #expect(odd.bulkPath.hasPrefix("/a%2Bb%20%C3%A9/_bulk?"))
        let items = odd.encode(try Self.events())
        #expect(String(decoding: items.actionLine(of: 0), as: UTF8.self) == #"{"create":{}}"#)
    }
}
