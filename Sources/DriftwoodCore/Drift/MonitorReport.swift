/// A monitor filter's report: a metric event emitted right after every `report_every`-th event
/// of a group once its error window is full, carrying `@timestamp` (the trigger's), `event`,
/// `message`, `monitor.*` and `host.name` only.
public struct MonitorReport: Sendable {
    public var group: String?
    public var window: Int
    /// The group's events counted so far.
    public var events: Int
    public var errorRate: Double
    /// `mean`, `p95` or `p99`.
    public var statistic: String
    /// The latency field's name, for the message.
    public var field: String
    /// The statistic over a full latency window; nil while it fills.
    public var latency: Double?

    public init(group: String?, window: Int, events: Int, errorRate: Double, statistic: String, field: String, latency: Double?) {
        self.group = group
        self.window = window
        self.events = events
        self.errorRate = errorRate
        self.statistic = statistic
        self.field = field
        self.latency = latency
    }

    public var message: String {
        let whose = group.map { " of \($0)" } ?? ""
        let latencyText = latency.map { ", \(statistic) \(field) \(ScoreText.text($0, decimals: 2))" } ?? ""
        return "model health\(whose): error rate \(ScoreText.text(errorRate))\(latencyText)"
    }

    static let monitorPath = FieldPath("monitor")!

    public func event(timestamp: JSONValue?, origin: Origin, stage: String, hostName: String) -> Event {
        var fields = DerivedEvent.start(
            timestamp: timestamp, event: Array(#"{"kind":"metric","dataset":"driftwood.monitor"}"#.utf8),
            message: message, capacity: 384)
        var j: [UInt8] = [UInt8(ascii: "{")]
        if let group {
            j += Array(#""group":"#.utf8)
            JSONWriter.appendString(group, to: &j)
            j.append(UInt8(ascii: ","))
        }
        j += Array(#""window":"#.utf8)
        JSONWriter.appendInteger(Int64(window), to: &j)
        j += Array(#","events":"#.utf8)
        JSONWriter.appendInteger(Int64(events), to: &j)
        j += Array(#","error_rate":"#.utf8)
        ScoreText.append(errorRate, to: &j)
        j += Array(#","latency":{"statistic":"#.utf8)
        JSONWriter.appendString(statistic, to: &j)
        j += Array(#","value":"#.utf8)
        if let latency { ScoreText.append(latency, to: &j) } else { j += Array("null".utf8) }
        j += Array("}}".utf8)
        fields.set(Self.monitorPath, json: j)
        return DerivedEvent.finish(
            fields, hostName: hostName, origin: origin, identity: [stage, "report", group ?? "", "\(events)"])
    }
}
