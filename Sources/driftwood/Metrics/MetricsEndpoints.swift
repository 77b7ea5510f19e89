import DriftwoodCore
import DriftwoodStages
import Metrics
import Prometheus
import Synchronization

/// What `GET /metrics`, `GET /health`, `GET /api/v1/status` and `GET /` (the status page)
/// answer. Called on the metrics server's event loop; it only reads counters and takes the
/// queues' and outputs' locks for a moment, so a scrape never holds up a pipeline thread.
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
    /// The same counters and gauges, read in-process for the status.
    let values: MetricValues?
    let unhealthyAfter: Duration
    let started: ContinuousClock.Instant
    /// Set once the pipeline is built (the server binds before, so a port in use fails first).
    private let watched = Mutex<Watched?>(nil)

    struct Watched {
        let pipeline: Pipeline
        let queueGauges: [String: Metrics.Gauge]
        let board: StatusBoard?
    }

    init(
        registry: PrometheusCollectorRegistry, values: MetricValues? = nil, unhealthyAfter: Duration,
        started: ContinuousClock.Instant = .now
    ) {
        self.registry = registry
        self.values = values
        self.unhealthyAfter = unhealthyAfter
        self.started = started
    }

    /// Starts reporting `pipeline`'s queues and outputs; with `config`, the status too.
    func watch(_ pipeline: Pipeline, config: PipelineConfig? = nil) {
        ReloadLog.shared.touch()
        var board: StatusBoard?
        if let config, let values {
            board = StatusBoard(
                pipeline: config.name, version: driftwoodVersion, stages: Self.stages(config),
                queueCapacity: pipeline.queueCapacity, values: values)
        }
        watched.withLock { $0 = Watched(pipeline: pipeline, queueGauges: Self.queueGauges(pipeline), board: board) }
        board?.tick()
    }

    /// After a reload: the stages the status lists, and a queue gauge for each new output.
    func restaged(_ config: PipelineConfig) {
        watched.withLock { w in
            guard let old = w else { return }
            old.board?.update(stages: Self.stages(config))
            w = Watched(pipeline: old.pipeline, queueGauges: Self.queueGauges(old.pipeline), board: old.board)
        }
    }

    static func stages(_ config: PipelineConfig) -> [StatusBoard.Stage] {
        config.inputs.map { StatusBoard.Stage(id: $0.id, kind: "input", type: $0.type) }
            + config.filters.map { StatusBoard.Stage(id: $0.id, kind: "filter", type: $0.type) }
            + config.outputs.map { StatusBoard.Stage(id: $0.id, kind: "output", type: $0.type) }
    }

    static func queueGauges(_ pipeline: Pipeline) -> [String: Metrics.Gauge] {
        var gauges: [String: Metrics.Gauge] = [:]
        for stage in pipeline.queueDepths().keys { gauges[stage] = StageMetrics.queueDepth(stage: stage) }
        return gauges
    }

    /// One reading for the status's rates and history (the server calls it once a second).
    func tick() {
        watched.withLock { $0 }?.board?.tick()
    }

    static let paths: Set<String> = ["/", "/index.html", "/metrics", "/health", "/api/v1/status"]

    /// Routes a request: `GET` (or `HEAD`) `/`, `/metrics`, `/health` and `/api/v1/status`;
    /// other paths 404, other methods 405.
    func answer(method: String, uri: String) -> Answer {
        let path =
            uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        guard Self.paths.contains(path) else {
            return Answer(
                status: 404, contentType: "text/plain; charset=utf-8",
                body: Array("not found: try /, /metrics, /health or /api/v1/status\n".utf8))
        }
        guard method == "GET" || method == "HEAD" else {
            return Answer(status: 405, contentType: "text/plain; charset=utf-8", body: Array("only GET\n".utf8))
        }
        switch path {
        case "/metrics":
            return Answer(status: 200, contentType: Self.metricsContentType, body: metrics())
        case "/api/v1/status":
            guard var body = status() else {
                // Between bind and the pipeline being built.
                return Answer(
                    status: 503, contentType: "application/json",
                    body: Array(#"{"status":"starting","message":"the pipeline is being built"}"#.utf8) + [0x0A])
            }
            body.append(UInt8(ascii: "\n"))
            return Answer(status: 200, contentType: "application/json", body: body)
        case "/", "/index.html":
            return Answer(status: 200, contentType: "text/html; charset=utf-8", body: StatusPage.bytes)
        default:
            break
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

    /// The `/api/v1/status` JSON; nil before the pipeline is built.
    func status(now: ContinuousClock.Instant = .now) -> [UInt8]? {
        guard let watched = watched.withLock({ $0 }), let board = watched.board else { return nil }
        return board.json(health: health(now: now), queues: watched.pipeline.queueDepths())
    }
}
