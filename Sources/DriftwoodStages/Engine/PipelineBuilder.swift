import DriftwoodCore
import Logging

/// Turns a checked pipeline file into running stages.
public enum PipelineBuilder {
    /// Why a stage could not be built (a file that vanished since `check`, a port in use, …).
    public struct BuildError: Error, CustomStringConvertible {
        public let path: String
        public let type: String
        public let reason: String
        public var description: String { "\(path) (\(type)): \(reason)" }
    }

    public static func environment(for spec: StageSpec, config: PipelineConfig, logger: Logger, hostName: String)
        -> StageEnvironment
    {
        var stageLogger = logger
        stageLogger[metadataKey: "stage"] = "\(spec.id)"
        return StageEnvironment(
            id: spec.id, pipelineName: config.name, dataDir: config.dataDir, logger: stageLogger, hostName: hostName)
    }

    /// The filter stages of a pipeline, in order.
    public static func filters(_ config: PipelineConfig, logger: Logger, hostName: String) throws -> [Pipeline.FilterStage] {
        try config.filters.map { spec in
            let env = environment(for: spec, config: config, logger: logger, hostName: hostName)
            do {
                return Pipeline.FilterStage(id: spec.id, filter: try StageCatalog.makeFilter(spec, env), when: spec.when)
            } catch {
                throw BuildError(path: spec.path, type: spec.type, reason: "\(error)")
            }
        }
    }

    /// How `driftwood run` was asked to read (`--once`, `--from-beginning`).
    public struct ReadOptions: Sendable {
        public var once = false
        public var fromBeginning = false
        public init(once: Bool = false, fromBeginning: Bool = false) {
            self.once = once
            self.fromBeginning = fromBeginning
        }
    }

    /// The whole engine, ready to start.
    public static func pipeline(
        _ config: PipelineConfig, logger: Logger, hostName: String, limits: Pipeline.Limits = Pipeline.Limits(),
        read: ReadOptions = ReadOptions()
    ) throws -> Pipeline {
        let outputs = try config.outputs.map { spec -> Pipeline.OutputStage in
            var env = environment(for: spec, config: config, logger: logger, hostName: hostName)
            let health = OutputHealth(output: spec.id)
            env.health = health
            do {
                return Pipeline.OutputStage(
                    id: spec.id, output: try StageCatalog.makeOutput(spec, env), when: spec.when, health: health)
            } catch {
                throw BuildError(path: spec.path, type: spec.type, reason: "\(error)")
            }
        }
        let fingerprints = outputs.contains { $0.output.usesFingerprints }
        let inputs = try config.inputs.map { spec -> (id: String, input: any Input) in
            var env = environment(for: spec, config: config, logger: logger, hostName: hostName)
            env.fingerprints = fingerprints
            env.once = read.once
            env.ignoreCheckpoints = read.fromBeginning
            do { return (spec.id, try StageCatalog.makeInput(spec, env)) } catch {
                throw BuildError(path: spec.path, type: spec.type, reason: "\(error)")
            }
        }
        // Filter chains that start with stateless filters run on two workers (the machine's
        // second core); filters from the first stateful one on keep one instance and run in
        // batch order. Order is restored before the outputs.
        let chain = try filters(config, logger: logger, hostName: hostName)
        let second = chain.first?.filter.isStateless == true
            ? [try filters(config, logger: logger, hostName: hostName)] : []
        return Pipeline(
            inputs: inputs, filters: chain, outputs: outputs, limits: limits, logger: logger,
            extraFilterWorkers: second, stateDirectory: config.dataDir + "/state")
    }
}
