import DriftwoodCore

/// `type: kafka` (output) — each event as one JSON record to a Kafka topic, through librdkafka,
/// with `acks=all` and the idempotent producer.
public struct KafkaOutputConfig: StageConfig {
    /// Bootstrap brokers, `host:port` each.
    public var brokers: [String]
    /// The topic; a template (`model-logs-%{model}`).
    public var topic: Template
    /// The record key (the partition key); a template such as `%{model}`. None by default: records
    /// spread over the partitions.
    public var key: Template?
    /// `none` | `gzip` | `snappy` | `lz4` | `zstd`; default `lz4`.
    public var compression: String
    /// Further librdkafka producer properties, passed through (they override driftwood's).
    public var options: [(String, String)]

    public init(_ c: ConfigObject) {
        (brokers, options) = KafkaProperties.read(c)
        topic = Self.template(c, "topic", required: true) ?? (try! Template("driftwood"))
        key = Self.template(c, "key", required: false)
        compression = c.choice("compression", ["none", "gzip", "snappy", "lz4", "zstd"], default: "lz4")
    }

    static func template(_ c: ConfigObject, _ name: String, required: Bool) -> Template? {
        guard let text = required ? c.requiredString(name) : c.string(name) else { return nil }
        do {
            return try Template(text)
        } catch {
            c.error("bad template: \(error)", at: c.node(name), key: name)
            return nil
        }
    }

    /// What driftwood sets on the producer before `options`: delivery reports for every record,
    /// `acks=all`, idempotence, no give-up on retriable errors (an outage back-pressures instead),
    /// and a bounded queue (the memory bound).
    var properties: KafkaProperties {
        var p = KafkaProperties()
        p.set("bootstrap.servers", brokers.joined(separator: ","))
        p.set("acks", "all")
        p.set("enable.idempotence", "true")
        p.set("compression.type", compression)
        p.set("message.timeout.ms", "0")
        p.set("linger.ms", "5")
        p.set("queue.buffering.max.messages", "100000")
        p.set("queue.buffering.max.kbytes", "65536")
        for (k, v) in options { p.set(k, v) }
        return p
    }
}
