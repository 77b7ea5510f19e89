import Foundation
import Testing

@testable import DriftwoodCore
@testable import DriftwoodStages

/// The pure parts of the `kafka` stages: config reading, record encoding, the delivery-report
/// verdict and the partition ledger (which offset may be committed).
@Suite struct KafkaPartsTests {
    static func load(_ yaml: String) throws -> PipelineConfig {
        try PipelineConfig.load(text: yaml, file: "k.yml", environment: [:], catalog: StageCatalog.descriptors)
    }

    static func errors(_ yaml: String) -> String {
        do {
            _ = try load(yaml)
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test func inputAndOutputShareTheTypeName() throws {
        let config = try Self.load(
            """
            inputs: [{type: kafka, brokers: ["127.0.0.1:9092"], topics: [a, b], group: g, start_at: end,
                      options: {session.timeout.ms: 6000}}]
            outputs: [{type: kafka, brokers: ["127.0.0.1:9092"], topic: "t-%{model}", key: "%{model}", compression: zstd,
                       options: {linger.ms: 20}}]
            """)
        // Default ids say the role, since the type is shared.
        #expect(config.inputs.first?.id == "kafka_input_0" && config.outputs.first?.id == "kafka_output_0")
        let input = try #require(config.inputs.first?.config as? KafkaInputConfig)
        #expect(input.topics == ["a", "b"] && input.group == "g" && input.startAt == "end")
        let props = input.properties.pairs
        #expect(props.contains { $0 == ("auto.offset.reset", "latest") })
        #expect(props.contains { $0 == ("enable.auto.commit", "false") })
        #expect(props.last! == ("session.timeout.ms", "6000"), "options come last, so they win")
        let output = try #require(config.outputs.first?.config as? KafkaOutputConfig)
        #expect(output.compression == "zstd")
        let out = output.properties.pairs
        #expect(out.contains { $0 == ("acks", "all") } && out.contains { $0 == ("enable.idempotence", "true") })
        #expect(out.last! == ("linger.ms", "20"))
    }

    @Test func badConfigsNameTheKey() {
        let missing = Self.errors("inputs: [{type: kafka, topics: [a], group: g}]\noutputs: [{type: stdout}]")
        #expect(missing.contains("brokers"), "\(missing)")
        let badBroker = Self.errors(
            "inputs: [{type: stdin}]\noutputs: [{type: kafka, brokers: [nohost], topic: t}]")
        #expect(badBroker.contains("'nohost' is not host:port"), "\(badBroker)")
        let badCompression = Self.errors(
            "inputs: [{type: stdin}]\noutputs: [{type: kafka, brokers: [\"h:1\"], topic: t, compression: brotli}]")
        #expect(badCompression.contains("outputs[0].compression") && badCompression.contains("lz4, zstd"), "\(badCompression)")
        let badStart = Self.errors(
            "inputs: [{type: kafka, brokers: [\"h:1\"], topics: [a], group: g, start_at: middle}]\noutputs: [{type: stdout}]")
        #expect(badStart.contains("start_at"), "\(badStart)")
        let badOption = Self.errors(
            "inputs: [{type: stdin}]\noutputs: [{type: kafka, brokers: [\"h:1\"], topic: t, options: {a: [1]}}]")
        #expect(badOption.contains("options.a"), "\(badOption)")
        // A filter type in the wrong section is still named as such.
        let wrongRole = Self.errors("inputs: [{type: parse}]\noutputs: [{type: stdout}]")
        #expect(wrongRole.contains("'parse' is a filter, not an input"), "\(wrongRole)")
    }

    @Test func librdkafkaRefusalsNameTheProperty() {
        var p = KafkaProperties()
        p.set("no.such.property", "1")
        #expect(throws: KafkaConfError.self) { _ = try KafkaConf.make(p) }
        do {
            _ = try KafkaConf.make(p)
        } catch {
            #expect("\(error)".contains("no.such.property"))
        }
    }

    @Test func encoderMakesTopicKeyValueAndId() throws {
        let encoder = KafkaRecordEncoder(topic: try Template("logs-%{model}"), key: try Template("%{model}"))
        var events = [
            Event(fields: try Fields(json: #"{"model":"a","n":1}"#), origin: Origin(source: 7, position: 1)),
            Event(fields: try Fields(json: #"{"model":"b","n":2}"#), origin: Origin(source: 7, position: 2)),
            Event(fields: try Fields(json: #"{"model":"a","n":3}"#), origin: Origin(source: 7, position: 3)),
        ]
        let ids = events.map(\.origin.fingerprint)
        let records = encoder.encode(consuming: &events)
        #expect(records.count == 3 && records.topics == ["logs-a", "logs-b"])
        for (k, r) in records.records.enumerated() {
            let value = String(decoding: records.value(r), as: UTF8.self)
            let fields = try Fields(json: value)
            #expect(fields.value(at: FieldPath("n")!)?.integer == Int64(k + 1))
            let model = k == 1 ? "b" : "a"
            #expect(records.topic(r) == "logs-\(model)")
            #expect(records.key(r).map { String(decoding: $0, as: UTF8.self) } == model)
            #expect(String(decoding: records.id(r), as: UTF8.self) == ids[k])
        }
        // No key template: records have no key.
        var one = [Event(fields: try Fields(json: #"{"x":1}"#))]
        let keyless = KafkaRecordEncoder(topic: try Template("t"), key: nil).encode(consuming: &one)
        #expect(keyless.key(keyless.records[0]) == nil)
    }

    /// The agent's `driftwood-id` header, as the output writes it, makes the consumed event's
    /// origin: one id for a line sent twice (two offsets), other ids for other lines, and ids
    /// from topic/partition/offset when a record has no usable header.
    @Test func recordOriginComesFromTheAgentsIdHeader() throws {
        let encoder = KafkaRecordEncoder(topic: try Template("t"), key: nil)
        var events = [
            Event(fields: try Fields(json: #"{"n":1}"#), origin: Origin(source: 42, position: 100)),
            Event(fields: try Fields(json: #"{"n":2}"#), origin: Origin(source: 42, position: 200)),
        ]
        let records = encoder.encode(consuming: &events)
        let headers = records.records.map { Array(records.id($0)) }
        func origin(_ header: [UInt8]?, offset: Int64) -> Origin {
            guard let header else { return RecordOrigin.make(header: nil, partition: 9, offset: offset) }
            return header.withUnsafeBytes { RecordOrigin.make(header: $0, partition: 9, offset: offset) }
        }
        // The same line sent again lands at another offset, and keeps its id.
        let first = origin(headers[0], offset: 5).fingerprint
        #expect(origin(headers[0], offset: 17).fingerprint == first)
        #expect(origin(headers[1], offset: 6).fingerprint != first)
        // An alert the aggregator derives from the event still gets an id of its own.
        var alert = origin(headers[0], offset: 5)
        alert.derived = 3
        #expect(alert.fingerprint != first)
        // Without a header (a record from another producer), or with one that is not 32 hex
        // digits, the offset decides; such an id never equals one from a header.
        let plain = origin(nil, offset: 5).fingerprint
        #expect(plain != first && plain != origin(nil, offset: 6).fingerprint)
        #expect(origin(Array("not-an-id".utf8), offset: 5).fingerprint == plain)
        #expect(origin(Array(String(repeating: "g", count: 32).utf8), offset: 5).fingerprint == plain)
        // The header's digits are read as the agent wrote them.
        let hex = String(decoding: headers[0], as: UTF8.self)
        let words = try #require(headers[0].withUnsafeBytes { RecordOrigin.agentFingerprint($0) })
        #expect(Hash64.hex(words.0) + Hash64.hex(words.1) == hex)
        #expect(Array(hex.uppercased().utf8).withUnsafeBytes { RecordOrigin.agentFingerprint($0) }! == words)
    }

    @Test func verdictRetriesTransientErrorsAndRejectsPermanentOnes() {
        #expect(KafkaDeliveryVerdict(code: 0) == .delivered)
        #expect(KafkaDeliveryVerdict(code: -192) == .retry)  // _MSG_TIMED_OUT
        #expect(KafkaDeliveryVerdict(code: -195) == .retry)  // _TRANSPORT
        #expect(KafkaDeliveryVerdict(code: 6) == .retry)  // NOT_LEADER_FOR_PARTITION
        #expect(KafkaDeliveryVerdict(code: 10) == .rejected)  // MSG_SIZE_TOO_LARGE
        #expect(KafkaDeliveryVerdict(code: 29) == .rejected)  // TOPIC_AUTHORIZATION_FAILED
    }

    @Test func ledgerCommitsOnlyPastTheSettledPrefix() {
        let ledger = PartitionLedger(topic: "t", partition: 0)
        let a = ledger.sent(upTo: 9)
        let b = ledger.sent(upTo: 19)
        let c = ledger.sent(upTo: 29)
        ledger.complete(b)
        #expect(ledger.takeCommittable() == nil, "an earlier batch is still in flight")
        ledger.complete(a)
        #expect(ledger.takeCommittable() == 20, "Kafka commits the next offset to read")
        #expect(ledger.takeCommittable() == nil, "nothing new since the last commit")
        ledger.complete(c)
        #expect(ledger.takeCommittable() == 30)
        ledger.commitFailed(30)
        #expect(ledger.takeCommittable() == 30, "a failed commit is offered again")
        // After a revocation, late acknowledgements do not move anything.
        let d = ledger.sent(upTo: 39)
        ledger.revoke()
        ledger.complete(d)
        #expect(ledger.takeCommittable() == nil)
    }
}
