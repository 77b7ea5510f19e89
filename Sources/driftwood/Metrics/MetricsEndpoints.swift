import DriftwoodStages
import Metrics
import Prometheus
import Synchronization

/// What `GET /metrics` and `GET /health` answer. Called on the metrics server's event loop; it
/// only reads counters and takes the queues' and outputs' locks for a moment, so a scrape never
/// holds up a pipeline thread.
final class MetricsEndpoints: Sendable {
    /// An HTTP answer, free of any server type.
    struct Answer {
        var status: Int
        var contentType: String
        var body: [UInt8]
    }

    /// The Prometheus text exposition format.
    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    let registry: PrometheusCollectorRegistry
    let unhealthyAfter: Duration
    let started: ContinuousClock.Instant
    /// Set once the pipeline is built (the server binds before, so a port in use fails first).
    private let watched = Mutex<Watched?>(nil)

    struct Watched {
        let pipeline: Pipeline
        let queueGauges: [String: Metrics.Gauge]
    }

    init(registry: PrometheusCollectorRegistry, unhealthyAfter: Duration, started: ContinuousClock.Instant = .now) {
        self.registry = registry
        self.unhealthyAfter = unhealthyAfter
        self.started = started
    }

    /// Starts reporting `pipeline`'s queues and outputs.
    func watch(_ pipeline: Pipeline) {
        var gauges: [String: Metrics.Gauge] = [:]
        for stage in pipeline.queueDepths().keys { gauges[stage] = StageMetrics.queueDepth(stage: stage) }
        watched.withLock { $0 = Watched(pipeline: pipeline, queueGauges: gauges) }
    }

    /// Routes a request: `GET` (or `HEAD`) `/metrics` and `/health`; other paths 404, other methods 405.
    func answer(method: String, uri: String) -> Answer {
        let path =
            uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        guard path == "/metrics" || path == "/health" else {
            return Answer(
                status: 404, contentType: "text/plain; charset=utf-8",
                body: Array("not found: try /metrics or /health\n".utf8))
        }
        guard method == "GET" || method == "HEAD" else {
            return Answer(status: 405, contentType: "text/plain; charset=utf-8", body: Array("only GET\n".utf8))
        }
        if path == "/metrics" {
            return Answer(status: 200, contentType: Self.metricsContentType, body: metrics())
        }
        let report = health()
        var body = report.json
        body.append(UInt8(ascii: "\n"))
        return Answer(status: report.httpStatus, contentType: "application/json", body: body)
    }

    /// Every metric in the registry, queue depths sampled now.
    func metrics() -> [UInt8] {
        if let watched = watched.withLock({ $0 }) {
            for (stage, depth) in watched.pipeline.queueDepths() {
                watched.queueGauges[stage]?.record(depth)
            }
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        GroupSeries.shared.emit(into: &buffer)
        return buffer
    }

    /// Uptime and each output's state now.
    func health(now: ContinuousClock.Instant = .now) -> HealthReport {
        let outputs = watched.withLock { $0?.pipeline.outputHealth } ?? []
        return HealthReport(
            uptimeSeconds: Int((now - started).components.seconds),
            outputs: outputs.map {
                HealthReport.Output(id: $0.output, report: $0.report(now: now, unhealthyAfter: unhealthyAfter))
            }, checkpointError: CheckpointStore.failure)
    }
}
