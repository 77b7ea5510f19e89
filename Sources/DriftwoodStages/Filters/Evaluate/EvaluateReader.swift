import DriftwoodCore

/// Reads what `evaluate` needs from an event in one pass: whether it is an alert or report of
/// an earlier filter, its `@timestamp` (event time, ms), the id's 128-bit hash, and where the
/// prediction, label, `group_by` and fairness attribute values are.
final class EvaluateReader {
    struct Seen {
        var isDerived = false
        /// Milliseconds since 1970; `.min` when the event has no readable `@timestamp`.
        var time: Int64 = .min
        var id: (UInt64, UInt64)?
        var prediction: ValueSlot?
        var label: ValueSlot?
        var group: ValueSlot?
        var attribute: ValueSlot?

        init() {}

        /// What a preparer read, from its `preparation`.
        init(_ prepared: Preparation) {
            let (time, idLow, idHigh, flags) = prepared.words
            let (prediction, label, group, attribute) = prepared.more
            isDerived = flags & 1 != 0
            self.time = Int64(bitPattern: time)
            if flags & 2 != 0 { id = (idLow, idHigh) }
            func slot(_ word: UInt64, _ k: UInt64) -> ValueSlot? {
                guard flags & (4 << k) != 0 else { return nil }
                return ValueSlot(
                    start: Int32(truncatingIfNeeded: word), end: Int32(truncatingIfNeeded: word >> 32),
                    isText: flags & (64 << k) != 0, found: true)
            }
            self.prediction = slot(prediction, 0)
            self.label = slot(label, 1)
            self.group = slot(group, 2)
            self.attribute = slot(attribute, 3)
        }

        /// The id's `idLow` in a preparation, without decoding the rest (nil: no id, or an
        /// upstream alert or report, which is not joined).
        @inline(__always)
        static func idLow(_ prepared: Preparation) -> UInt64? {
            prepared.words.3 & 3 == 2 ? prepared.words.1 : nil
        }

        var preparation: Preparation {
            var flags: UInt64 = (isDerived ? 1 : 0) | (id != nil ? 2 : 0)
            func word(_ slot: ValueSlot?, _ k: UInt64) -> UInt64 {
                guard let slot else { return 0 }
                flags |= (4 << k) | (slot.isText ? 64 << k : 0)
                return UInt64(UInt32(bitPattern: slot.start)) | UInt64(UInt32(bitPattern: slot.end)) << 32
            }
            var p = Preparation()
            p.more = (word(prediction, 0), word(label, 1), word(group, 2), word(attribute, 3))
            p.words = (UInt64(bitPattern: time), id?.0 ?? 0, id?.1 ?? 0, flags)
            return p
        }
    }

    let paths: PathSet
    let slots: UnsafeMutableBufferPointer<ValueSlot>
    let groupSlot: Int?
    let attributeSlot: Int?
    static let kindPath = FieldPath("event.kind")!
    static let alert = Array("alert".utf8)
    static let metric = Array("metric".utf8)
    /// The second hash's seed (the first uses 0).
    static let highSeed: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// Paths: `event.kind`, `@timestamp`, id, prediction, label, then `group_by` and the attribute.
    init(config: EvaluateConfig) {
        var watched = [Self.kindPath, .timestamp, config.id, config.prediction, config.label]
        groupSlot = config.groupBy.map { _ in watched.count }
        if let g = config.groupBy { watched.append(g) }
        attributeSlot = config.fairness.map { _ in watched.count }
        if let f = config.fairness { watched.append(f.attribute) }
        paths = PathSet(watched)
        slots = .allocate(capacity: watched.count)
        slots.initialize(repeating: ValueSlot())
    }

    deinit { slots.deallocate() }

    /// (`inout` only so that an event in an array is read without a copy: nothing changes.)
    func read(_ event: inout Event) -> Seen {
        let slots = self.slots
        paths.locate(in: event.fields, into: slots)
        var seen = Seen()
        event.fields.withBytes { p in
            if slots[0].found {
                seen.isDerived = PathSet.withKeyBytes(p, slots[0].range, isText: slots[0].isText) {
                    $0.elementsEqual(Self.alert) || $0.elementsEqual(Self.metric)
                }
                if seen.isDerived { return }
            }
            if slots[1].found {
                let s = slots[1]
                let content = s.isText ? s.range : (s.range.lowerBound + 1)..<(s.range.upperBound - 1)
                if !content.isEmpty, p[s.range.lowerBound] == UInt8(ascii: "\"") || s.isText,
                    let t = Timestamp(iso8601: UnsafeBufferPointer(start: p + content.lowerBound, count: content.count))
                {
                    seen.time = t.epochMilliseconds
                }
            }
            if slots[2].found, Self.isValue(p, slots[2]) {
                seen.id = PathSet.withKeyBytes(p, slots[2].range, isText: slots[2].isText) {
                    (Hash64.hash($0), Hash64.hash($0, seed: Self.highSeed))
                }
            }
        }
        if slots[3].found { seen.prediction = slots[3] }
        if slots[4].found { seen.label = slots[4] }
        if let g = groupSlot, slots[g].found { seen.group = slots[g] }
        if let a = attributeSlot, slots[a].found { seen.attribute = slots[a] }
        return seen
    }

    /// False for a null (a field present but empty is no id).
    static func isValue(_ p: UnsafePointer<UInt8>, _ s: ValueSlot) -> Bool {
        s.isText || !(s.range.count == 4 && p[s.range.lowerBound] == UInt8(ascii: "n"))
    }
}

/// Reads evaluate's part of events ahead of its turn, on one filter worker: the same pass as the
/// turn would make (`EvaluateReader`), so the turn only joins.
final class EvaluatePreparer: EventPreparer {
    let reader: EvaluateReader

    init(config: EvaluateConfig) { reader = EvaluateReader(config: config) }

    func prepare(_ events: UnsafeMutableBufferPointer<Event>, into readings: inout [Preparation]) {
        for e in events.indices { readings.append(reader.read(&events[e]).preparation) }
    }
}
