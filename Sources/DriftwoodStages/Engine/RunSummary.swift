import Logging

/// What `driftwood run` logs when it ends (finished, or stopped by SIGINT/SIGTERM): one line per
/// input (events read, where its checkpoints are), one for the filters (events dropped, failure
/// tags), one per output (received, delivered, of those already present and dead-lettered, and
/// what was not delivered). docs/running.md describes them.
public enum RunSummary {
    /// The lines, as (message, metadata), in pipeline order.
    public static func lines(_ pipeline: Pipeline, dataDir: String) -> [(String, Logger.Metadata)] {
        var out: [(String, Logger.Metadata)] = []
        for (id, input, events) in pipeline.inputsRead {
            let metadata: Logger.Metadata = [:]
            var text = "input \(id): read \(events) events"
            if let file = input as? FileInput {
                text += "; checkpoints in \(file.store.path)"
            }
            out.append(("summary: " + text, metadata))
        }
        let dropped = pipeline.eventsDroppedByFilters
        let tags = FailureTally.shared.totals()
        if !pipeline.filters.isEmpty || !tags.isEmpty {
            let metadata: Logger.Metadata = [:]
            var text = "filters: dropped \(dropped) events"
            if !tags.isEmpty {
                let list = tags.keys.sorted().map { "\($0)=\(tags[$0]!)" }.joined(separator: " ")
                text += "; tagged \(list) (docs/events.md)"
            }
            out.append(("summary: " + text, metadata))
        }
        for health in pipeline.outputHealth {
            let r = health.report(unhealthyAfter: .seconds(1 << 40))
            let received = r.eventsDelivered + r.eventsPending
            var text =
                "output \(health.output): received \(received), delivered \(r.eventsDelivered)"
                + " (already present \(r.eventsAlreadyPresent), dead letters \(r.eventsDeadLettered))"
            if r.eventsPending > 0 { text += ", NOT delivered \(r.eventsPending)" }
            if let error = r.lastError, r.eventsPending > 0 { text += "; last error: \(error)" }
            out.append(("summary: " + text, [:]))
        }
        return out
    }

    /// Logs the lines at notice level.
    public static func log(_ pipeline: Pipeline, dataDir: String, logger: Logger) {
        for (message, metadata) in lines(pipeline, dataDir: dataDir) {
            logger.notice("\(message)", metadata: metadata)
        }
    }
}
