import DriftwoodCore
import Synchronization

/// What `/health` says about one output: whether it delivers, retries, or is stuck.
///
/// The engine counts the events it hands to the output (`received`); the output's deliveries come
/// from the engine after each `write` that returns, or, for an output with requests in flight
/// (`Output.reportsDeliveries`), from the output itself once the server took them. Failures come
/// from a throwing `write` and from an output's own retry path. One lock per batch or request,
/// never per event.
public final class OutputHealth: Sendable {
    /// `ok`: delivering, or nothing to deliver. `retrying`: the last attempt failed. `blocked`:
    /// events are waiting and nothing was delivered for longer than the threshold.
    public enum State: String, Sendable {
        case ok, retrying, blocked
    }

    /// One output's state at a moment.
    public struct Report: Sendable, Equatable {
        public var state: State
        /// The failure that made it retry; nil once it delivers again.
        public var lastError: String?
        /// Wall-clock time of the last delivery; nil before the first.
        public var lastDelivery: Timestamp?
        /// Events accepted for good: written, acknowledged by the server, or dead-lettered.
        public var eventsDelivered: Int
        /// Events handed to the output and not yet delivered.
        public var eventsPending: Int
        /// Of the delivered: already on the server (409 on `create` with our id).
        public var eventsAlreadyPresent = 0
        /// Of the delivered: written to the dead-letter file.
        public var eventsDeadLettered = 0
    }

    struct Record {
        var received = 0
        var delivered = 0
        var alreadyPresent = 0
        var deadLettered = 0
        var lastError: String?
        var lastDelivery: Timestamp?
        /// The last delivery, or when work arrived after the output had none: blocked time counts from here.
        var progressAt: ContinuousClock.Instant
    }

    /// The output's stage id.
    public let output: String
    private let record: Mutex<Record>

    public init(output: String, now: ContinuousClock.Instant = .now) {
        self.output = output
        record = Mutex(Record(progressAt: now))
    }

    /// The engine handed `n` events to the output.
    public func received(_ n: Int, now: ContinuousClock.Instant = .now) {
        guard n > 0 else { return }
        record.withLock {
            if $0.received == $0.delivered { $0.progressAt = now }
            $0.received += n
        }
    }

    /// `n` events were accepted for good; a failure before is over.
    public func delivered(_ n: Int, now: ContinuousClock.Instant = .now, at wall: Timestamp = .now()) {
        guard n > 0 else { return }
        record.withLock {
            $0.delivered += n
            $0.progressAt = now
            $0.lastDelivery = wall
            $0.lastError = nil
        }
    }

    /// Of the events delivered, `n` were already on the server (409 on `create`).
    public func alreadyPresent(_ n: Int) {
        guard n > 0 else { return }
        record.withLock { $0.alreadyPresent += n }
    }

    /// Of the events delivered, `n` went to the dead-letter file.
    public func deadLettered(_ n: Int) {
        guard n > 0 else { return }
        record.withLock { $0.deadLettered += n }
    }

    /// An attempt failed and will be retried.
    public func failed(_ error: String) {
        record.withLock { $0.lastError = error }
    }

    /// The state now: `blocked` when events wait and nothing was delivered for longer than
    /// `unhealthyAfter`, else `retrying` after a failure, else `ok`.
    public func report(now: ContinuousClock.Instant = .now, unhealthyAfter: Duration) -> Report {
        record.withLock { r in
            let pending = r.received - r.delivered
            let state: State
            if pending > 0 && now - r.progressAt > unhealthyAfter {
                state = .blocked
            } else if r.lastError != nil {
                state = .retrying
            } else {
                state = .ok
            }
            return Report(
                state: state, lastError: r.lastError, lastDelivery: r.lastDelivery, eventsDelivered: r.delivered,
                eventsPending: max(pending, 0), eventsAlreadyPresent: r.alreadyPresent, eventsDeadLettered: r.deadLettered)
        }
    }
}
