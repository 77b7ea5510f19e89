import DriftwoodCore
import Foundation
import Logging

extension Pipeline {
    /// What a reload puts in place (`PipelineBuilder.swap` builds it from two pipeline files).
    public struct Swap {
        /// The new filters in order: kept stateful filters are the running instances.
        var filters: [FilterStage]
        /// The filters again for the further filter workers (their stateless start is used).
        var copies: [[FilterStage]]
        var outputs: [OutputPlan]
        var inputs: [InputPlan]
    }

    enum OutputPlan {
        /// The running output with this id goes on, with its queue.
        case keep(String)
        /// A new output; one running with the same id delivers what it holds and closes first.
        case start(OutputStage)
    }

    enum InputPlan {
        /// The running input with this id goes on (its handles, positions and checkpoints).
        case keep(String)
        /// A new input.
        case start(String, any Input, fingerprints: Bool)
        /// The running input with this id stops; once everything it read is delivered (so its
        /// checkpoints cover it), the new one is built and started.
        case restart(String, fingerprints: Bool, @Sendable () throws -> any Input)
    }

    /// What `swap` did.
    public enum SwapOutcome: Sendable {
        /// In place; `stalled`: how long the inputs were held.
        case swapped(stalled: Duration)
        /// Not applied: the pipeline is not running (not started, stopping, or finishing).
        case notRunning(String)
    }

    /// The running filter stages by id (a reload keeps the instances of unchanged stateful ones).
    public var runningFilters: [String: FilterStage] {
        Dictionary(current.filters.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// True when one of these running outputs derives ids from origins (its inputs must then
    /// fill in what fingerprints need).
    func usesFingerprints(outputs ids: Set<String>) -> Bool {
        current.outputs.contains { ids.contains($0.stage.id) && $0.stage.output.usesFingerprints }
    }

    /// Whether each running input was built to fill in fingerprints.
    var inputsWithFingerprints: [String: Bool] {
        Dictionary(lock.withLock { inputRuns }.map { ($0.id, $0.fingerprints) }, uniquingKeysWith: { a, _ in a })
    }

    /// Replaces the stages: holds the inputs at their next batch, lets everything already read
    /// through the running filters into the running outputs' queues, puts the new layout in
    /// place, and lets the inputs go on. Outputs that leave deliver what they hold, then close;
    /// inputs that leave stop, and close once what they read is delivered.
    func swap(_ plan: Swap) -> SwapOutcome {
        reloading.lock()
        defer { reloading.unlock() }
        // While the swap runs it counts as an input, so the filter queue cannot close under it.
        let refusal = lock.withLock { () -> String? in
            if !started { return "the pipeline has not started" }
            if stopping { return "the pipeline is stopping" }
            if liveInputs == 0 || filterQueue.isClosed { return "every input has finished; the pipeline is finishing" }
            liveInputs += 1
            return nil
        }
        if let refusal { return .notRunning(refusal) }
        defer { inputEnded() }

        let held = ContinuousClock.now
        filterQueue.pauseAndDrain()
        let old = current

        // Outputs: kept ones go on with their queue; a new one with a running id waits for it.
        let running = Dictionary(old.outputs.map { ($0.stage.id, $0) }, uniquingKeysWith: { a, _ in a })
        var outputs: [OutputRun] = []
        var starting: [(OutputRun, OutputRun?)] = []
        for entry in plan.outputs {
            switch entry {
            case .keep(let id):
                if let run = running[id] { outputs.append(run) }
            case .start(let stage):
                let run = OutputRun(stage: stage, limits: limits)
                outputs.append(run)
                starting.append((run, running[stage.id]))
            }
        }
        let kept = Set(outputs.map { ObjectIdentifier($0) })
        let leaving = old.outputs.filter { !kept.contains(ObjectIdentifier($0)) }

        let keeper = stateKeeper(for: plan.filters, replacing: old.keeper)
        let layout = StageLayout(
            filters: plan.filters, copies: plan.copies, workers: workers,
            firstSequence: filterQueue.sequenceOfNextBatch, outputs: outputs, keeper: keeper)

        // Inputs.
        let (stopped, restarts, newInputs) = lock.withLock { () -> ([InputRun], [Restart], [InputRun]) in
            let runningInputs = Dictionary(inputRuns.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            var runs: [InputRun] = []
            var fresh: [InputRun] = []
            var restarts: [Restart] = []
            for entry in plan.inputs {
                switch entry {
                case .keep(let id):
                    if let run = runningInputs[id] { runs.append(run) }
                case .start(let id, let input, let fingerprints):
                    let run = InputRun(id: id, input: input, fingerprints: fingerprints)
                    runs.append(run)
                    fresh.append(run)
                case .restart(let id, let fingerprints, let make):
                    // Listed until its successor starts, so a stop reaches it.
                    if let run = runningInputs[id] {
                        runs.append(run)
                        restarts.append(Restart(run: run, fingerprints: fingerprints, make: make))
                    }
                }
            }
            let staying = Set(runs.map { ObjectIdentifier($0) })
            let removed = inputRuns.filter { !staying.contains(ObjectIdentifier($0)) }
            inputRuns = runs
            // Each successor counts as live from now: its predecessor ending must not close the queue.
            liveInputs += fresh.count + restarts.count
            liveOutputs += starting.count
            droppedByReplacedFilters += old.chains.reduce(0) { $0 + $1.droppedTotal.value }
            self.layout = layout
            // A stop that came after the check above saw the old inputs only: these stop too
            // (an input's stop holds when it comes before its run).
            if stopping { for run in fresh { run.input.stop() } }
            return (removed, restarts, fresh)
        }
        filterQueue.resume()
        let stalled = ContinuousClock.now - held

        for (run, previous) in starting { startOutput(run, after: previous) }
        // What they hold was read before the swap; they deliver it, then close.
        for run in leaving { run.queue.close() }
        for run in newInputs { startInput(run) }
        for run in stopped { retire(run) }
        for restart in restarts { replace(restart) }
        return .swapped(stalled: stalled)
    }

    /// The keeper of the new filters' state: the running one when the same stateful instances
    /// stay; otherwise the running one saves what it holds and a new one takes over, restoring
    /// only the stateful filters that were not running.
    private func stateKeeper(for filters: [FilterStage], replacing old: FilterStateKeeper?) -> FilterStateKeeper? {
        func persistent(_ stages: [FilterStage]) -> [String: ObjectIdentifier] {
            var out: [String: ObjectIdentifier] = [:]
            for stage in stages where stage.filter is any PersistentFilter { out[stage.id] = ObjectIdentifier(stage.filter) }
            return out
        }
        let before = old.map { Dictionary($0.entries.map { ($0.id, ObjectIdentifier($0.filter)) }, uniquingKeysWith: { a, _ in a }) } ?? [:]
        let after = persistent(filters)
        if before == after { return old }
        old?.finish()
        let keeper = FilterStateKeeper(stages: filters, directory: stateDirectory, interval: stateInterval, logger: logger)
        keeper?.restore(except: Set(after.filter { before[$0.key] == $0.value }.keys))
        return keeper
    }

    /// An input the new file no longer has: stops; closes once what it read is delivered.
    private func retire(_ run: InputRun) {
        run.input.stop()
        startThread(name: "retire \(run.id)") { [self] in
            run.waitUntilDelivered { hasEnded }
            run.input.close()
        }
    }

    /// An input whose settings changed: the running one stops; once what it read is delivered
    /// and its checkpoints saved, the new one is built and started in its place.
    private func replace(_ restart: Restart) {
        let run = restart.run
        run.input.stop()
        startThread(name: "restart \(run.id)") { [self] in
            run.waitUntilDelivered { hasEnded }
            run.input.close()
            let successor: InputRun?
            do {
                successor = InputRun(id: run.id, input: try restart.make(), fingerprints: restart.fingerprints)
            } catch {
                logger.error(
                    "reload: the changed input cannot start; it stays stopped",
                    metadata: ["stage": "\(run.id)", "error": "\(error)"])
                failed.store(true, ordering: .relaxed)
                successor = nil
            }
            let start = lock.withLock { () -> Bool in
                guard let successor, !stopping else { return false }
                if let k = inputRuns.firstIndex(where: { $0 === run }) { inputRuns[k] = successor }
                return true
            }
            if start, let successor { startInput(successor) } else { inputEnded() }
        }
    }

    /// An input to build again once its predecessor's events are delivered.
    struct Restart {
        let run: InputRun
        let fingerprints: Bool
        let make: @Sendable () throws -> any Input
    }

    /// True once the outputs have all closed (the run is over).
    var hasEnded: Bool { lock.withLock { filtersEnded && liveOutputs == 0 } }
}
