import Metrics

/// The model-monitoring metric families (docs/metrics.md), declared once. The `drift` and `monitor`
/// filters create one handle per group when the group first appears and record into it every
/// `ModelMetrics.gaugeInterval` window updates (and at every alert), never per event.
public enum ModelMetrics {
    /// Window updates between two gauge records.
    public static let gaugeInterval = 100

    /// `driftwood_drift_score{feature,metric,group}`: the latest score of a full window.
    public static func driftScore(feature: String, metric: String, group: String, factory: any MetricsFactory) -> Gauge {
        Gauge(
            label: "driftwood_drift_score", dimensions: [("feature", feature), ("metric", metric), ("group", group)],
            factory: factory)
    }

    /// `driftwood_feature_distribution{feature,group,bin}`: the share of a full window's values
    /// in one bin (numeric: the bin's number from 0; categorical: the value or `__other__`), for
    /// the features a `drift` filter lists under `distributions` only, recorded at each report.
    public static func featureDistribution(feature: String, group: String, bin: String, factory: any MetricsFactory) -> Gauge {
        Gauge(
            label: "driftwood_feature_distribution", dimensions: [("feature", feature), ("group", group), ("bin", bin)],
            factory: factory)
    }

    /// `driftwood_model_error_rate{group}`: errors / events over a full window.
    public static func errorRate(group: String, factory: any MetricsFactory) -> Gauge {
        Gauge(label: "driftwood_model_error_rate", dimensions: [("group", group)], factory: factory)
    }

    /// `driftwood_model_latency{group,statistic}`: mean, p95 or p99 of a full latency window.
    public static func latency(group: String, statistic: String, factory: any MetricsFactory) -> Gauge {
        Gauge(label: "driftwood_model_latency", dimensions: [("group", group), ("statistic", statistic)], factory: factory)
    }

    /// `driftwood_alerts_total{type}`: alerts fired (resolutions are not counted).
    public static func alerts(type: String, factory: any MetricsFactory) -> Counter {
        Counter(label: "driftwood_alerts_total", dimensions: [("type", type)], factory: factory)
    }

    /// `driftwood_drift_values_skipped_total{stage,feature,reason}`: values a `drift` filter did
    /// not count: `missing` (no field, or null) or `invalid` (not a number for a numeric feature).
    public static func skippedValues(stage: String, feature: String, reason: String, factory: any MetricsFactory)
        -> Counter
    {
        Counter(
            label: "driftwood_drift_values_skipped_total",
            dimensions: [("stage", stage), ("feature", feature), ("reason", reason)], factory: factory)
    }
}
