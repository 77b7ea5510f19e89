import DriftwoodCore

/// Reads report events into MLflow metrics (pure): the run a report belongs to (experiment,
/// group, model version) and every numeric leaf of the report as a metric.
public struct MLflowEncoder: Sendable {
    public let experiment: Template

    public init(experiment: Template) { self.experiment = experiment }

    /// One report: which run it goes to, when, and its metrics.
    public struct Report: Sendable, Equatable {
        public var experiment: String
        public var group: String
        public var modelVersion: String?
        public var timestampMilliseconds: Int64
        /// (key, value) in the report's order, keys like `drift.features.features.amount`.
        public var metrics: [(String, Double)]

        /// What identifies the run in its experiment (the `driftwood.run` tag).
        public var runKey: String { modelVersion.map { "\(group)@\($0)" } ?? group }

        public static func == (a: Report, b: Report) -> Bool {
            a.experiment == b.experiment && a.runKey == b.runKey && a.timestampMilliseconds == b.timestampMilliseconds
                && a.metrics.map(\.0) == b.metrics.map(\.0) && a.metrics.map(\.1) == b.metrics.map(\.1)
        }
    }

    static let kind = FieldPath("event.kind")!
    static let timestamp = FieldPath("@timestamp")!
    static let members = ["drift", "monitor", "evaluation"]

    /// The report an event carries, or nil when it is not a metric event with a group.
    public func report(_ fields: Fields) -> Report? {
        guard fields.value(at: Self.kind)?.string == "metric" else { return nil }
        for name in Self.members {
            guard let member = fields.value(at: FieldPath(name)!), member.kind == .object,
                let group = member.member(Array("group".utf8))?.text
            else { continue }
            let version = (member.member(Array("model_version".utf8)) ?? fields.value(at: FieldPath("model_version")!))?.text
            var metrics: [(String, Double)] = []
            Self.leaves(member, prefix: name, into: &metrics)
            let time = fields.value(at: Self.timestamp)?.string.flatMap { Timestamp(iso8601: $0) } ?? .now()
            return Report(
                experiment: experiment.render(fields), group: group, modelVersion: version,
                timestampMilliseconds: time.epochMilliseconds, metrics: metrics)
        }
        return nil
    }

    /// Every number under `value` (objects only; arrays such as histogram edges are left out).
    static func leaves(_ value: JSONValue, prefix: String, into out: inout [(String, Double)]) {
        switch value.kind {
        case .number:
            if let n = value.number { out.append((metricKey(prefix), n)) }
        case .object:
            for (key, child) in value.members { leaves(child, prefix: prefix + "." + key, into: &out) }
        default:
            break
        }
    }

    /// MLflow takes letters, digits, `_ - . / :` and spaces in a metric key; anything else becomes `_`.
    static func metricKey(_ text: String) -> String {
        String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || "_-./: ".contains($0)) ? $0 : "_" })
    }

    /// The `runs/log-batch` body: `metrics` at `step`s, all at most 1000 in one body.
    public static func logBatch(runID: String, _ metrics: ArraySlice<(key: String, value: Double, time: Int64, step: Int)>) -> [UInt8] {
        var out = Array(#"{"run_id":"#.utf8)
        JSONWriter.appendString(runID, to: &out)
        out += #","metrics":["#.utf8
        for (k, m) in metrics.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            out += #"{"key":"#.utf8
            JSONWriter.appendString(m.key, to: &out)
            out += #","value":\#(m.value),"timestamp":\#(m.time),"step":\#(m.step)}"#.utf8
        }
        out += "]}".utf8
        return out
    }
}
