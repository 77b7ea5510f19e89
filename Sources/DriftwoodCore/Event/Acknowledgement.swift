import Synchronization

/// The acknowledgement path: a counter of deliveries still owed for one input batch. The input
/// holds one until the filters are done; the engine adds one for each output that receives events
/// of the batch; each output settles one once it has accepted them. When it reaches zero the input
/// is told, so a file input can move its checkpoint past those lines.
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
