#if canImport(Glibc)
import Glibc
#endif
import CKafka
import DriftwoodCore
import Logging
import Metrics
import Synchronization

/// Consumes Kafka topics in a consumer group. Each record becomes an event with `message` (the
/// value, invalid UTF-8 repaired) and `kafka.{topic, partition, offset, key}`; a partition's
/// offset is committed only past records every output accepted, on a timer, on a rebalance
/// (for the partitions revoked) and at shutdown. The fingerprint comes from the agent's
/// `driftwood-id` header when the record has one, else from topic, partition and offset
/// (`RecordOrigin`), so a record consumed again (after a crash or a rebalance), or a line an
/// agent sent twice, makes no second document.
public final class KafkaInput: Input, @unchecked Sendable {
    let config: KafkaInputConfig
    let logger: Logger
    let builder: LineEventBuilder
    let consumer: OpaquePointer
    private let stopping = Atomic<Bool>(false)
    private let closed = Atomic<Bool>(false)
    /// Assigned partitions. Behind a mutex: the rebalance callback runs on the consuming thread,
    /// acknowledgements on output threads, `close` on another.
    private let ledgers = Mutex<[PartitionKey: Assigned]>([:])

    struct PartitionKey: Hashable, Sendable {
        let topic: String
        let partition: Int32
    }

    /// One assigned partition: its ledger, the fingerprint source, what `kafka` shows, its lag.
    final class Assigned: @unchecked Sendable {
        let ledger: PartitionLedger
        let source: UInt64
        /// `{"topic":"…","partition":N,"offset":` — completed per record.
        let prefix: [UInt8]
        let lag: Gauge
        /// Last offset read (consuming thread only).
        var lastRead: Int64 = -1
        init(topic: String, partition: Int32) {
            ledger = PartitionLedger(topic: topic, partition: partition)
            source = Hash64.hash("kafka:\(topic):\(partition)")
            var p = Array(#"{"topic":"#.utf8)
            JSONWriter.appendString(topic, to: &p)
            p += Array(#","partition":\#(partition),"offset":"#.utf8)
            prefix = p
            lag = Gauge(label: "driftwood_kafka_consumer_lag", dimensions: [("topic", topic), ("partition", "\(partition)")])
        }
    }

    public init(config: KafkaInputConfig, environment: StageEnvironment) throws {
        self.config = config
        self.logger = environment.logger
        self.builder = LineEventBuilder(inputType: "kafka", hostName: environment.hostName)
        let conf = try KafkaConf.make(config.properties)
        let box = Unmanaged<RebalanceTarget>.passRetained(RebalanceTarget()).toOpaque()
        CKafka_setRebalanceCallback(conf, kafkaRebalance, box)
        var err = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &err, err.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaConfError(message: "cannot create the Kafka consumer: " + String(cString: err))
        }
        consumer = rk
        Unmanaged<RebalanceTarget>.fromOpaque(box).takeUnretainedValue().input = self
        rd_kafka_poll_set_consumer(rk)
        let list = rd_kafka_topic_partition_list_new(Int32(config.topics.count))
        for t in config.topics { rd_kafka_topic_partition_list_add(list, t, RD_KAFKA_PARTITION_UA) }
        let e = rd_kafka_subscribe(rk, list)
        rd_kafka_topic_partition_list_destroy(list)
        if e != RD_KAFKA_RESP_ERR_NO_ERROR {
            rd_kafka_destroy(rk)
            throw KafkaConfError(message: "cannot subscribe to \(config.topics): \(KafkaConf.describe(e))")
        }
    }

    public func stop() { stopping.store(true, ordering: .relaxed) }

    public func run(emit: (inout EventBatch) -> Void) throws {
        var batch = EventBatch()
        batch.events.reserveCapacity(config.batchSize)
        /// This batch's last offset per partition.
        var spans: [PartitionKey: (Assigned, Int64)] = [:]
        var recycled: [Fields.Storage] = []
        var timestamp = LineEventBuilder.readTimeJSON()
        var lastCommit = ContinuousClock.now
        var lastError: String?
        var member: [UInt8] = []
        let kafkaKey = Array("kafka".utf8)

        func send() {
            guard !batch.isEmpty else { return }
            let tickets = spans.values.map { ($0.0.ledger, $0.0.ledger.sent(upTo: $0.1)) }
            spans.removeAll(keepingCapacity: true)
            batch.acknowledgement = Acknowledgement(count: 1) {
                for (ledger, ticket) in tickets { ledger.complete(ticket) }
            }
            emit(&batch)
            batch.events.reserveCapacity(config.batchSize)
        }

        while !stopping.load(ordering: .relaxed) {
            let now = ContinuousClock.now
            if now - lastCommit > .milliseconds(500) {
                commitSettled(async: true)
                recordLag()
                lastCommit = now
            }
            guard let message = rd_kafka_consumer_poll(consumer, batch.isEmpty ? 100 : 5) else {
                send()
                timestamp = LineEventBuilder.readTimeJSON()
                continue
            }
            defer { rd_kafka_message_destroy(message) }
            let m = message.pointee
            if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                let text = KafkaConf.describe(m.err)
                if text != lastError { logger.warning("kafka input: \(text)") }
                lastError = text
                continue
            }
            lastError = nil
            let topic = String(cString: rd_kafka_topic_name(m.rkt))
            let key = PartitionKey(topic: topic, partition: m.partition)
            guard let assigned = ledgers.withLock({ $0[key] }) else { continue }
            assigned.lastRead = m.offset
            spans[key] = (assigned, m.offset)

            if recycled.isEmpty { FieldsPool.shared.take(config.batchSize, into: &recycled) }
            let value = UnsafeBufferPointer(start: m.payload?.assumingMemoryBound(to: UInt8.self), count: m.payload == nil ? 0 : m.len)
            var fields = builder.make(line: value, timestamp: timestamp, storage: recycled.popLast())
            member.removeAll(keepingCapacity: true)
            member += assigned.prefix
            JSONWriter.appendInteger(m.offset, to: &member)
            if let k = m.key {
                member += Array(#","key":"#.utf8)
                let bytes = UnsafeBufferPointer(start: k.assumingMemoryBound(to: UInt8.self), count: m.key_len)
                JSONWriter.appendString(String(decoding: bytes, as: UTF8.self), to: &member)
            }
            member.append(UInt8(ascii: "}"))
            fields.setRaw(name: kafkaKey, json: member)
            var idLength = 0
            let id = CKafka_header(message, "driftwood-id", &idLength).map { UnsafeRawBufferPointer(start: $0, count: idLength) }
            batch.events.append(Event(fields: fields, origin: RecordOrigin.make(header: id, partition: assigned.source, offset: m.offset)))
            if batch.events.count >= config.batchSize {
                send()
                timestamp = LineEventBuilder.readTimeJSON()
            }
        }
        send()
    }

    /// Commits every assigned partition's settled offset that is past its last commit.
    func commitSettled(async: Bool, only keys: Set<PartitionKey>? = nil) {
        let list = rd_kafka_topic_partition_list_new(8)!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        var taken: [(PartitionLedger, Int64)] = []
        ledgers.withLock { all in
            for (key, a) in all where keys == nil || keys!.contains(key) {
                guard let offset = a.ledger.takeCommittable() else { continue }
                rd_kafka_topic_partition_list_add(list, key.topic, key.partition)!.pointee.offset = offset
                taken.append((a.ledger, offset))
            }
        }
        guard !taken.isEmpty else { return }
        let e = rd_kafka_commit(consumer, list, async ? 1 : 0)
        if e != RD_KAFKA_RESP_ERR_NO_ERROR {
            for (ledger, offset) in taken { ledger.commitFailed(offset) }
            logger.warning("kafka input: offset commit failed (retried): \(KafkaConf.describe(e))")
        }
    }

    private func recordLag() {
        let assigned = ledgers.withLock { Array($0) }
        for (key, a) in assigned where a.lastRead >= 0 {
            var low: Int64 = 0
            var high: Int64 = 0
            if rd_kafka_get_watermark_offsets(consumer, key.topic, key.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR {
                a.lag.record(Double(max(0, high - (a.lastRead + 1))))
            }
        }
    }

    /// Called by librdkafka (on the consuming thread) before an assignment or revocation is applied.
    func rebalance(assigned: Bool, partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        var keys: [PartitionKey] = []
        for i in 0..<Int(partitions.pointee.cnt) {
            let p = CKafka_partitionAt(partitions, Int32(i))!.pointee
            keys.append(PartitionKey(topic: String(cString: p.topic), partition: p.partition))
        }
        if assigned {
            ledgers.withLock { all in
                for k in keys where all[k] == nil { all[k] = Assigned(topic: k.topic, partition: k.partition) }
            }
            logger.info("kafka input: partitions assigned", metadata: ["partitions": "\(keys.map { "\($0.topic)/\($0.partition)" })"])
        } else {
            // What is settled is committed now; what is still in flight goes to the new owner, which
            // reads it again from the committed offset (at least once).
            commitSettled(async: false, only: Set(keys))
            ledgers.withLock { all in
                for k in keys { all.removeValue(forKey: k)?.ledger.revoke() }
            }
            logger.info("kafka input: partitions revoked", metadata: ["partitions": "\(keys.map { "\($0.topic)/\($0.partition)" })"])
        }
    }

    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        commitSettled(async: false)
        rd_kafka_consumer_close(consumer)
        rd_kafka_destroy(consumer)
    }
}

/// The rebalance callback's target, set once the consumer exists.
final class RebalanceTarget: @unchecked Sendable {
    weak var input: KafkaInput?
}

private let kafkaRebalance: CKafka_RebalanceCallback = { opaque, assigned, partitions in
    guard let opaque, let partitions else { return }
    Unmanaged<RebalanceTarget>.fromOpaque(opaque).takeUnretainedValue().input?.rebalance(
        assigned: assigned != 0, partitions: partitions)
}
