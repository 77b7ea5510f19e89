/// A drift filter's score report: a metric event of its own, emitted right after every
/// `report_every`-th scored event of a group (docs/model-monitoring.md). It carries only
/// `@timestamp` (the trigger's), `event`, `message`, `drift.*` and `host.name`.
public struct DriftReport: Sendable {
    /// One feature's window histogram beside the baseline's.
    public struct Histogram: Sendable {
        public var feature: String
        /// Numeric: the inner bin edges; categorical: nil.
        public var edges: [Double]?
        /// Categorical: the listed values and `__other__`; numeric: nil.
        public var categories: [String]?
        public var baseline: [Double]
        public var current: [Double]

        public init(feature: String, edges: [Double]?, categories: [String]?, baseline: [Double], current: [Double]) {
            self.feature = feature
            self.edges = edges
            self.categories = categories
            self.baseline = baseline
            self.current = current
        }

        /// `{"edges":[…]` or `{"categories":[…]`, then `"baseline":[…],"current":[…]}`, numbers exact.
        public func appendJSON(to j: inout [UInt8]) {
            j.append(UInt8(ascii: "{"))
            if let edges {
                j += Array(#""edges":"#.utf8)
                DriftReport.appendNumbers(edges, exact: true, to: &j)
            } else {
                j += Array(#""categories":["#.utf8)
                for (i, c) in (categories ?? []).enumerated() {
                    if i > 0 { j.append(UInt8(ascii: ",")) }
                    JSONWriter.appendString(c, to: &j)
                }
                j.append(UInt8(ascii: "]"))
            }
            j += Array(#","baseline":"#.utf8)
            DriftReport.appendNumbers(baseline, exact: true, to: &j)
            j += Array(#","current":"#.utf8)
            DriftReport.appendNumbers(current, exact: true, to: &j)
            j.append(UInt8(ascii: "}"))
        }
    }

    public var metric: String
    public var window: Int
    public var group: String?
    public var scored: Int
    /// Each watched feature and its score, in config order.
    public var scores: [(String, Double)]
    public var weighted: Double
    public var detected: Bool
    public var distributions: [Histogram]

    public init(
        metric: String, window: Int, group: String?, scored: Int, scores: [(String, Double)], weighted: Double,
        detected: Bool, distributions: [Histogram]
    ) {
        self.metric = metric
        self.window = window
        self.group = group
        self.scored = scored
        self.scores = scores
        self.weighted = weighted
        self.detected = detected
        self.distributions = distributions
    }

    /// The feature with the largest score (the first of equals) and that score.
    public var max: (String, Double) {
        var best = scores[0]
        for s in scores.dropFirst() where s.1 > best.1 { best = s }
        return best
    }

    public var message: String {
        let (feature, value) = max
        let whose = group.map { " of \($0)" } ?? ""
        return "\(metric) drift\(whose): max \(ScoreText.text(value)) (\(feature))"
    }

    static let driftPath = FieldPath("drift")!

    /// The report as an event that follows its trigger (timestamp and origin as for alerts).
    public func event(timestamp: JSONValue?, origin: Origin, stage: String, hostName: String, dataset: String = "driftwood.drift") -> Event {
        var kind: [UInt8] = Array(#"{"kind":"metric","dataset":"#.utf8)
        JSONWriter.appendString(dataset, to: &kind)
        kind.append(UInt8(ascii: "}"))
        var fields = DerivedEvent.start(timestamp: timestamp, event: kind, message: message, capacity: 512)
        var j: [UInt8] = Array(#"{"metric":"#.utf8)
        JSONWriter.appendString(metric, to: &j)
        j += Array(#","window":"#.utf8)
        JSONWriter.appendInteger(Int64(window), to: &j)
        if let group {
            j += Array(#","group":"#.utf8)
            JSONWriter.appendString(group, to: &j)
        }
        j += Array(#","scored":"#.utf8)
        JSONWriter.appendInteger(Int64(scored), to: &j)
        let (maxFeature, maxValue) = max
        j += Array(#","max":"#.utf8)
        ScoreText.append(maxValue, to: &j)
        j += Array(#","max_feature":"#.utf8)
        JSONWriter.appendString(maxFeature, to: &j)
        j += Array(#","weighted":"#.utf8)
        ScoreText.append(weighted, to: &j)
        j += Array(detected ? #","detected":true"# .utf8 : #","detected":false"# .utf8)
        j += Array(#","features":{"#.utf8)
        for (k, (name, score)) in scores.enumerated() {
            if k > 0 { j.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(name, to: &j)
            j.append(UInt8(ascii: ":"))
            ScoreText.append(score, to: &j)
        }
        j.append(UInt8(ascii: "}"))
        if !distributions.isEmpty {
            j += Array(#","distributions":{"#.utf8)
            for (k, h) in distributions.enumerated() {
                if k > 0 { j.append(UInt8(ascii: ",")) }
                JSONWriter.appendString(h.feature, to: &j)
                j.append(UInt8(ascii: ":"))
                h.appendJSON(to: &j)
            }
            j.append(UInt8(ascii: "}"))
        }
        j.append(UInt8(ascii: "}"))
        fields.set(Self.driftPath, json: j)
        return DerivedEvent.finish(
            fields, hostName: hostName, origin: origin, identity: [stage, "report", group ?? "", "\(scored)"])
    }

    static func appendNumbers(_ values: [Double], exact: Bool, to j: inout [UInt8]) {
        j.append(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            if i > 0 { j.append(UInt8(ascii: ",")) }
            JSONWriter.appendNumber(v, to: &j)
        }
        j.append(UInt8(ascii: "]"))
    }
}
