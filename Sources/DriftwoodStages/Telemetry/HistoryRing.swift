/// The last hour in fixed steps: one time and one value per series per step, in a ring.
struct HistoryRing {
    struct Step {
        var time: Double
        /// Pipeline-wide series (`rate_in`, `rate_out`).
        var values: [String: Double] = [:]
        /// Per group: `rate`, `error_rate`, `latency`, `drift_max`, `performance.<metric>` and
        /// `fairnessKey(attribute, metric)`.
        var models: [String: [String: Double]] = [:]
    }

    /// The key of a fairness metric's series in `Step.models` (an attribute is a field path, so
    /// it may hold dots).
    static func fairnessKey(_ attribute: String, _ metric: String) -> String {
        "fairness\u{1F}" + attribute + "\u{1F}" + metric
    }

    let capacity: Int
    private(set) var steps: [Step] = []
    private var next = 0

    init(capacity: Int) {
        self.capacity = capacity
        steps.reserveCapacity(capacity)
    }

    mutating func append(_ step: Step) {
        if steps.count < capacity {
            steps.append(step)
        } else {
            steps[next] = step
        }
        next = (next + 1) % capacity
    }

    /// Oldest first.
    var ordered: ArraySlice<Step> {
        steps.count < capacity ? steps[...] : (steps[next...] + steps[..<next])[...]
    }

    /// `{"t":[…],"rate_in":[…],"rate_out":[…],"models":{"g":{"rate":[…],…,"performance":{"m":[…]},
    /// "fairness":{"attribute":{"m":[…]}}}}}`;
    /// a value missing at a step is `null`.
    func write(_ w: inout StatusJSON) {
        let ordered = Array(self.ordered)
        w.open()
        w.key("t"); w.numbers(ordered.map(\.time), decimals: 0)
        for name in ["rate_in", "rate_out"] {
            w.key(name); w.numbers(ordered.map { $0.values[name] ?? .nan })
        }
        var groups: Set<String> = []
        for s in ordered { groups.formUnion(s.models.keys) }
        w.key("models")
        w.open()
        for group in groups.sorted() {
            var names: Set<String> = []
            for s in ordered { if let m = s.models[group] { names.formUnion(m.keys) } }
            w.key(group)
            w.open()
            for name in ["rate", "error_rate", "latency", "drift_max"] {
                w.key(name); w.numbers(ordered.map { $0.models[group]?[name] ?? .nan })
            }
            w.key("performance")
            w.open()
            for name in names.sorted() where name.hasPrefix("performance.") {
                w.key(String(name.dropFirst("performance.".count)))
                w.numbers(ordered.map { $0.models[group]?[name] ?? .nan })
            }
            w.close()
            // fairness: {attribute: {metric: […]}}, from the keys `fairness␟attribute␟metric`.
            var fairness: [String: [String: String]] = [:]
            for name in names where name.hasPrefix("fairness\u{1F}") {
                let parts = name.split(separator: "\u{1F}", maxSplits: 2, omittingEmptySubsequences: false)
                guard parts.count == 3 else { continue }
                fairness[String(parts[1]), default: [:]][String(parts[2])] = name
            }
            w.key("fairness")
            w.open()
            for attribute in fairness.keys.sorted() {
                w.key(attribute)
                w.open()
                for (metric, name) in fairness[attribute]!.sorted(by: { $0.key < $1.key }) {
                    w.key(metric)
                    w.numbers(ordered.map { $0.models[group]?[name] ?? .nan })
                }
                w.close()
            }
            w.close()
            w.close()
        }
        w.close()
        w.close()
    }
}
