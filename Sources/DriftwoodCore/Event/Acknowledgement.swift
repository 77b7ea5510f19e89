import Synchronization

/// The acknowledgement path: a counter of deliveries still owed for a group of events (usually
/// one input batch). Each event made from the group that an output must accept adds one; each
/// acceptance, or a drop, takes one. When it reaches zero the input is told, so a file input can
/// move its checkpoint past those lines.
public final class Acknowledgement: Sendable {
    private let pending: Atomic<Int>
    private let onComplete: @Sendable () -> Void

    /// A group owing `count` deliveries; `onComplete` runs once, on the thread that settles the last.
    public init(count: Int, onComplete: @escaping @Sendable () -> Void) {
        self.pending = Atomic(count)
        self.onComplete = onComplete
        if count == 0 { onComplete() }
    }

    /// Deliveries still owed.
    public var outstanding: Int { pending.load(ordering: .acquiring) }

    /// Adds `n` owed deliveries (an event fanned out to more outputs, or a filter-made event).
    public func add(_ n: Int) {
        guard n != 0 else { return }
        pending.wrappingAdd(n, ordering: .relaxed)
    }

    /// Settles `n` deliveries (accepted by an output, or dropped on purpose).
    public func settle(_ n: Int) {
        guard n != 0 else { return }
        let (_, now) = pending.wrappingSubtract(n, ordering: .acquiringAndReleasing)
        precondition(now >= 0, "acknowledgement settled more often than owed")
        if now == 0 { onComplete() }
    }
}

extension Sequence where Element == Event {
    /// Counts the events of each acknowledgement group: (group, count) pairs, in first-seen order.
    /// Events from one input batch share a group, so this is usually one pair.
    public func acknowledgementCounts() -> [(Acknowledgement, Int)] {
        var result: [(Acknowledgement, Int)] = []
        for event in self {
            guard let ack = event.acknowledgement else { continue }
            if let k = result.lastIndex(where: { $0.0 === ack }) {
                result[k].1 += 1
            } else {
                result.append((ack, 1))
            }
        }
        return result
    }

    /// Settles one delivery for every event: an output calls this once a batch is accepted.
    public func settleAcknowledgements() {
        for (ack, n) in acknowledgementCounts() { ack.settle(n) }
    }
}
