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
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a pipeline.")

    @Argument(help: "The pipeline file.") var pipeline: String
    @Option(name: .long, help: "Overrides the pipeline's data_dir (checkpoints, dead letters).") var dataDir: String?
    @Option(name: .long, help: "HOST:PORT for /metrics and /health; overrides metrics.address.")
    var metricsAddress: String?
    @OptionGroup var log: LogOptions

    func run() async throws {
        MemoryTuning.keepFreedBuffers()
        let logger = try log.bootstrap()
        var config = try PipelineFile.load(pipeline)
        if let dataDir { config.dataDir = dataDir }
        if let metricsAddress {
            guard HostPort(metricsAddress) != nil else {
                throw ValidationError("--metrics-address must be HOST:PORT, like 127.0.0.1:9600")
            }
            config.metricsAddress = metricsAddress
        }
        // Before any stage exists, so every counter the stages create is a Prometheus one.
        let endpoints = MetricsEndpoints(registry: PrometheusExport.bootstrap(), unhealthyAfter: config.unhealthyAfter)
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
        do {
            engine = try PipelineBuilder.pipeline(config, logger: logger, hostName: PipelineFile.hostName)
        } catch {
            logger.critical("cannot start the pipeline", metadata: ["error": "\(error)"])
            await server?.close()
            throw ExitCode(1)
        }
        endpoints.watch(engine)
        logger.info(
            "pipeline started",
            metadata: [
                "pipeline": "\(config.name)", "inputs": "\(config.inputs.count)", "filters": "\(config.filters.count)",
                "outputs": "\(config.outputs.count)",
            ])
        let service = PipelineService(engine: engine, shutdownTimeout: config.shutdownTimeout, logger: logger)
        // Services stop in reverse order: the metrics server answers until the pipeline has drained.
        var services = [ServiceGroupConfiguration.ServiceConfiguration]()
        if let server { services.append(.init(service: server)) }
        services.append(.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup))
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        // A second signal exits at once; checkpoints then cover only what was delivered.
        let watcher = Task.detached {
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
        try await group.run()
        watcher.cancel()
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
    enum Outcome { case finished, timedOut }

    let engine: Pipeline
    let shutdownTimeout: Duration
    let logger: Logger
    private let lock = NSLock()
    private var stopRequested: ContinuousClock.Instant?
    private(set) var outcome = Outcome.finished

    init(engine: Pipeline, shutdownTimeout: Duration, logger: Logger) {
        self.engine = engine
        self.shutdownTimeout = shutdownTimeout
        self.logger = logger
    }

    func run() async throws {
        engine.start()
        await withGracefulShutdownHandler {
            await waitForEngine()
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
                }
                done.resume()
            }
        }
    }
}
