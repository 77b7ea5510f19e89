import DriftwoodStages
import Metrics
import Prometheus

/// The metrics backend of `driftwood run`: one Prometheus registry behind swift-metrics, so every
/// counter, gauge and timer a stage creates (`StageMetrics`, `OutputMetrics`, `ModelMetrics`, and
/// any gauge a stage adds later) is in the `/metrics` answer, under the name it was given, with a
/// `# HELP` line (`promtool check metrics` asks for one on every family).
enum PrometheusExport {
    /// Histogram buckets of every swift-metrics `Timer`, in seconds in the export: bulk requests
    /// (`driftwood_bulk_request_duration_seconds`) take from a few milliseconds on a local server
    /// to the request timeout (30s by default).
    static let durationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        .seconds(30),
    ]

    /// Buckets of aggregating recorders (none today).
    static let valueBuckets: [Double] = [0.001, 0.01, 0.1, 1, 10, 100, 1000, 10000]

    /// Makes the registry the process-wide swift-metrics backend (once per process, before any
    /// stage is built) and returns it for `/metrics`, with the in-process view of the same
    /// counters and gauges for `/api/v1/status`.
    static func bootstrap() -> (PrometheusCollectorRegistry, MetricValues) {
        let registry = PrometheusCollectorRegistry()
        // The per-group gauge families go to GroupSeries (cheap to add one to), the rest to the
        // registry; MetricValues sees both.
        let values = MetricValues(
            wrapping: GroupSeriesFactory(base: HelpedFactory(registry: registry), groups: GroupSeries.shared))
        MetricsSystem.bootstrap(values)
        return (registry, values)
    }

    /// The `# HELP` text of each family driftwood exports; a family not listed (a stage added
    /// later) gets a generic one, the same for every series of the family.
    static let help: [String: String] = [
        "driftwood_events_in_total": "Events a stage received.",
        "driftwood_events_out_total": "Events a stage handed on (filters: after dropping and adding).",
        "driftwood_events_dropped_total": "Events a stage dropped, by reason.",
        "driftwood_events_dead_lettered_total": "Events an output gave up on and wrote to its dead-letter file.",
        "driftwood_output_retries_total": "Requests an output retried.",
        "driftwood_bulk_request_duration_seconds": "Duration of an output's bulk requests.",
        "driftwood_bulk_bytes_total": "Bytes of request bodies an output sent, by content encoding.",
        "driftwood_queue_events": "Events waiting in the queue in front of a stage.",
        "driftwood_file_offset_bytes": "Bytes of a file the file input has read and checkpointed.",
        "driftwood_drift_score": "Latest drift score of a feature over a full window.",
        "driftwood_drift_values_skipped_total": "Feature values a drift filter did not count (missing or invalid).",
        "driftwood_model_error_rate": "Errors over events in a model's latest full window.",
        "driftwood_model_latency": "Mean, p95 or p99 latency over a model's latest full window.",
        "driftwood_model_threshold": "The threshold a filter holds a model's metric against.",
        "driftwood_model_performance": "A model's performance metric over its latest evaluation window.",
        "driftwood_model_fairness": "A model's fairness metric by sensitive attribute over its latest evaluation window.",
        "driftwood_alerts_total": "Alerts raised (resolutions not counted), by type.",
        "driftwood_feature_distribution": "Share of a feature's latest window in each baseline bin.",
    ]

    static func helpText(_ label: String) -> String {
        help[label] ?? "driftwood metric \(label)."
    }

    /// swift-prometheus's factory passes no help text; this one passes `helpText(label)`.
    struct HelpedFactory: MetricsFactory {
        let registry: PrometheusCollectorRegistry

        func descriptor(_ label: String) -> MetricNameDescriptor {
            MetricNameDescriptor(metricName: label, unitName: "", helpText: helpText(label))
        }

        func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
            registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
        }

        func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
            registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
        }

        func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
            aggregate
                ? registry.makeValueHistogram(descriptor: descriptor(label), labels: dimensions, buckets: valueBuckets)
                : registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
        }

        func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
            registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
        }

        func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
            registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: durationBuckets)
        }

        func destroyCounter(_ handler: any CounterHandler) {
            if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
        }

        func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
            if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
        }

        func destroyRecorder(_ handler: any RecorderHandler) {
            if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
            if let histogram = handler as? ValueHistogram { registry.unregisterValueHistogram(histogram) }
        }

        func destroyMeter(_ handler: any MeterHandler) {
            if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        }

        func destroyTimer(_ handler: any TimerHandler) {
            if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
        }
    }
}
