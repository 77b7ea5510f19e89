import DriftwoodCore
import Logging

/// Applies a checked pipeline file to a running pipeline (SIGHUP, `run --watch`).
public enum PipelineReload {
    public enum Outcome: Sendable {
        /// The new file configures exactly the running stages.
        case unchanged
        /// In place; `stalled`: how long the inputs were held.
        case swapped(PipelineChange, stalled: Duration)
        /// Nothing changed in the running pipeline; why.
        case failed(String)
    }

    /// `new` with the settings that need a restart (`PipelineChange.needsRestart`) as `old` runs them.
    public static func runnable(_ new: PipelineConfig, over old: PipelineConfig) -> PipelineConfig {
        var runnable = new
        runnable.dataDir = old.dataDir
        runnable.name = old.name
        runnable.metricsAddress = old.metricsAddress
        return runnable
    }

    /// Compares `new` with `old` (what `engine` runs), builds what changed and swaps it in.
    /// Pipeline settings that need a restart (`data_dir`, `name`, `metrics.address`) keep their
    /// running values; the caller logs `PipelineChange.needsRestart`.
    public static func apply(
        _ new: PipelineConfig, over old: PipelineConfig, to engine: Pipeline, read: PipelineBuilder.ReadOptions,
        logger: Logger, hostName: String
    ) -> Outcome {
        let new = runnable(new, over: old)
        let change = PipelineChange(from: old, to: new)
        if change.isEmpty { return .unchanged }
        let plan: Pipeline.Swap
        do {
            plan = try PipelineBuilder.swap(
                engine, from: old, to: new, change: change, read: read, logger: logger, hostName: hostName)
        } catch {
            return .failed("\(error)")
        }
        switch engine.swap(plan) {
        case .swapped(let stalled):
            return .swapped(change, stalled: stalled)
        case .notRunning(let why):
            // Built but never started: let them release what they opened.
            for case .start(let stage) in plan.outputs { try? stage.output.close() }
            for case .start(_, let input, _) in plan.inputs { input.close() }
            return .failed(why)
        }
    }
}
