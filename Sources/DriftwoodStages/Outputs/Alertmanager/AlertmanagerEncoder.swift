import DriftwoodCore

/// Alert events as Alertmanager API v2 alerts (pure). Labels: `alertname` (`alert.type`),
/// `model` (`alert.group`), `feature`, `metric`, `attribute` when present, `source: driftwood`,
/// then the configured ones; annotations `summary` (`message`), `value`, `threshold`;
/// `startsAt` the event's `@timestamp`, and `endsAt` too for a resolved alert.
///
/// ```
/// {"labels":{"alertname":"MODEL_DRIFT_DETECTED","model":"fraud","feature":"amount","metric":"psi",
///  "source":"driftwood","severity":"warning"},"annotations":{"summary":"…","value":"0.31",
///  "threshold":"0.2"},"startsAt":"2026-11-24T10:00:00.000Z"}
/// ```
public struct AlertmanagerEncoder: Sendable {
    public let labels: [(String, String)]

    public init(labels: [(String, String)]) { self.labels = labels }

    static let kind = FieldPath("event.kind")!
    static let message = FieldPath("message")!
    static let timestamp = FieldPath("@timestamp")!
    static let state = FieldPath("alert.state")!
    /// (label, field) in label order.
    static let labelFields: [(String, FieldPath)] = [
        ("alertname", FieldPath("alert.type")!), ("model", FieldPath("alert.group")!),
        ("feature", FieldPath("alert.feature")!), ("metric", FieldPath("alert.metric")!),
        ("attribute", FieldPath("alert.attribute")!),
    ]
    static let annotationFields: [(String, FieldPath)] = [
        ("value", FieldPath("alert.value")!), ("threshold", FieldPath("alert.threshold")!),
    ]

    /// One alert per alert event (`event.kind: alert` with an `alert.type`); others make none.
    public func encode(_ events: [Event]) -> DeliveryItems {
        var items = DeliveryItems()
        for event in events { if let alert = self.alert(event.fields) { items.append { $0 += alert } } }
        return items
    }

    /// The alert's JSON object, or nil for an event that is not an alert.
    public func alert(_ fields: Fields) -> [UInt8]? {
        guard fields.value(at: Self.kind)?.string == "alert", fields.value(at: Self.labelFields[0].1)?.string != nil
        else { return nil }
        var labelPairs: [(String, String)] = []
        for (label, path) in Self.labelFields {
            if let value = fields.value(at: path), value.kind != .null { labelPairs.append((label, value.text)) }
        }
        labelPairs.append(("source", "driftwood"))
        for (name, value) in labels {
            labelPairs.removeAll { $0.0 == name }
            labelPairs.append((name, value))
        }
        var annotations: [(String, String)] = []
        if let message = fields.value(at: Self.message)?.string { annotations.append(("summary", message)) }
        for (name, path) in Self.annotationFields {
            if let value = fields.value(at: path), value.kind != .null { annotations.append((name, value.text)) }
        }
        var out: [UInt8] = Array(#"{"labels":"#.utf8)
        Self.appendObject(labelPairs, to: &out)
        out += #","annotations":"#.utf8
        Self.appendObject(annotations, to: &out)
        if let time = fields.value(at: Self.timestamp)?.string {
            out += #","startsAt":"#.utf8
            JSONWriter.appendString(time, to: &out)
            if fields.value(at: Self.state)?.string == "resolved" {
                out += #","endsAt":"#.utf8
                JSONWriter.appendString(time, to: &out)
            }
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    static func appendObject(_ pairs: [(String, String)], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (k, (name, value)) in pairs.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(name, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONWriter.appendString(value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }
}
