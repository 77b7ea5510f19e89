/// What every event a filter makes (an alert, a score, health or evaluation report) shares: it
/// starts with its trigger's `@timestamp` (the current time when the trigger has none), its
/// `event` member and its `message`, and ends with `host.name`; its origin is the trigger's plus
/// a stable hash of what it is about, so a re-run makes the same fingerprint id and no second
/// document.
public enum DerivedEvent {
    static let eventPath = FieldPath("event")!
    static let hostPath = FieldPath("host")!

    /// The first members: `@timestamp`, `event` (its JSON), `message`.
    public static func start(timestamp: JSONValue?, event: [UInt8], message: String, capacity: Int) -> Fields {
        var fields = Fields(capacity: capacity)
        if let timestamp {
            fields.set(.timestamp, value: timestamp)
        } else {
            var ts: [UInt8] = [UInt8(ascii: "\"")]
            Timestamp.now().appendRFC3339(to: &ts)
            ts.append(UInt8(ascii: "\""))
            fields.set(.timestamp, json: ts)
        }
        fields.set(eventPath, json: event)
        fields.set(.message, string: message)
        return fields
    }

    /// Adds `host.name` and makes the event, its origin derived from `identity`'s parts.
    public static func finish(_ fields: consuming Fields, hostName: String, origin: Origin, identity: [String]) -> Event {
        var host: [UInt8] = Array(#"{"name":"#.utf8)
        JSONWriter.appendString(hostName, to: &host)
        host.append(UInt8(ascii: "}"))
        fields.set(hostPath, json: host)
        var derived = origin
        derived.derived = Hash64.hash(identity.joined(separator: "\u{1F}")) | 1
        return Event(fields: fields, origin: derived)
    }
}
