import ArgumentParser
import DriftwoodCore
import DriftwoodStages
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// `driftwood run PIPELINE` — runs until every input has finished and everything is delivered,
/// or until SIGINT/SIGTERM: stop reading, drain, exit 0 within `shutdown_timeout`. A second
/// signal exits at once.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a pipeline.",
        discussion: """
            A pipeline whose inputs are all in read mode (or stdin) ends once every file is read \
            and every event delivered. A tail pipeline (file input, mode: tail) never ends by \
            itself: it logs "caught up" once every file is read to its end and then follows the \
            files until SIGINT or SIGTERM (or give --once). Either way it ends with one summary \
            line per input and output (read, delivered, already present, dead-lettered, not \
            delivered, where the checkpoints are).

            SIGHUP reloads the pipeline file (and --watch reloads when it or a file it names \
            changes): the new file is checked first; unchanged stages keep running with their \
            files, windows and joins; nothing read is lost or delivered twice. See \
            docs/reloading.md.

            Exit codes: 0 finished or stopped by a signal with everything delivered; 1 a runtime \
            failure (a stage failed; stopped before everything was delivered: shutdown_timeout \
            passed, or Elasticsearch never answered); \
            2 an invalid pipeline file or usage; 130/143 a second SIGINT/SIGTERM (exit at once).

            Relative paths in a pipeline file resolve against the working directory. The ready \
            pipelines in pipelines/ read these variables (all optional): DRIFTWOOD_HOME (the \
            repository, where samples/ and templates/ are; default .), MODEL_LOG_PATHS, \
            ARCHIVE_PATHS, AGGREGATE_DIR, TIME_FIELD (default ts), TIME_FORMAT (default \
            iso8601), MODEL_REGISTRY, DRIFT_BASELINE, ES_URL, ES_USERNAME, ES_PASSWORD, \
            ES_TEMPLATE, ALERTMANAGER_URL, DRIFTWOOD_DATA_DIR, DRIFTWOOD_METRICS_ADDRESS, \
            ENVIRONMENT; agent-to-kafka.yml and kafka-aggregator.yml also KAFKA_BROKERS, \
            KAFKA_TOPIC, KAFKA_GROUP. \
            See docs/running.md.
            """)

    @Argument(help: "The pipeline file.") var pipeline: String
    @Flag(name: .long, help: "Tail inputs read every file they find to its end, then the run ends once everything is delivered (as Filebeat's --once).")
    var once = false
    @Flag(name: .long, help: "Read the files found at the start from their beginning, whatever the checkpoints say (they are still written).")
    var fromBeginning = false
    @Flag(name: .long, help: "Skip the health check of elasticsearch outputs at start (GET /, one line on what is wrong, repeated with backoff).")
    var noHealthcheck = false
    @Option(name: .long, help: "Overrides the pipeline's data_dir (checkpoints, dead letters).") var dataDir: String?
    @Option(name: .long, help: "HOST:PORT for /metrics and /health; overrides metrics.address.")
    var metricsAddress: String?
    @Flag(
        name: .long,
        help: "After the pipeline has finished, keep serving the status page, /metrics and /health until SIGINT or SIGTERM (needs metrics.address or --metrics-address)."
    )
    var serve = false
    @Flag(
        name: .long,
        help: "Reload when the pipeline file or a file it names (model registry, baseline, index template) changes, checked once a second. SIGHUP always reloads."
    )
    var watch = false
    @OptionGroup var log: LogOptions

    func run() async throws {
        // SIGHUP reloads (below); until then it must not end the process (its default action).
        signal(SIGHUP, SIG_IGN)
        MemoryTuning.keepFreedBuffers()
        let logger = try log.bootstrap()
        var config = try PipelineFile.load(pipeline)
        if let metricsAddress, HostPort(metricsAddress) == nil {
            throw ValidationError("--metrics-address must be HOST:PORT, like 127.0.0.1:9600")
        }
        let overrides: @Sendable (inout PipelineConfig) -> Void = { [dataDir, metricsAddress] config in
            if let dataDir { config.dataDir = dataDir }
            if let metricsAddress { config.metricsAddress = metricsAddress }
        }
        overrides(&config)
        if serve && config.metricsAddress == nil {
            throw ValidationError("--serve needs metrics.address in the pipeline or --metrics-address HOST:PORT")
        }
        // Before any stage exists, so every counter the stages create is a Prometheus one.
        let (registry, values) = PrometheusExport.bootstrap()
        let endpoints = MetricsEndpoints(registry: registry, values: values, unhealthyAfter: config.unhealthyAfter)
        var server: MetricsServer?
        if let address = config.metricsAddress {
            do {
                server = try await MetricsServer.bind(address, endpoints: endpoints, logger: logger)
            } catch {
                logger.critical("\(error)")
                throw ExitCode(1)
            }
        }
        let engine: Pipeline
        let read = PipelineBuilder.ReadOptions(once: once, fromBeginning: fromBeginning)
        do {
            engine = try PipelineBuilder.pipeline(config, logger: logger, hostName: PipelineFile.hostName, read: read)
        } catch {
            logger.critical("cannot start the pipeline", metadata: ["error": "\(error)"])
            await server?.close()
            throw ExitCode(1)
        }
        endpoints.watch(engine, config: config)
        let summary = { [dataDir = config.dataDir] in
            FailureTally.shared.flush()
            RunSummary.log(engine, dataDir: dataDir, logger: logger)
        }
        logger.info(
            "pipeline started",
            metadata: [
                "pipeline": "\(config.name)", "inputs": "\(config.inputs.count)", "filters": "\(config.filters.count)",
                "outputs": "\(config.outputs.count)",
            ])
        // The health check runs beside the pipeline; while an output never answered, a stop does
        // not wait out shutdown_timeout for deliveries that cannot happen.
        let healthcheck = noHealthcheck ? nil : StartupHealthcheck.start(config, logger: logger)
        let service = PipelineService(
            engine: engine, shutdownTimeout: config.shutdownTimeout, logger: logger,
            unreachable: { [watch = healthcheck?.watch, ids = Set(StartupHealthcheck.elasticsearchOutputs(config).map(\.id))] in
                // Never answered, and nothing delivered either (a proxy may refuse GET / only).
                guard let watch, !watch.allReachable else { return false }
                return engine.outputHealth.filter { ids.contains($0.output) }.allSatisfy {
                    $0.report(unhealthyAfter: .seconds(3600)).eventsDelivered == 0
                }
            })
        if serve, let server {
            let name = config.name
            service.finished = {
                logger.notice(
                    "pipeline finished; still serving the status page until SIGINT or SIGTERM (Ctrl-C)",
                    metadata: ["pipeline": "\(name)", "url": "\(server.pageURL)"])
            }
        }
        // SIGHUP (and with --watch a changed file) reloads the pipeline file.
        let reloader = Reloader(
            path: pipeline, config: config, engine: engine, read: read, logger: logger, overrides: overrides,
            restaged: { endpoints.restaged($0) })
        let hangups = Task.detached {
            for await _ in await UnixSignalsSequence(trapping: .sighup) { reloader.request("SIGHUP") }
        }
        let watcher = watch ? ConfigWatcher(reloader: reloader) : nil
        // A second signal exits at once; checkpoints then cover only what was delivered.
        let signals = Task.detached {
            var seen = 0
            for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                seen += 1
                if seen >= 2 {
                    logger.warning("second signal: exiting now", metadata: ["signal": "\(signal)"])
                    CheckpointStore.saveAll()  // what was delivered so far, no more
                    Foundation.exit(signal == .sigint ? 130 : 143)
                }
            }
        }
        // Services stop in reverse order: the metrics server answers until the pipeline has drained.
        // With --serve, the pipeline finishing leaves the server up until a signal.
        var services = [ServiceGroupConfiguration.ServiceConfiguration]()
        if let server { services.append(.init(service: server)) }
        services.append(
            .init(service: service, successTerminationBehavior: serve ? .ignore : .gracefullyShutdownGroup))
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        signals.cancel()
        watcher?.stop()
        reloader.stop()
        hangups.cancel()
        healthcheck?.task?.cancel()
        summary()
        if service.outcome == .unreachable {
            CheckpointStore.saveAll()
            logger.error(
                "stopped while Elasticsearch could not be reached; what was not delivered is read again next time (the checkpoints cover only what was delivered)"
            )
            throw ExitCode(1)
        }
        if service.outcome == .timedOut {
            CheckpointStore.saveAll()
            logger.error("shutdown_timeout passed before everything was delivered; exiting")
            throw ExitCode(1)
        }
        if engine.hasFailed { throw ExitCode(1) }
        if let failure = CheckpointStore.failure {
            logger.error(
                "the last checkpoint save failed; a restart will read again what was delivered since the last save that succeeded",
                metadata: ["error": "\(failure)"])
            throw ExitCode(1)
        }
        logger.info("pipeline finished", metadata: ["pipeline": "\(config.name)"])
    }
}

/// The engine as a lifecycle service: graceful shutdown stops the inputs; `run` returns once
/// everything read has been delivered, or `shutdown_timeout` after the stop request.
final class PipelineService: Service, @unchecked Sendable {
    enum Outcome { case finished, timedOut, unreachable }

    let engine: Pipeline
    let shutdownTimeout: Duration
    let logger: Logger
    private let lock = NSLock()
    private var stopRequested: ContinuousClock.Instant?
    private(set) var outcome = Outcome.finished
    /// Called once the engine has finished by itself (not stopped by a signal).
    var finished: (@Sendable () -> Void)?

    /// True while some output never answered the health check: a stop then waits only briefly.
    let unreachable: @Sendable () -> Bool

    init(engine: Pipeline, shutdownTimeout: Duration, logger: Logger, unreachable: @escaping @Sendable () -> Bool = { false }) {
        self.engine = engine
        self.unreachable = unreachable
        self.shutdownTimeout = shutdownTimeout
        self.logger = logger
    }

    func run() async throws {
        engine.start()
        await withGracefulShutdownHandler {
            await waitForEngine()
            if lock.withLock({ stopRequested == nil }) { finished?() }
        } onGracefulShutdown: { [self] in
            logger.info("stopping: inputs stop reading, queued events drain")
            lock.withLock { stopRequested = .now }
            engine.stop()
        }
    }

    /// Waits on a plain thread (the engine's threads block; the cooperative pool must not).
    private func waitForEngine() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread { [self] in
                while true {
                    if engine.wait(timeout: 0.1) { break }
                    let started = lock.withLock { stopRequested }
                    if let started, ContinuousClock.now - started > shutdownTimeout {
                        lock.withLock { outcome = .timedOut }
                        break
                    }
                    if let started, ContinuousClock.now - started > .seconds(1), unreachable() {
                        lock.withLock { outcome = .unreachable }
                        break
                    }
                }
                done.resume()
            }
        }
    }
}
