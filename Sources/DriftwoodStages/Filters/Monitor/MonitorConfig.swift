import DriftwoodCore

/// `type: monitor` — model health over a sliding window: error rate and latency, with alerts.
public struct MonitorConfig: StageConfig {
    /// Events per window (per `group_by` value); default 1000.
    public var window: Int
    /// Optional: one set of windows per value of this field (events without it are not counted).
    public var groupBy: FieldPath?
    /// Windows are kept for at most this many `group_by` values; default 1000.
    public var maxGroups: Int
    /// `error_rate:` — which events are errors, and the share of them that alerts.
    public var errorRate: ErrorRate
    /// `latency:` — which field holds the latency, the statistic, and the value that alerts.
    public var latency: Latency
    /// Events per group between two reports (metric events); default `window`; 0: no reports.
    public var reportEvery: Int

    /// At most this many values (window × max_groups × 2 windows) may be held by one monitor
    /// filter: up to 17 bytes each (latency, its sorted copy, the error flag), about 1.7 GB.
    public static let maxHeldValues = 100_000_000

    /// `error_rate:` of a monitor filter.
    public struct ErrorRate: Sendable {
        /// An event is an error when this matches; default `level == "ERROR" or exists(error)`.
        public var when: Condition
        /// `HIGH_ERROR_RATE` fires when errors / events in a full window exceed this; default 0.05.
        public var threshold: Double
        /// The alert resolves once the rate is back at or under this; default `threshold`.
        public var resolveBelow: Double
    }

    /// `latency:` of a monitor filter.
    public struct Latency: Sendable {
        /// The numeric field holding the latency; default `latency_ms`.
        public var field: FieldPath
        /// `mean` | `p95` | `p99` over the last `window` values; default `mean`. Quantiles are
        /// exact (numpy's default, linear interpolation) over the values in the window.
        public var statistic: Statistic
        /// `HIGH_LATENCY` fires when the statistic exceeds this; default 1000.
        public var threshold: Double
        /// The alert resolves once the statistic is back at or under this; default `threshold`.
        public var resolveBelow: Double
    }

    public enum Statistic: String, Sendable, CaseIterable {
        case mean, p95, p99

        /// The quantile, for p95 and p99.
        public var quantile: Double? {
            switch self {
            case .mean: nil
            case .p95: 0.95
            case .p99: 0.99
            }
        }
    }

    public static let defaultErrorCondition = #"level == "ERROR" or exists(error)"#

    public init(_ c: ConfigObject) {
        window = c.int("window", default: 1000, min: 1)
        groupBy = c.fieldPath("group_by")
        maxGroups = c.int("max_groups", default: 1000, min: 1)
        reportEvery = c.int("report_every", default: window, min: 0)
        let held = window.multipliedReportingOverflow(by: (groupBy == nil ? 1 : maxGroups) * 2)
        if held.overflow || held.partialValue > Self.maxHeldValues {
            c.error(
                "window \(window) × max_groups \(groupBy == nil ? 1 : maxGroups) × 2 windows would hold more than "
                    + "\(Self.maxHeldValues) values; lower window or max_groups",
                at: c.node("window") ?? c.node("max_groups"), key: c.has("window") ? "window" : "max_groups")
        }
        var when = try! Condition(Self.defaultErrorCondition)
        var errorThreshold = 0.05
        var errorResolve: Double?
        if let e = c.object("error_rate") {
            if let source = e.string("when") {
                do { when = try Condition(source) } catch {
                    e.error("bad condition at column \(error.column): \(error.message)", at: e.node("when"), key: "when")
                }
            }
            errorThreshold = e.double("threshold", default: 0.05)
            if !(0...1).contains(errorThreshold) {
                e.error("must be between 0 and 1", at: e.node("threshold"), key: "threshold")
            }
            errorResolve = e.double("resolve_below")
            if let r = errorResolve, r > errorThreshold {
                e.error("must not be above threshold (\(errorThreshold))", at: e.node("resolve_below"), key: "resolve_below")
            }
            e.finish()
        }
        errorRate = ErrorRate(when: when, threshold: errorThreshold, resolveBelow: errorResolve ?? errorThreshold)
        var field = FieldPath("latency_ms")!
        var statistic = Statistic.mean
        var latencyThreshold = 1000.0
        var latencyResolve: Double?
        if let l = c.object("latency") {
            field = l.fieldPath("field", default: field)
            statistic = Statistic(rawValue: l.choice("statistic", Statistic.allCases.map(\.rawValue), default: "mean")) ?? .mean
            latencyThreshold = l.double("threshold", default: 1000)
            latencyResolve = l.double("resolve_below")
            if let r = latencyResolve, r > latencyThreshold {
                l.error("must not be above threshold (\(latencyThreshold))", at: l.node("resolve_below"), key: "resolve_below")
            }
            l.finish()
        }
        latency = Latency(
            field: field, statistic: statistic, threshold: latencyThreshold,
            resolveBelow: latencyResolve ?? latencyThreshold)
    }

    /// What a saved state of this filter depends on: every setting.
    public var stateDigest: String {
        "monitor v1\nwindow=\(window) group_by=\(groupBy?.text ?? "") max_groups=\(maxGroups) report_every=\(reportEvery)\n"
            + "error_rate.when=\(errorRate.when.source) threshold=\(errorRate.threshold) resolve=\(errorRate.resolveBelow)\n"
            + "latency.field=\(latency.field.text) statistic=\(latency.statistic.rawValue) threshold=\(latency.threshold) "
            + "resolve=\(latency.resolveBelow)"
    }
}
