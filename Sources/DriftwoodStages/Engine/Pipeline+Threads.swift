import DriftwoodCore
import Foundation

extension Pipeline {
    /// A filter worker: takes batches from the filter queue, runs the filters of the layout in
    /// place, routes the batch to the outputs and hands it on in batch order.
    func runFilters(worker k: Int) {
        var batch = EventBatch()
        while true {
            // A quarter of a second at most: with state to save, an idle pipeline still saves
            // it, so checkpoints can move.
            let status = filterQueue.pop(into: &batch, timeout: 0.25)
            if status == .closed { break }
            let layout = current
            if status == .timedOut {
                if let keeper = layout.keeper {
                    if let turnstile = layout.turnstile { turnstile.whenFree { keeper.idle() } } else { keeper.idle() }
                }
                filterQueue.finished()
                continue
            }
            let chain = layout.chains[k]
            if let turnstile = layout.turnstile {
                chain.run(&batch.events, stages: 0..<layout.parallelStages)
                turnstile.pass(batch.sequence) {
                    chain.run(&batch.events, stages: layout.parallelStages..<layout.filters.count)
                    layout.keeper?.afterBatch(batch.acknowledgement)
                }
            } else {
                chain.run(&batch.events)
                layout.keeper?.afterBatch(batch.acknowledgement)
            }
            let routed = route(&batch, to: layout.outputs)
            // Every batch in flight belongs to this layout: a reload swaps only when none is.
            sequencer.submit(routed) { deliver($0, to: layout.outputs) }
            filterQueue.finished()
        }
        let last = lock.withLock { () -> StageLayout? in
            liveWorkers -= 1
            guard liveWorkers == 0 else { return nil }
            filtersEnded = true
            return self.layout
        }
        if let last {
            last.keeper?.finish()
            for run in last.outputs { run.queue.close() }
        }
    }

    /// A filtered batch split per output (by each output's `when`) and encoded by each output
    /// that encodes ahead, still on the filter worker's thread.
    struct RoutedBatch: Sendable {
        var sequence: UInt64
        var acknowledgement: Acknowledgement?
        var parts: [EventBatch]
    }

    /// Takes the batch (leaving `batch` empty).
    func route(_ batch: inout EventBatch, to outputs: [OutputRun]) -> RoutedBatch {
        let sequence = batch.sequence
        let acknowledgement = batch.acknowledgement
        var parts: [EventBatch] = []
        parts.reserveCapacity(outputs.count)
        for (k, run) in outputs.enumerated() {
            let stage = run.stage
            var part: EventBatch
            if let when = stage.when {
                part = EventBatch(events: batch.events.filter { when.matches($0.fields) }, acknowledgement: acknowledgement)
            } else if k == outputs.count - 1 {
                // The last output takes the batch itself, so its events are uniquely owned and an
                // output that encodes ahead can recycle their buffers.
                part = EventBatch()
                Swift.swap(&part, &batch)
            } else {
                part = batch
            }
            part.eventCount = part.events.count
            if part.isEmpty {
                parts.append(part)
            } else {
                parts.append(stage.output.encode(consume part))
            }
        }
        batch = EventBatch()
        return RoutedBatch(sequence: sequence, acknowledgement: acknowledgement, parts: parts)
    }

    /// Hands the parts to the outputs, in order. The batch owes one delivery per output that gets
    /// events; they are owed before the input's hold is settled, so the count cannot reach zero early.
    func deliver(_ routed: consuming RoutedBatch, to outputs: [OutputRun]) {
        let acknowledgement = routed.acknowledgement
        acknowledgement?.add(routed.parts.filter { !$0.isEmpty }.count)
        for k in outputs.indices where !routed.parts[k].isEmpty {
            let size = Self.byteCount(routed.parts[k])
            outputs[k].queue.push(moving: &routed.parts[k], bytes: size)
        }
        acknowledgement?.settle(1)
    }

    func runOutput(_ run: OutputRun) {
        let stage = run.stage
        let m = run.metrics
        let queue = run.queue
        // A throwing write (a full disk) is tried again, with the backoff every output shares.
        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(30))
        loop: while true {
            switch queue.pop(timeout: stage.flushInterval) {
            case .batch(let batch):
                m.eventsIn(batch.count)
                stage.health.received(batch.count)
                var attempt = 0
                while true {
                    do {
                        try stage.output.write(batch)
                        break
                    } catch {
                        // Keep the batch: at-least-once delivery retries until it is accepted.
                        attempt += 1
                        let delay = backoff.delay(attempt: attempt)
                        logger.error(
                            "output failed; retrying",
                            metadata: [
                                "stage": "\(stage.id)", "error": "\(error)", "attempt": "\(attempt)",
                                "retry_in": "\(ConfigUnits.describe(delay))",
                            ])
                        stage.health.failed("\(error)")
                        Thread.sleep(forTimeInterval: delay.seconds)
                    }
                }
                m.eventsOut(batch.count)
            case .timedOut:
                do { try stage.output.flush() } catch {
                    logger.error("flush failed", metadata: ["stage": "\(stage.id)", "error": "\(error)"])
                    stage.health.failed("flush failed: \(error)")
                }
            case .closed:
                break loop
            }
        }
        do { try stage.output.close() } catch {
            logger.error("close failed", metadata: ["stage": "\(stage.id)", "error": "\(error)"])
            failed.store(true, ordering: .relaxed)
        }
    }
}
