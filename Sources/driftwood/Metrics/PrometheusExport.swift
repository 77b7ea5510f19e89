import Metrics
import Prometheus

/// The metrics backend of `driftwood run`: one Prometheus registry behind swift-metrics, so every
/// counter, gauge and timer a stage creates (`StageMetrics`, `OutputMetrics`, `ModelMetrics`, and
/// any gauge a stage adds later) is in the `/metrics` answer, under the name it was given.
enum PrometheusExport {
    /// Histogram buckets of every swift-metrics `Timer`, in seconds in the export: bulk requests
    /// (`driftwood_bulk_request_duration_seconds`) take from a few milliseconds on a local server
    /// to the request timeout (30s by default).
    static let durationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        .seconds(30),
    ]

    /// Makes the registry the process-wide swift-metrics backend (once per process, before any
    /// stage is built) and returns it for `/metrics`.
    static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = durationBuckets
        MetricsSystem.bootstrap(GroupSeriesFactory(base: factory, groups: GroupSeries.shared))
        return registry
    }
}
