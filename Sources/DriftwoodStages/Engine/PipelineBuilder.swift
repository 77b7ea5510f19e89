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
        let outputs = try config.outputs.map { try output($0, config, logger: logger, hostName: hostName) }
        let fingerprints = outputs.contains { $0.output.usesFingerprints }
        let inputs = try config.inputs.map { spec -> (id: String, input: any Input) in
            (spec.id, try input(spec, config, fingerprints: fingerprints, read: read, logger: logger, hostName: hostName))
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

    static func output(_ spec: StageSpec, _ config: PipelineConfig, logger: Logger, hostName: String) throws
        -> Pipeline.OutputStage
    {
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

    static func input(
        _ spec: StageSpec, _ config: PipelineConfig, fingerprints: Bool, read: ReadOptions, logger: Logger,
        hostName: String
    ) throws -> any Input {
        var env = environment(for: spec, config: config, logger: logger, hostName: hostName)
        env.fingerprints = fingerprints
        env.once = read.once
        env.ignoreCheckpoints = read.fromBeginning
        do { return try StageCatalog.makeInput(spec, env) } catch {
            throw BuildError(path: spec.path, type: spec.type, reason: "\(error)")
        }
    }

    /// What replaces the running pipeline (built from `old`) with `new`: the stages whose id and
    /// settings are unchanged stay (stateful filters keep their instance, so their windows and
    /// joins); the others are built now, except changed inputs, built once their predecessor's
    /// events are delivered. Throws `BuildError` (nothing running is touched then).
    static func swap(
        _ engine: Pipeline, from old: PipelineConfig, to new: PipelineConfig, change: PipelineChange, read: ReadOptions,
        logger: Logger, hostName: String
    ) throws -> Pipeline.Swap {
        let kept = (
            inputs: Set(change.inputs.kept), filters: Set(change.filters.kept), outputs: Set(change.outputs.kept)
        )
        let runningFilters = engine.runningFilters
        var outputPlan: [Pipeline.OutputPlan] = []
        var built: [Pipeline.OutputStage] = []
        do {
            for spec in new.outputs {
                if kept.outputs.contains(spec.id) {
                    outputPlan.append(.keep(spec.id))
                } else {
                    let stage = try output(spec, new, logger: logger, hostName: hostName)
                    built.append(stage)
                    outputPlan.append(.start(stage))
                }
            }
        } catch {
            // Built but never started: let them release what they opened.
            for stage in built { try? stage.output.close() }
            throw error
        }
        let fingerprints = engine.usesFingerprints(outputs: kept.outputs) || built.contains { $0.output.usesFingerprints }
        let filled = engine.inputsWithFingerprints
        // The flag is about the files found at the start.
        let read = ReadOptions(once: read.once, fromBeginning: false)
        var inputPlan: [Pipeline.InputPlan] = []
        for spec in new.inputs {
            // An input built without what fingerprints need cannot feed an output that derives ids.
            if kept.inputs.contains(spec.id) && (filled[spec.id] == true || !fingerprints) {
                inputPlan.append(.keep(spec.id))
            } else if change.inputs.added.contains(spec.id) {
                let made = try input(spec, new, fingerprints: fingerprints, read: read, logger: logger, hostName: hostName)
                inputPlan.append(.start(spec.id, made, fingerprints: fingerprints))
            } else {
                inputPlan.append(
                    .restart(spec.id, fingerprints: fingerprints) {
                        try input(spec, new, fingerprints: fingerprints, read: read, logger: logger, hostName: hostName)
                    })
            }
        }
        // Stateless filters are built afresh (a registry re-read); unchanged stateful ones stay.
        let fresh = try filters(new, logger: logger, hostName: hostName)
        let chain = zip(new.filters, fresh).map { spec, stage -> Pipeline.FilterStage in
            if kept.filters.contains(spec.id), let running = runningFilters[spec.id], !running.filter.isStateless {
                return running
            }
            return stage
        }
        let copies = engine.workers > 1 ? try (1..<engine.workers).map { _ in try filters(new, logger: logger, hostName: hostName) } : []
        return Pipeline.Swap(filters: chain, copies: copies, outputs: outputPlan, inputs: inputPlan)
    }
}
