import DriftwoodCore

/// A batch turned into Kafka records (pure: no librdkafka here): one arena of bytes and, per
/// record, where its topic, key, value and `driftwood-id` header sit in it.
struct KafkaRecords: EncodedPayload {
    struct Record: Sendable {
        /// Index into `topics`.
        var topic: Int32
        /// Key bytes in `bytes`; an empty range means no key.
        var key: Range<Int32>
        var value: Range<Int32>
        /// The fingerprint id (32 hex digits) in `bytes`, sent as the header `driftwood-id`.
        var id: Range<Int32>
    }
    var topics: [String] = []
    var records: [Record] = []
    var bytes: [UInt8] = []

    var byteCount: Int { bytes.count + records.count * 32 + 64 }
    var count: Int { records.count }

    func topic(_ r: Record) -> String { topics[Int(r.topic)] }
    func key(_ r: Record) -> ArraySlice<UInt8>? { r.key.isEmpty ? nil : bytes[Int(r.key.lowerBound)..<Int(r.key.upperBound)] }
    func value(_ r: Record) -> ArraySlice<UInt8> { bytes[Int(r.value.lowerBound)..<Int(r.value.upperBound)] }
    func id(_ r: Record) -> ArraySlice<UInt8> { bytes[Int(r.id.lowerBound)..<Int(r.id.upperBound)] }
}

/// Event → topic, key, value (the event as compact JSON) and the `driftwood-id` header.
struct KafkaRecordEncoder: Sendable {
    let topic: Template
    let key: Template?

    /// Encodes and takes the events (their buffers go back to the pool).
    func encode(consuming events: inout [Event]) -> KafkaRecords {
        var out = KafkaRecords()
        out.records.reserveCapacity(events.count)
        out.bytes.reserveCapacity(events.count * 360)
        var topicIndex: [String: Int32] = [:]
        if topic.isConstant {
            out.topics.append(topic.source)
        }
        var recycled: [Fields.Storage] = []
        recycled.reserveCapacity(events.count)
        events.withUnsafeMutableBufferPointer { $0.reverse() }  // by moves, as JSONLOutput.lines
        while var event = events.popLast() {
            var t: Int32 = 0
            if !topic.isConstant {
                let name = topic.render(event.fields)
                if let k = topicIndex[name] {
                    t = k
                } else {
                    t = Int32(out.topics.count)
                    topicIndex[name] = t
                    out.topics.append(name)
                }
            }
            let keyStart = Int32(out.bytes.count)
            key?.render(event.fields, into: &out.bytes)
            let valueStart = Int32(out.bytes.count)
            event.fields.write(to: &out.bytes)
            let idStart = Int32(out.bytes.count)
            event.origin.appendFingerprint(to: &out.bytes)
            out.records.append(
                .init(topic: t, key: keyStart..<valueStart, value: valueStart..<idStart, id: idStart..<Int32(out.bytes.count)))
            if let storage = event.fields.recycle() { recycled.append(storage) }
        }
        FieldsPool.shared.give(&recycled)
        return out
    }
}
