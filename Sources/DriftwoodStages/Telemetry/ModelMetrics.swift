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

    /// `driftwood_model_threshold{group,metric}`: the threshold a filter holds `metric` of
    /// `group` against (`error_rate`, `latency_p95`, `psi`, …), set once when the group appears,
    /// so charts and alerting rules can draw and compare against the pipeline's own thresholds.
    public static func threshold(group: String, metric: String, value: Double, factory: any MetricsFactory) {
        Gauge(label: "driftwood_model_threshold", dimensions: [("group", group), ("metric", metric)], factory: factory)
            .record(value)
    }

    /// The events filter `stage` counts for `group`, for the status page (not exported).
    public static func events(stage: String, group: String) -> ModelTally {
        ModelTally.of(stage: stage, group: group)
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

    /// `driftwood_model_performance{group,metric}`: an `evaluate` metric over a full window.
    public static func performance(group: String, metric: String, factory: any MetricsFactory) -> Gauge {
        Gauge(label: "driftwood_model_performance", dimensions: [("group", group), ("metric", metric)], factory: factory)
    }

    /// `driftwood_model_fairness{group,attribute,metric}`: an `evaluate` fairness metric over a full window.
    public static func fairness(group: String, attribute: String, metric: String, factory: any MetricsFactory) -> Gauge {
        Gauge(
            label: "driftwood_model_fairness", dimensions: [("group", group), ("attribute", attribute), ("metric", metric)],
            factory: factory)
    }

    /// `driftwood_evaluate_pending{stage}`: predictions and early labels waiting for their other half.
    public static func pending(stage: String, factory: any MetricsFactory) -> Gauge {
        Gauge(label: "driftwood_evaluate_pending", dimensions: [("stage", stage)], factory: factory)
    }

    /// `driftwood_evaluate_unmatched_total{stage,reason}`: what `evaluate` could not use: entries
    /// `expired` or `evicted` unmatched, a `duplicate_label` or `duplicate_prediction`, and events
    /// with `no_id`, no group (`no_group`, past max_groups too), an `invalid_prediction` or an `invalid_label`.
    public static func unmatched(stage: String, reason: String, factory: any MetricsFactory) -> Counter {
        Counter(label: "driftwood_evaluate_unmatched_total", dimensions: [("stage", stage), ("reason", reason)], factory: factory)
    }

    /// The name of the label-lag histogram (its buckets are set where the Prometheus export is made).
    public static let labelLagName = "driftwood_label_lag_seconds"

    /// Upper bounds of `driftwood_label_lag_seconds`: a second to a week.
    public static let labelLagBuckets: [Double] = [1, 10, 60, 300, 900, 3600, 4 * 3600, 86400, 7 * 86400]

    /// `driftwood_label_lag_seconds{group}`: seconds from a prediction to its label (0 when the label came first).
    public static func labelLag(group: String, factory: any MetricsFactory) -> Recorder {
        Recorder(label: labelLagName, dimensions: [("group", group)], aggregate: true, factory: factory)
    }
}
