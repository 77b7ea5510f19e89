import Synchronization

/// A count several threads add to (per batch, never per event).
public final class EventCount: Sendable {
    private let count = Atomic<Int>(0)
    public init() {}
    public func add(_ n: Int) { if n != 0 { count.add(n, ordering: .relaxed) } }
    public var value: Int { count.load(ordering: .relaxed) }
}
