import CKafka
import DriftwoodCore

/// librdkafka properties of a `kafka` input or output: the brokers, then what the stage sets,
/// then the user's `options` (passed through as written, so they win).
struct KafkaProperties: Sendable, Equatable {
    var pairs: [(String, String)] = []

    static func == (a: KafkaProperties, b: KafkaProperties) -> Bool {
        a.pairs.map { "\($0.0)=\($0.1)" } == b.pairs.map { "\($0.0)=\($0.1)" }
    }

    mutating func set(_ name: String, _ value: String) { pairs.append((name, value)) }

    /// Reads `brokers` (required, a list of `host:port`) and `options` (a mapping of librdkafka
    /// properties to scalars) from a stage's config.
    static func read(_ c: ConfigObject) -> (brokers: [String], options: [(String, String)]) {
        var brokers = c.stringList("brokers") ?? []
        if !c.has("brokers") {
            c.error("missing required key 'brokers'")
        } else if brokers.isEmpty {
            c.error("expected at least one broker (host:port)", at: c.node("brokers"), key: "brokers")
        }
        for b in brokers where HostPort(b) == nil {
            c.error("'\(b)' is not host:port", at: c.node("brokers"), key: "brokers")
        }
        brokers = brokers.filter { HostPort($0) != nil }
        var options: [(String, String)] = []
        for (key, value) in c.pairs("options") ?? [] {
            guard case .scalar(let s) = value else {
                c.error("expected a scalar (librdkafka properties are strings, numbers or booleans)", at: value, key: "options.\(key)")
                continue
            }
            options.append((key, s.string))
        }
        return (brokers, options)
    }
}

/// A librdkafka configuration, built from properties; errors name the property.
struct KafkaConfError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

enum KafkaConf {
    /// A new `rd_kafka_conf_t` with every property set, or the first property librdkafka refused.
    static func make(_ properties: KafkaProperties) throws -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        var err = [CChar](repeating: 0, count: 512)
        for (name, value) in properties.pairs {
            if CKafka_confSet(conf, name, value, &err, err.count) != 0 {
                rd_kafka_conf_destroy(conf)
                let why = String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                throw KafkaConfError(message: "librdkafka property '\(name)' = '\(value)': \(why)")
            }
        }
        return conf
    }

    /// The message of a librdkafka error code.
    static func describe(_ code: rd_kafka_resp_err_t) -> String { String(cString: rd_kafka_err2str(code)) }
}
