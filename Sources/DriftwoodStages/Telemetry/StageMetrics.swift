import Metrics

/// The metric families every stage reports, declared once (docs/metrics.md). Counters are bumped per
/// batch, never per event, so telemetry costs nothing measurable on the hot path.
public struct StageMetrics: Sendable {
    public let stage: String
    let inCounter: Counter
    let outCounter: Counter
    /// Filters: `driftwood_events_dropped_total{reason="filtered"}`, exported from the start (at 0)
    /// so a dashboard's `rate()` has a series before the first drop.
    let filtered: Counter?

    public init(stage: String, filter: Bool = false) {
        self.stage = stage
        inCounter = Counter(label: "driftwood_events_in_total", dimensions: [("stage", stage)])
        outCounter = Counter(label: "driftwood_events_out_total", dimensions: [("stage", stage)])
        filtered = filter
            ? Counter(label: "driftwood_events_dropped_total", dimensions: [("stage", stage), ("reason", "filtered")]) : nil
    }

    public func eventsIn(_ n: Int) { if n > 0 { inCounter.increment(by: n) } }
    public func eventsOut(_ n: Int) { if n > 0 { outCounter.increment(by: n) } }
    /// `driftwood_queue_events{stage}`: events waiting in front of a stage (`Pipeline.queueDepths`),
    /// set when `/metrics` is scraped, never on the hot path.
    public static func queueDepth(stage: String) -> Gauge {
        Gauge(label: "driftwood_queue_events", dimensions: [("stage", stage)])
    }

    public func dropped(_ n: Int, reason: String) {
        guard n > 0 else { return }
        if reason == "filtered", let filtered {
            filtered.increment(by: n)
            return
        }
        Counter(label: "driftwood_events_dropped_total", dimensions: [("stage", stage), ("reason", reason)])
            .increment(by: n)
    }
}
