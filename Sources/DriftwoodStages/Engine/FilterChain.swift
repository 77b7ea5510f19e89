import DriftwoodCore

/// The filters of a pipeline, applied in file order to a batch (the engine's filter thread, and
/// `driftwood test`). Not thread-safe: one thread runs it.
public final class FilterChain: @unchecked Sendable {
    let stages: [Pipeline.FilterStage]
    let metrics: [StageMetrics]

    public init(_ stages: [Pipeline.FilterStage]) {
        self.stages = stages
        self.metrics = stages.map { StageMetrics(stage: $0.id) }
    }

    /// Applies every filter to `batch`; events whose `when` does not match pass a filter unchanged.
    public func run(_ batch: inout [Event], scratch: inout [Event]) {
        for (k, stage) in stages.enumerated() {
            let m = metrics[k]
            m.eventsIn(batch.count)
            scratch.removeAll(keepingCapacity: true)
            for i in batch.indices {
                // Move the event out (no reference counting), leaving an empty one behind.
                var event = Event.empty
                swap(&event, &batch[i])
                if let when = stage.when, !when.matches(event.fields) {
                    scratch.append(event)
                } else {
                    stage.filter.apply(event, into: &scratch)
                }
            }
            swap(&batch, &scratch)
            m.eventsOut(batch.count)
            if scratch.count > batch.count { m.dropped(scratch.count - batch.count, reason: "filtered") }
        }
    }
}
