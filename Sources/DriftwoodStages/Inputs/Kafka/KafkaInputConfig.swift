import DriftwoodCore

/// `type: kafka` (input) — consumes topics as a member of a consumer group, through librdkafka.
public struct KafkaInputConfig: StageConfig {
    /// Bootstrap brokers, `host:port` each.
    public var brokers: [String]
    /// The topics to consume.
    public var topics: [String]
    /// The consumer group; its members share the topics' partitions.
    public var group: String
    /// Where a group with no committed offset for a partition starts: `beginning` | `end`.
    public var startAt: String
    /// Events per batch handed to the filters; default 1024.
    public var batchSize: Int
    /// Further librdkafka consumer properties, passed through (they override driftwood's).
    public var options: [(String, String)]

    public init(_ c: ConfigObject) {
        (brokers, options) = KafkaProperties.read(c)
        topics = c.stringList("topics") ?? []
        if !c.has("topics") {
            c.error("missing required key 'topics'")
        } else if topics.isEmpty {
            c.error("expected at least one topic", at: c.node("topics"), key: "topics")
        }
        group = c.requiredString("group") ?? "driftwood"
        startAt = c.choice("start_at", ["beginning", "end"], default: "beginning")
        batchSize = c.int("batch_size", default: 1024, min: 1)
    }

    /// What driftwood sets on the consumer before `options`: no automatic commits or offset
    /// stores (offsets are committed by the input once every output accepted the events).
    var properties: KafkaProperties {
        var p = KafkaProperties()
        p.set("bootstrap.servers", brokers.joined(separator: ","))
        p.set("group.id", group)
        p.set("enable.auto.commit", "false")
        p.set("enable.auto.offset.store", "false")
        p.set("auto.offset.reset", startAt == "beginning" ? "earliest" : "latest")
        p.set("enable.partition.eof", "false")
        p.set("queued.max.messages.kbytes", "65536")
        for (k, v) in options { p.set(k, v) }
        return p
    }
}
