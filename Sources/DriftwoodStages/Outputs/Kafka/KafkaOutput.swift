#if canImport(Glibc)
import Glibc
#endif
import CKafka
import DriftwoodCore
import Logging
import Synchronization

/// Produces each event as a JSON record through librdkafka. A batch is settled only once every
/// record's delivery report succeeded; when the brokers are down librdkafka's bounded queue fills
/// and `write` waits, which back-pressures the inputs (docs/stages/kafka.md).
public final class KafkaOutput: Output, @unchecked Sendable {
    let config: KafkaOutputConfig
    let encoder: KafkaRecordEncoder
    let logger: Logger
    let health: OutputHealth
    let producer: OpaquePointer
    /// Serves delivery reports (`rd_kafka_poll`) and resends retried records.
    private var poller: pthread_t?
    private let stopping = Atomic<Bool>(false)
    /// Records whose report said "try again", waiting to be produced again (poller thread).
    private let retries = Mutex<[Retry]>([])
    /// Records rejected for good since start (logged).
    let rejected = Atomic<Int>(0)

    struct Retry: Sendable {
        let topic: String
        let key: [UInt8]?
        let value: [UInt8]
        let id: [UInt8]
        let batch: BatchDelivery
    }

    /// One written batch: records whose reports are still owed.
    final class BatchDelivery: @unchecked Sendable {
        let acknowledgement: Acknowledgement?
        let remaining: Atomic<Int>
        let count: Int
        unowned let output: KafkaOutput
        init(_ ack: Acknowledgement?, count: Int, output: KafkaOutput) {
            acknowledgement = ack
            remaining = Atomic(count)
            self.count = count
            self.output = output
        }
        /// One record is done (delivered or rejected for good).
        func recordDone() {
            let (_, now) = remaining.wrappingSubtract(1, ordering: .acquiringAndReleasing)
            if now == 0 {
                output.health.delivered(count)
                acknowledgement?.settle(1)
            }
        }
    }

    public init(config: KafkaOutputConfig, environment: StageEnvironment) throws {
        self.config = config
        self.encoder = KafkaRecordEncoder(topic: config.topic, key: config.key)
        self.logger = environment.logger
        self.health = environment.health ?? OutputHealth(output: environment.id)
        let conf = try KafkaConf.make(config.properties)
        CKafka_setDeliveryCallback(conf, kafkaDeliveryReport)
        var err = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &err, err.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaConfError(message: "cannot create the Kafka producer: " + String(cString: err))
        }
        producer = rk
        startPoller()
    }

    public var usesFingerprints: Bool { true }
    public var reportsDeliveries: Bool { true }

    public func encode(_ batch: consuming EventBatch) -> EventBatch {
        batch.eventCount = batch.events.count
        batch.encoded = encoder.encode(consuming: &batch.events)
        return batch
    }

    public func write(_ batch: EventBatch) throws {
        var records: KafkaRecords
        if let encoded = batch.encoded as? KafkaRecords {
            records = encoded
        } else {
            var events = batch.events
            records = encoder.encode(consuming: &events)
        }
        guard records.count > 0 else {
            batch.acknowledgement?.settle(1)
            return
        }
        let delivery = BatchDelivery(batch.acknowledgement, count: records.count, output: self)
        let topicNames = records.topics.map { Array($0.utf8CString) }
        records.bytes.withUnsafeBufferPointer { bytes in
            for r in records.records {
                let opaque = Unmanaged.passRetained(delivery).toOpaque()
                topicNames[Int(r.topic)].withUnsafeBufferPointer { topic in
                    produceWaiting(
                        topic: topic.baseAddress!, value: bytes.baseAddress! + Int(r.value.lowerBound), valueLength: r.value.count,
                        key: r.key.isEmpty ? nil : bytes.baseAddress! + Int(r.key.lowerBound), keyLength: r.key.count,
                        id: bytes.baseAddress! + Int(r.id.lowerBound), idLength: r.id.count, opaque: opaque)
                }
            }
        }
    }

    /// Produces one record, waiting while librdkafka's queue is full (brokers slow or down).
    private func produceWaiting(
        topic: UnsafePointer<CChar>, value: UnsafePointer<UInt8>, valueLength: Int, key: UnsafePointer<UInt8>?,
        keyLength: Int, id: UnsafePointer<UInt8>, idLength: Int, opaque: UnsafeMutableRawPointer
    ) {
        var waitedSince: ContinuousClock.Instant?
        while true {
            let err = CKafka_produce(producer, topic, value, valueLength, key, keyLength, "driftwood-id", id, idLength, opaque)
            if err == RD_KAFKA_RESP_ERR_NO_ERROR { return }
            if err == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                let now = ContinuousClock.now
                if let since = waitedSince {
                    if now - since > .seconds(10) {
                        health.failed("librdkafka's queue is full: the brokers (\(config.brokers.joined(separator: ","))) accept nothing")
                        waitedSince = now
                    }
                } else {
                    waitedSince = now
                }
                usleep(5_000)
                continue
            }
            // Refused before queueing (unknown topic name, too large): the record is rejected for good.
            reject(code: err.rawValue, topic: String(cString: topic))
            Unmanaged<BatchDelivery>.fromOpaque(opaque).takeRetainedValue().recordDone()
            return
        }
    }

    func reject(code: Int32, topic: String) {
        let n = rejected.wrappingAdd(1, ordering: .relaxed).newValue
        let why = KafkaConf.describe(rd_kafka_resp_err_t(rawValue: code))
        health.failed("record rejected by Kafka (topic \(topic)): \(why)")
        if n <= 10 || n % 1000 == 0 {
            logger.error("kafka output: record rejected for good, not sent again", metadata: [
                "topic": "\(topic)", "error": "\(why)", "rejected_total": "\(n)",
            ])
        }
    }

    /// A delivery report (poller thread).
    func report(code: Int32, message: UnsafePointer<rd_kafka_message_t>, opaque: UnsafeMutableRawPointer) {
        switch KafkaDeliveryVerdict(code: code) {
        case .delivered:
            Unmanaged<BatchDelivery>.fromOpaque(opaque).takeRetainedValue().recordDone()
        case .rejected:
            reject(code: code, topic: String(cString: rd_kafka_topic_name(message.pointee.rkt)))
            Unmanaged<BatchDelivery>.fromOpaque(opaque).takeRetainedValue().recordDone()
        case .retry:
            // Keeps the retain: the record is still owed. Copied out, since the message is freed.
            let m = message.pointee
            let value = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []
            let key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
            var idLength = 0
            let idPointer = CKafka_header(message, "driftwood-id", &idLength)
            let id = idPointer.map { Array(UnsafeRawBufferPointer(start: $0, count: idLength)) } ?? []
            let topic = String(cString: rd_kafka_topic_name(m.rkt))
            health.failed("delivery failed, sending again: \(KafkaConf.describe(rd_kafka_resp_err_t(rawValue: code)))")
            let batch = Unmanaged<BatchDelivery>.fromOpaque(opaque).takeUnretainedValue()
            retries.withLock { $0.append(Retry(topic: topic, key: key, value: value, id: id, batch: batch)) }
        }
    }

    /// Produces the records waiting for a resend (poller thread); a full queue keeps them for later.
    private func resend() {
        let waiting = retries.withLock { r -> [Retry] in
            defer { r.removeAll() }
            return r
        }
        var left: [Retry] = []
        for r in waiting {
            let opaque = Unmanaged.passUnretained(r.batch).toOpaque()
            let err = r.value.withUnsafeBufferPointer { v in
                r.id.withUnsafeBufferPointer { id in
                    (r.key ?? []).withUnsafeBufferPointer { k in
                        CKafka_produce(
                            producer, r.topic, v.baseAddress, v.count, r.key == nil ? nil : k.baseAddress, k.count,
                            "driftwood-id", id.baseAddress, id.count, opaque)
                    }
                }
            }
            if err == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                left.append(r)
            } else if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                reject(code: err.rawValue, topic: r.topic)
                Unmanaged<BatchDelivery>.fromOpaque(opaque).release()
                r.batch.recordDone()
            }
        }
        if !left.isEmpty { retries.withLock { $0.insert(contentsOf: left, at: 0) } }
    }

    private func startPoller() {
        let box = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        pthread_create(&thread, nil, { arg in
            let output = Unmanaged<KafkaOutput>.fromOpaque(arg!).takeRetainedValue()
            while !output.stopping.load(ordering: .relaxed) {
                rd_kafka_poll(output.producer, 50)
                output.resend()
            }
            return nil
        }, box)
        poller = thread
    }

    /// librdkafka sends on its own threads; nothing is buffered here.
    public func flush() throws {}

    public func close() throws {
        // Waits (bounded) for the reports of what is in flight; unreported batches stay unsettled,
        // so their input positions do not move and they are sent again after a restart.
        let deadline = ContinuousClock.now + .seconds(30)
        while rd_kafka_outq_len(producer) > 0 || !retries.withLock({ $0.isEmpty }), ContinuousClock.now < deadline {
            usleep(10_000)
        }
        stopping.store(true, ordering: .relaxed)
        if let poller { pthread_join(poller, nil) }
        poller = nil
        if rd_kafka_outq_len(producer) > 0 {
            logger.warning("kafka output: records still unacknowledged at shutdown; they are sent again on the next run")
        }
        rd_kafka_destroy(producer)
    }
}

/// librdkafka's delivery report callback (a C function pointer): routes to the output of the record.
private let kafkaDeliveryReport: CKafka_DeliveryCallback = { opaque, err, message in
    guard let opaque, let message else { return }
    let batch = Unmanaged<KafkaOutput.BatchDelivery>.fromOpaque(opaque).takeUnretainedValue()
    batch.output.report(code: err, message: message, opaque: opaque)
}
