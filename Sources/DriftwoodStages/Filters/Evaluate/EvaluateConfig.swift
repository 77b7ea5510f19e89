import DriftwoodCore
import Yams

/// `type: evaluate` — joins predictions with their later ground truth by an id and scores the
/// model (performance, fairness) over the last `window` matched pairs per group.
///
/// Note: `id` here is the join field (as in docs/stages/evaluate.md); the stage's own id is
/// given with `stage_id` (default `evaluate_<index>`).
public struct EvaluateConfig: StageConfig {
    /// `binary` | `multiclass` | `regression`; default `binary`.
    public var task: EvaluationTask
    /// The field that joins a prediction and its label (required).
    public var id: FieldPath
    /// The prediction field; default `prediction`. binary: a score (class = score >= cutoff),
    /// 0/1, a bool, or the positive/negative label value; multiclass: a label; regression: a number.
    public var prediction: FieldPath
    /// binary scores: the class is positive when the score is at least this; default 0.5.
    public var cutoff: Double
    /// binary: the positive label value, as a class key (`1`, `true` and `"1"` are equal); default 1.
    public var positive: [UInt8]
    /// binary: the negative label value; default 0 when `positive` is 1, else every other value.
    public var negative: [UInt8]?
    /// The ground-truth field; default `label`.
    public var label: FieldPath
    /// Which events are labels; default `exists(<label>)`. All others with an id and a
    /// prediction are predictions.
    public var labelWhen: Condition
    /// True when `label_when` is the default (answered without evaluating it).
    public var labelWhenIsDefault: Bool
    /// Optional: one window per value of this field, read from the prediction.
    public var groupBy: FieldPath?
    /// Windows are kept for at most this many `group_by` values; default 1000.
    public var maxGroups: Int
    /// The last N matched pairs per group; default 1000.
    public var window: Int
    /// `pending.max`: unmatched predictions and early labels kept at most; default 1,000,000.
    public var pendingMax: Int
    /// `pending.ttl`: how long, in event time (`@timestamp`), an entry waits; default 24h.
    public var pendingTTL: Duration
    /// The metrics reported; default: every metric of the task.
    public var metrics: [EvaluationMetric]
    /// `MODEL_PERFORMANCE_DEGRADED` thresholds: below (above for mae/rmse/mape).
    public var thresholds: [(metric: EvaluationMetric, value: Double)]
    /// `resolve:` per thresholded metric, where its firing alert resolves (default: the
    /// threshold); a little past it keeps a value hovering at the threshold from flapping.
    public var resolve: [EvaluationMetric: Double]
    /// `fairness:` (binary only), or nil.
    public var fairness: Fairness?
    /// multiclass: at most this many distinct classes; pairs with more are not counted; default 100.
    public var maxClasses: Int
    /// Matched pairs per group between two reports; default `window`; 0 = none.
    public var reportEvery: Int

    /// `fairness:` of an evaluate filter.
    public struct Fairness: Sendable {
        /// The sensitive attribute, read from the prediction event (required).
        public var attribute: FieldPath
        /// The fairness metrics reported; default all four.
        public var metrics: [FairnessMetric]
        /// `FAIRNESS_VIOLATION` thresholds (disparate impact below, the others above).
        public var thresholds: [(metric: FairnessMetric, value: Double)]
        /// `fairness.resolve:` where a firing alert resolves (default: the threshold).
        public var resolve: [FairnessMetric: Double]
        /// Values with fewer pairs than this in the window are left out; default 30.
        public var minGroupSize: Int
        /// At most this many distinct values are tracked; further ones are not; default 100.
        public var maxValues: Int
    }

    /// Windows may hold at most this many pairs in all (`window` × `max_groups`): ~1.6 GB.
    public static let maxWindowPairs = 50_000_000
    /// `pending.max` at most this: ~3.6 GB of pending entries, as much again of matched ids.
    public static let maxPending = 50_000_000
    /// Bytes per pair in a window and per pending entry (with its index), for the messages.
    public static let pairBytes = 32
    public static let entryBytes = 72

    public init(_ c: ConfigObject) {
        task = EvaluationTask(rawValue: c.choice("task", EvaluationTask.allCases.map(\.rawValue), default: "binary")) ?? .binary
        id = c.fieldPath("id") ?? FieldPath("request_id")!
        if !c.has("id") { c.error("missing required key 'id' (the field that joins a prediction and its label)") }
        prediction = c.fieldPath("prediction", default: FieldPath("prediction")!)
        label = c.fieldPath("label", default: FieldPath("label")!)
        cutoff = c.double("cutoff", default: 0.5)
        positive = Array("1".utf8)
        negative = nil
        if task == .binary {
            if let node = c.node("positive") {
                positive = Self.classKey(node) ?? positive
                if Self.classKey(node) == nil { c.error("expected a number, a string or a bool", at: node, key: "positive") }
            }
            if let node = c.node("negative") {
                negative = Self.classKey(node)
                if negative == nil { c.error("expected a number, a string or a bool", at: node, key: "negative") }
            } else if positive == Array("1".utf8) {
                negative = Array("0".utf8)
            }
            if let n = negative, n == positive {
                c.error("must differ from positive (\(String(decoding: n, as: UTF8.self)))", at: c.node("negative"), key: "negative")
            }
        } else {
            for key in ["cutoff", "positive", "negative"] where c.has(key) {
                c.error("only for task binary (this is \(task.rawValue))", at: c.node(key), key: key)
            }
        }
        let defaultWhen = "exists(\(label.text))"
        labelWhenIsDefault = true
        do {
            labelWhen = try Condition(defaultWhen)
        } catch {
            // A label path the condition grammar cannot name (a space, a quote): say so, and
            // ask for label_when instead of crashing on it.
            labelWhen = try! Condition("exists(label)")  // never used: the error stops the run
            if !c.has("label_when") {
                c.error("cannot be named in a condition (\(error.message)); set label_when", at: c.node("label"), key: "label")
            }
        }
        if let source = c.string("label_when") {
            do {
                labelWhen = try Condition(source)
                labelWhenIsDefault = source == defaultWhen
            } catch {
                c.error("bad condition at column \(error.column): \(error.message)", at: c.node("label_when"), key: "label_when")
            }
        }
        groupBy = c.fieldPath("group_by")
        maxGroups = Self.positiveInt(c, "max_groups", default: 1000)
        window = Self.positiveInt(c, "window", default: 1000)
        if window * maxGroups > Self.maxWindowPairs {
            let gb = Double(window * maxGroups * Self.pairBytes) / 1e9
            c.error(
                "window × max_groups = \(window) × \(maxGroups) pairs would take up to \(ScoreText.text(gb, decimals: 1)) GB; at most \(Self.maxWindowPairs) pairs",
                at: c.node("window"), key: "window")
        }
        pendingMax = 1_000_000
        pendingTTL = .seconds(24 * 3600)
        if let p = c.object("pending") {
            pendingMax = Self.positiveInt(p, "max", default: pendingMax)
            if pendingMax > Self.maxPending {
                let gb = Double(pendingMax * Self.entryBytes * 2) / 1e9
                p.error(
                    "\(pendingMax) pending entries would take up to \(ScoreText.text(gb, decimals: 1)) GB; at most \(Self.maxPending)",
                    at: p.node("max"), key: "max")
            }
            pendingTTL = p.duration("ttl", default: pendingTTL)
            if pendingTTL <= .zero { p.error("must be longer than 0s", at: p.node("ttl"), key: "ttl") }
            p.finish()
        }
        let allowed = EvaluationMetric.metrics(of: task)
        metrics = allowed
        if let listed = Self.names(c, "metrics", allowed.map(\.rawValue), what: "\(task.rawValue) metric") {
            metrics = listed.compactMap(EvaluationMetric.init(rawValue:))
        }
        thresholds = Self.thresholds(c, "thresholds", allowed.map(\.rawValue), what: "\(task.rawValue) metric")
            .compactMap { name, value in EvaluationMetric(rawValue: name).map { ($0, value) } }
        for (metric, value) in thresholds where !metric.isError && !(0...1).contains(value) {
            c.error("\(metric.rawValue) is between 0 and 1; got \(value)", at: c.object("thresholds")?.node(metric.rawValue), key: "thresholds.\(metric.rawValue)")
        }
        resolve = [:]
        for (name, value) in Self.thresholds(c, "resolve", allowed.map(\.rawValue), what: "\(task.rawValue) metric") {
            guard let metric = EvaluationMetric(rawValue: name) else { continue }
            guard let t = thresholds.first(where: { $0.metric == metric })?.value else {
                c.error("\(name) has no threshold to resolve", at: c.object("resolve")?.node(name), key: "resolve.\(name)")
                continue
            }
            if metric.isError ? value > t : value < t {
                c.error(
                    "\(name) must resolve \(metric.isError ? "at or under" : "at or above") its threshold \(t); got \(value)",
                    at: c.object("resolve")?.node(name), key: "resolve.\(name)")
            }
            resolve[metric] = value
        }
        maxClasses = Self.positiveInt(c, "max_classes", default: 100)
        if task != .multiclass && c.has("max_classes") {
            c.error("only for task multiclass (this is \(task.rawValue))", at: c.node("max_classes"), key: "max_classes")
        }
        fairness = nil
        if let f = c.object("fairness") {
            if task != .binary {
                c.error("fairness needs task binary (selection rates, TPR and FPR); this is \(task.rawValue)", at: c.node("fairness"), key: "fairness")
            }
            let attribute = f.fieldPath("attribute")
            if !f.has("attribute") { f.error("missing required key 'attribute' (the sensitive attribute's field)") }
            let names = FairnessMetric.allCases.map(\.rawValue)
            var fairnessMetrics = FairnessMetric.allCases
            if let listed = Self.names(f, "metrics", names, what: "fairness metric") {
                fairnessMetrics = listed.compactMap(FairnessMetric.init(rawValue:))
            }
            let fairnessThresholds = Self.thresholds(f, "thresholds", names, what: "fairness metric").compactMap {
                name, value in FairnessMetric(rawValue: name).map { ($0, value) }
            }
            for (metric, value) in fairnessThresholds where !(0...1).contains(value) {
                f.error("\(metric.rawValue) is between 0 and 1; got \(value)", at: f.object("thresholds")?.node(metric.rawValue), key: "thresholds.\(metric.rawValue)")
            }
            var fairnessResolve: [FairnessMetric: Double] = [:]
            for (name, value) in Self.thresholds(f, "resolve", names, what: "fairness metric") {
                guard let metric = FairnessMetric(rawValue: name) else { continue }
                guard let t = fairnessThresholds.first(where: { $0.0 == metric })?.1 else {
                    f.error("\(name) has no threshold to resolve", at: f.object("resolve")?.node(name), key: "resolve.\(name)")
                    continue
                }
                if metric.alertsBelow ? value < t : value > t {
                    f.error(
                        "\(name) must resolve \(metric.alertsBelow ? "at or above" : "at or under") its threshold \(t); got \(value)",
                        at: f.object("resolve")?.node(name), key: "resolve.\(name)")
                }
                fairnessResolve[metric] = value
            }
            let minGroupSize = Self.positiveInt(f, "min_group_size", default: 30)
            let maxValues = Self.positiveInt(f, "max_values", default: 100)
            f.finish()
            fairness = Fairness(
                attribute: attribute ?? FieldPath("_")!, metrics: fairnessMetrics, thresholds: fairnessThresholds,
                resolve: fairnessResolve, minGroupSize: minGroupSize, maxValues: maxValues)
        }
        reportEvery = window
        if let n = c.node("report_every") {
            reportEvery = c.int("report_every", default: window)
            if reportEvery < 0 { c.error("must be 0 (no reports) or more; got \(reportEvery)", at: n, key: "report_every") }
        }
    }

    /// A whole number of at least 1; the error names the value given.
    static func positiveInt(_ c: ConfigObject, _ key: String, default value: Int) -> Int {
        let n = c.int(key, default: value)
        if n < 1 {
            c.error("must be at least 1; got \(n)", at: c.node(key), key: key)
            return value
        }
        return n
    }

    /// A list of names, each one of `allowed` (an error names the wrong one); nil when absent.
    static func names(_ c: ConfigObject, _ key: String, _ allowed: [String], what: String) -> [String]? {
        guard let listed = c.stringList(key) else { return nil }
        if listed.isEmpty { c.error("expected at least one \(what)", at: c.node(key), key: key) }
        var kept: [String] = []
        for name in listed {
            guard allowed.contains(name) else {
                var message = "'\(name)' is not a \(what) (expected one of \(allowed.joined(separator: ", ")))"
                if let hint = closestMatch(to: name, in: allowed) { message += "; did you mean '\(hint)'?" }
                c.error(message, at: c.node(key), key: key)
                continue
            }
            if !kept.contains(name) { kept.append(name) }
        }
        return kept
    }

    /// `name: number` pairs, each name one of `allowed`.
    static func thresholds(_ c: ConfigObject, _ key: String, _ allowed: [String], what: String) -> [(String, Double)] {
        guard let t = c.object(key) else { return [] }
        var out: [(String, Double)] = []
        for name in t.keys {
            guard allowed.contains(name) else {
                var message = "'\(name)' is not a \(what) (expected one of \(allowed.joined(separator: ", ")))"
                if let hint = closestMatch(to: name, in: allowed) { message += "; did you mean '\(hint)'?" }
                t.error(message, at: t.node(name), key: name)
                continue
            }
            if let v = t.double(name) { out.append((name, v)) }
        }
        t.finish()
        return out
    }

    /// A YAML scalar as a class key: `1`, `1.0`, `true` and `"1"` are the same class.
    static func classKey(_ node: Node) -> [UInt8]? {
        guard case .scalar(let s) = node else { return nil }
        if s.style == .plain || s.style == .any {
            if let b = node.bool { return Array((b ? "1" : "0").utf8) }
            if let d = node.float ?? node.int.map(Double.init) {
                var json: [UInt8] = []
                JSONWriter.appendNumber(d, to: &json)
                return ClassKey.canonical(json) ?? json
            }
        }
        return ClassKey.canonical(string: s.string)
    }
}
