import DriftwoodCore

/// The filters of a pipeline, applied in file order to a batch (the engine's filter thread, and
/// `driftwood test`). Not thread-safe: one thread runs it.
public final class FilterChain: @unchecked Sendable {
    let stages: [Pipeline.FilterStage]
    let metrics: [StageMetrics]

    public init(_ stages: [Pipeline.FilterStage]) {
        self.stages = stages
        self.metrics = stages.map { StageMetrics(stage: $0.id, filter: true) }
    }

    /// Applies every filter to `batch` (or the filters in `range`); events whose `when` does not
    /// match pass a filter unchanged.
    public func run(_ batch: inout [Event], scratch: inout [Event], stages range: Range<Int>? = nil) {
        for k in range ?? stages.indices {
            let m = metrics[k]
            let filter = stages[k].filter
            let when = stages[k].when
            let before = batch.count
            m.eventsIn(before)
            scratch.removeAll(keepingCapacity: true)
            // Each event is moved out of the batch, in order, never copied: no reference
            // counting per event (reversing and popping swapped, and so retained, every event).
            // The moved-from slots get `Event.empty`, which owns no memory.
            batch.withUnsafeMutableBufferPointer { events in
                guard let base = events.baseAddress else { return }
                for i in 0..<events.count {
                    let event = (base + i).move()
                    if let when, !when.matches(event.fields) {
                        scratch.append(event)
                    } else {
                        filter.apply(event, into: &scratch)
                    }
                }
                base.initialize(repeating: Event.empty, count: events.count)
            }
            batch.removeAll(keepingCapacity: true)
            swap(&batch, &scratch)
            m.eventsOut(batch.count)
            // Net of events a filter added (alerts), so a batch that lost some counts them.
            if before > batch.count { m.dropped(before - batch.count, reason: "filtered") }
        }
    }
}
